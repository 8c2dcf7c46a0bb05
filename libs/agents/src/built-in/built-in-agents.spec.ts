import { AGENT, INTENTS, knowledgeOutputSchema, reportingOutputSchema, triageOutputSchema } from '@herald/contracts';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import { MemoryKnowledgeBase } from '../knowledge/memory-knowledge-base';
import { LocalEngine } from '../models/local/local-engine';
import { AgentRegistry } from '../sdk/agent-registry';
import { MemoryEventSink } from '../sdk/memory-event-sink';
import { runAgent, type RunAgentOptions } from '../sdk/run-agent';
import { builtInAgents } from './built-in-agents';
import { knowledgeAgent } from './knowledge.agent';
import { reportingAgent } from './reporting.agent';
import { triageAgent } from './triage.agent';

const chunks = [
  { id: 'kb-1', title: 'JetStream', content: 'JetStream is the persistence layer of NATS. It stores messages in streams.' },
  { id: 'kb-2', title: 'Consumers', content: 'Consumers read messages from streams. A durable consumer remembers its position.' },
  { id: 'kb-3', title: 'Redis', content: 'Redis holds the job queues of BullMQ. Workers take jobs from the queues.' },
];

function opts(sink: MemoryEventSink, input: unknown, extra: Partial<RunAgentOptions> = {}): RunAgentOptions {
  return {
    step: { runId: 'run', conversationId: 'conv', messageId: 'msg-9', step: 1, stream: false },
    input,
    history: [],
    traceLevel: 'none',
    sink,
    model: new LocalEngine(),
    resources: { knowledgeBase: new MemoryKnowledgeBase(chunks), agents: new AgentRegistry(builtInAgents) },
    signal: new AbortController().signal,
    ...extra,
  };
}

