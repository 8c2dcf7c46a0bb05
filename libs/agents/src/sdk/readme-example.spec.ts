import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInAgents } from '../built-in/built-in-agents';
import { triageAgent } from '../built-in/triage.agent';
import { ordersAgent } from '../examples/orders.agent';
import { MemoryKnowledgeBase } from '../knowledge/memory-knowledge-base';
import { LocalEngine } from '../models/local/local-engine';
import { AgentRegistry, type AnyAgentDefinition } from './agent-registry';
import type { HumanResponse } from './human-channel';
import { MemoryEventSink } from './memory-event-sink';
import { MemoryHumanChannel } from './memory-human-channel';
import { runAgent } from './run-agent';

const LIB = join(__dirname, '..', '..');
const EXAMPLE = 'src/examples/orders.agent.ts';

/** The ```ts block that follows `<!-- readme-example: <path> -->` in the README. */
function readmeSnippet(path: string): string {
  const readme = readFileSync(join(LIB, 'README.md'), 'utf8');
  const marker = `<!-- readme-example: ${path} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at + marker.length));
  if (!block) throw new Error(`no ts block after ${marker}`);
  return block[1];
}

/** The registry with the example's one line added, as the README shows it. */
const registry = () => new AgentRegistry([...builtInAgents, ordersAgent]);

async function run(agent: AnyAgentDefinition, question: string, answer?: (kind: string) => HumanResponse) {
  const sink = new MemoryEventSink();
  const human = new MemoryHumanChannel(answer && ((request) => answer(request.kind)));
  const result = await runAgent(agent, {
    step: { runId: 'run', conversationId: 'conv', messageId: 'msg', step: 1, stream: false },
    input: { question },
    history: [],
    traceLevel: 'none',
    sink,
    model: new LocalEngine(),
    resources: { knowledgeBase: new MemoryKnowledgeBase([]), agents: registry() },
    signal: new AbortController().signal,
    human,
    humanResponseTimeoutMs: 1_000,
  });
  return { sink, human, output: result.output };
}

describe('the README example agent', () => {
  it('is the file the README shows, verbatim', () => {
    expect(readmeSnippet(EXAMPLE)).toBe(readFileSync(join(LIB, EXAMPLE), 'utf8'));
  });

  it('registered with one line, triage plans it for questions, before knowledge, as waiting for the user', async () => {
    expect(registry().planFor('question')).toEqual([
      [{ agent: 'orders', interactive: true }],
      [{ agent: 'knowledge', interactive: false }],
      [{ agent: 'reporting', interactive: false }],
    ]);
    expect(
      registry()
        .planFor('data')
        .map((stage) => stage.map((s) => s.agent)),
    ).toEqual([['data'], ['reporting']]);
    const { output } = await run(triageAgent, 'What is the status of order 10042?');
    expect(output).toMatchObject({ intent: 'question', plan: ['orders', 'knowledge', 'reporting'], interactive: ['orders'] });
  });

  it('asks for the order number, then looks the order up', async () => {
    const { sink, human, output } = await run(ordersAgent, 'Where is my order?', () => ' 10043 ');
    expect(human.requests.map((r) => r.kind)).toEqual(['clarification']);
    expect(sink.ofType('clarification_requested')[0].data).toMatchObject({ question: 'Which order number?' });
    expect(sink.ofType('tool_completed').map((e) => [e.data.tool, e.data.ok, e.data.output])).toEqual([
      ['order_lookup', true, { status: 'in transit', amount: 12.5 }],
    ]);
    expect(output).toEqual({ notes: ['Order 10043 is in transit.'] });
    expect(sink.ofType('agent_completed')[0].data.summary).toBe('Order 10043 is in transit.');
  });

  it('refunds only with approval; a refusal runs no refund', async () => {
    const granted = await run(ordersAgent, 'Please refund order 10042', () => ({ approved: true }));
    expect(granted.sink.ofType('approval_requested')[0].data).toMatchObject({ action: 'Refund order 10042', details: { amount: 59.9 } });
    expect(granted.sink.ofType('tool_executing').map((e) => e.data.tool)).toEqual(['order_lookup', 'refund']);
    expect(granted.output).toEqual({ notes: ['Order 10042 is refunded (rf_10042, 59.9 USD).'] });

    const refused = await run(ordersAgent, 'Please refund order 10042', () => ({ approved: false }));
    expect(refused.sink.ofType('tool_executing').map((e) => e.data.tool)).toEqual(['order_lookup']);
    expect(refused.output).toEqual({ notes: ['All right, nothing was refunded.'] });
  });

  it('says so when there is no such order, and stays out of questions that are not about orders', async () => {
    expect((await run(ordersAgent, 'What is the status of order 99999?')).output).toEqual({ notes: ['There is no order 99999.'] });
    const other = await run(ordersAgent, 'What is JetStream?');
    expect(other.output).toEqual({ notes: [] });
    expect(other.sink.ofType('tool_executing')).toEqual([]);
  });
});