describe('built-in agents', () => {
  it('are registered under the AGENT names', () => {
    expect(new AgentRegistry(builtInAgents).names().sort()).toEqual([AGENT.data, AGENT.knowledge, AGENT.reporting, AGENT.triage].sort());
  });

  it('make up the plan of each intent from what they declare, reporting last; a report gathers knowledge and data in parallel; data may wait for the user', () => {
    const registry = new AgentRegistry(builtInAgents);
    const plans = Object.fromEntries(INTENTS.map((intent) => [intent, registry.planFor(intent)]));
    const data = { agent: 'data', interactive: true };
    const knowledge = { agent: 'knowledge', interactive: false };
    const reporting = { agent: 'reporting', interactive: false };
    expect(plans).toEqual({
      chitchat: [[reporting]],
      question: [[knowledge], [reporting]],
      data: [[data], [reporting]],
      report: [[knowledge, data], [reporting]],
    });
  });

  describe('triage', () => {
    it('routes a question to knowledge then reporting', async () => {
      const sink = new MemoryEventSink();
      const { output } = await runAgent(
        triageAgent,
        opts(sink, { question: 'How do consumers read streams?', intent: 'question', passages: [] }),
      );
      expect(triageOutputSchema.parse(output)).toEqual({
        intent: 'question',
        confidence: expect.any(Number),
        plan: ['knowledge', 'reporting'],
        interactive: [],
      });
      expect(sink.ofType('status')[0].data).toEqual({ step: 'routing', message: 'Classifying your query…' });
      expect(sink.ofType('agent_thinking')[0].data.thought.length).toBeGreaterThan(10);
    });

    it('plans a report as knowledge and data in parallel, then reporting', async () => {
      const { output } = await runAgent(triageAgent, opts(new MemoryEventSink(), { question: 'Write a report on sales by region' }));
      expect(triageOutputSchema.parse(output)).toMatchObject({
        intent: 'report',
        plan: [['knowledge', 'data'], 'reporting'],
        interactive: ['data'],
      });
    });

    it('routes chitchat straight to reporting', async () => {
      const { output } = await runAgent(triageAgent, opts(new MemoryEventSink(), { question: 'hello!' }));
      expect(output).toMatchObject({ intent: 'chitchat', plan: ['reporting'], interactive: [] });
    });

    it('plans a data question with the data step marked as waiting for the user', async () => {
      const { output } = await runAgent(triageAgent, opts(new MemoryEventSink(), { question: 'What was the revenue by region in 2025?' }));
      expect(output).toMatchObject({ intent: 'data', plan: ['data', 'reporting'], interactive: ['data'] });
    });

    it('routes "Hi there! How are you today?" to reporting only, which answers the small talk: no search', async () => {
      const question = 'Hi there! How are you today?';
      const { output } = await runAgent(triageAgent, opts(new MemoryEventSink(), { question }));
      expect(output).toMatchObject({ intent: 'chitchat', plan: ['reporting'], interactive: [] });
      const sink = new MemoryEventSink();
      const reply = await runAgent(reportingAgent, opts(sink, { question, intent: 'chitchat', passages: [] }));
      expect(reply.output).toMatchObject({ content: expect.stringMatching(/doing well|All good here|Great, thank you/), sources: [] });
      expect(sink.ofType('tool_executing')).toEqual([]);
    });

    it.each(['Show me the numbers', 'How big are the demo tables?'])('plans the data step for %p', async (question) => {
      const { output } = await runAgent(triageAgent, opts(new MemoryEventSink(), { question }));
      expect(output).toMatchObject({ intent: 'data', plan: ['data', 'reporting'], interactive: ['data'] });
    });

    it('puts the reasoning in the trace at full', async () => {
      const sink = new MemoryEventSink();
      await runAgent(triageAgent, opts(sink, { question: 'hello!' }, { traceLevel: 'full' }));
      expect(sink.ofType('agent_thinking')[0].trace).toMatchObject({
        intent: 'chitchat',
        confidence: expect.any(Number),
        reasoning: expect.any(String),
      });
    });
  });

  describe('knowledge', () => {
    it('searches with knowledge_search and returns scored passages', async () => {
      const sink = new MemoryEventSink();
      const { output } = await runAgent(knowledgeAgent, opts(sink, { question: 'How do consumers read messages?', intent: 'question' }));
      const { passages } = knowledgeOutputSchema.parse(output);
      expect(passages.map((p) => p.id)).toEqual(['kb-2']);
      expect(passages[0].score).toBeGreaterThan(0);
      const executing = sink.ofType('tool_executing');
      expect(executing.map((e) => e.data)).toEqual([
        {
          agent: 'knowledge',
          stepId: '1',
          tool: 'knowledge_search',
          callId: 'call_run_1_1',
          input: { query: 'How do consumers read messages?', limit: 5 },
        },
      ]);
      expect(sink.ofType('tool_completed')[0].data).toMatchObject({
        ok: true,
        output: { count: 1, results: [{ id: 'kb-2', title: 'Consumers' }] },
      });
      expect(sink.ofType('status').map((e) => e.data.step)).toEqual(['retrieving', 'grading']);
      expect(sink.ofType('agent_thinking').at(-1)!.data.thought).toMatch(/Kept 1 of 1 passage/);
    });

    it('retries once with any of the significant words when nothing matches them all', async () => {
      const sink = new MemoryEventSink();
      const { output } = await runAgent(
        knowledgeAgent,
        opts(sink, { question: 'Do durable consumers survive a zeppelin?', intent: 'question' }),
      );
      const queries = sink.ofType('tool_executing').map((e) => (e.data.input as { query: string }).query);
      expect(queries).toEqual(['Do durable consumers survive a zeppelin?', 'durable or consumers or survive or zeppelin']);
      expect(knowledgeOutputSchema.parse(output).passages.map((p) => p.id)).toEqual(['kb-2']);
      expect(sink.ofType('agent_thinking')[0].data.thought).toMatch(/any of: durable, consumers, survive, zeppelin/);
    });

    it('drops passages far below the best score', async () => {
      const kb: KnowledgeBase = {
        search: async () => [
          { id: 'a', title: 'A', content: 'a', score: 1 },
          { id: 'b', title: 'B', content: 'b', score: 0.5 },
          { id: 'c', title: 'C', content: 'c', score: 0.05 },
        ],
      };
      const sink = new MemoryEventSink();
      const { output } = await runAgent(knowledgeAgent, opts(sink, { question: 'anything at all' }, { resources: { knowledgeBase: kb } }));
      expect(knowledgeOutputSchema.parse(output).passages.map((p) => p.id)).toEqual(['a', 'b']);
      expect(sink.ofType('agent_thinking').at(-1)!.data.thought).toMatch(/Kept 2 of 3 passages/);
    });

    it('fails the step when the knowledge base is down (tool_completed ok:false first)', async () => {
      const kb: KnowledgeBase = { search: async () => Promise.reject(new Error('connection refused')) };
      const sink = new MemoryEventSink();
      await expect(
        runAgent(knowledgeAgent, opts(sink, { question: 'what is nats' }, { resources: { knowledgeBase: kb } })),
      ).rejects.toThrow();
      expect(sink.ofType('tool_completed')[0].data).toMatchObject({ ok: false, error: expect.any(String) });
      expect(sink.types()).not.toContain('agent_completed');
    });
  });

  describe('reporting', () => {
    const passages = [
      { id: 'kb-2', title: 'Consumers', content: chunks[1].content, score: 0.4 },
      { id: 'kb-1', title: 'JetStream', content: chunks[0].content, score: 0.2 },
    ];

    it('streams deltas that add up to the message, and cites the passages', async () => {
      const sink = new MemoryEventSink();
      const input = { question: 'How do consumers read streams?', intent: 'question', passages };
      const { output, usage } = await runAgent(
        reportingAgent,
        opts(sink, input, { step: { runId: 'run', conversationId: 'conv', messageId: 'msg-9', step: 2, stream: true } }),
      );
      const deltas = sink.ofType('message_delta');
      const [message] = sink.ofType('message');
      expect(deltas.length).toBeGreaterThan(5);
      expect(deltas.every((d) => d.data.messageId === 'msg-9')).toBe(true);
      expect(deltas.map((d) => d.data.delta).join('')).toBe(message.data.content);
      expect(message.data).toMatchObject({
        messageId: 'msg-9',
        role: 'assistant',
        metadata: {
          intent: 'question',
          sources: [
            { id: 'kb-2', title: 'Consumers', score: 0.4 },
            { id: 'kb-1', title: 'JetStream', score: 0.2 },
          ],
        },
      });
      expect(message.data.content).toContain('[1]');
      expect(reportingOutputSchema.parse(output)).toEqual({ content: message.data.content, sources: message.data.metadata.sources });
      expect(usage?.completionTokens).toBeGreaterThan(5);
      expect(sink.ofType('status')[0].data).toEqual({ step: 'generating', message: 'Writing the answer…' });
      const progress = sink.events.map((e) => e.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(progress.at(-1)).toBe(1);
    });

    it('sends no deltas without stream, and no sources for chitchat', async () => {
      const sink = new MemoryEventSink();
      const { output } = await runAgent(reportingAgent, opts(sink, { question: 'thanks!', intent: 'chitchat', passages }));
      expect(sink.ofType('message_delta')).toEqual([]);
      expect(sink.ofType('message')[0].data.metadata).toEqual({ intent: 'chitchat', sources: [] });
      expect(output).toMatchObject({ sources: [] });
    });

    it('uses the history to pick up a follow-up', async () => {
      const sink = new MemoryEventSink();
      await runAgent(
        reportingAgent,
        opts(
          sink,
          { question: 'tell me more', intent: 'question', passages },
          {
            history: [
              { role: 'user', content: 'What is a durable consumer?' },
              { role: 'assistant', content: 'A durable consumer remembers its position.' },
            ],
          },
        ),
      );
      expect(sink.ofType('message')[0].data.content).toContain('A durable consumer remembers its position [1].');
    });

    it('stops streaming when aborted: no message, no agent_completed', async () => {
      const controller = new AbortController();
      const sink = new MemoryEventSink();
      const model = new LocalEngine({ tokenDelayMs: 10 });
      setTimeout(() => controller.abort(new Error('cancelled')), 45);
      await expect(
        runAgent(
          reportingAgent,
          opts(
            sink,
            { question: 'How do consumers read streams?', intent: 'question', passages },
            {
              model,
              signal: controller.signal,
              step: { runId: 'run', conversationId: 'conv', messageId: 'm', step: 2, stream: true },
            },
          ),
        ),
      ).rejects.toThrow('cancelled');
      const count = sink.events.length;
      await new Promise((r) => setTimeout(r, 50));
      expect(sink.events.length).toBe(count);
      expect(sink.ofType('message_delta').length).toBeGreaterThan(0);
      expect(sink.types()).not.toContain('message');
      expect(sink.types()).not.toContain('agent_completed');
    });
  });
});
