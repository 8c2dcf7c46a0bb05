import { HeraldError } from '@herald/contracts';
import { MemoryKnowledgeBase } from '../knowledge/memory-knowledge-base';
import { LocalEngine } from '../models/local/local-engine';
import type { AgentContext } from './agent-context';
import { defineAgent } from './agent-definition';
import { ApprovalRefused } from './errors';
import { MemoryEventSink } from './memory-event-sink';
import { MemoryHumanChannel } from './memory-human-channel';
import { runAgent, type RunAgentOptions } from './run-agent';

function run(body: (ctx: AgentContext) => Promise<Record<string, unknown>>, overrides: Partial<RunAgentOptions> = {}) {
  const sink = new MemoryEventSink();
  const agent = defineAgent({ name: 'asker', description: 'asks', run: (ctx) => body(ctx) });
  const result = runAgent(agent, {
    step: { runId: 'run-1', conversationId: 'c', messageId: 'm', step: 1, stream: false },
    input: {},
    history: [],
    traceLevel: 'none',
    sink,
    model: new LocalEngine(),
    resources: { knowledgeBase: new MemoryKnowledgeBase([]) },
    signal: new AbortController().signal,
    ...overrides,
  });
  return { sink, result };
}

describe('ctx.ask and ctx.approve', () => {
  it('asks, waits for the answer, acknowledges it and goes on', async () => {
    const human = new MemoryHumanChannel(() => ' by REGION ');
    const { sink, result } = run(async (ctx) => ({ answer: await ctx.ask('Group by what?', ['by region', 'by month']) }), { human });
    await expect(result).resolves.toMatchObject({ output: { answer: 'by region' } });
    expect(sink.types()).toEqual(['agent_started', 'clarification_requested', 'status', 'agent_completed']);
    expect(sink.events[1].data).toEqual({ requestId: 'req_run-1_1_1', question: 'Group by what?', choices: ['by region', 'by month'] });
    expect(sink.events[2].data).toEqual({ step: 'resuming', message: 'Got your answer; carrying on…' });
    expect(human.requests).toEqual([{ runId: 'run-1', requestId: 'req_run-1_1_1', kind: 'clarification' }]);
  });

  it('waits for a later answer and ignores answers of the wrong kind', async () => {
    const human = new MemoryHumanChannel();
    const { sink, result } = run(async (ctx) => ({ decision: await ctx.approve('export', { rows: 3 }) }), { human });
    while (human.pending.length === 0) await new Promise((r) => setImmediate(r));
    expect(human.respond('req_run-1_1_1', 'yes')).toBe(false);
    expect(human.respond('req_run-1_1_1', { approved: true, comment: 'go' })).toBe(true);
    await expect(result).resolves.toMatchObject({ output: { decision: { approved: true, comment: 'go' } } });
    expect(sink.ofType('approval_requested')[0].data).toEqual({ requestId: 'req_run-1_1_1', action: 'export', details: { rows: 3 } });
  });

  it('times out an unanswered question with a TIMEOUT HeraldError', async () => {
    const { sink, result } = run(async (ctx) => ({ answer: await ctx.ask('Which one?') }), { humanResponseTimeoutMs: 30 });
    await expect(result).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(result).rejects.toBeInstanceOf(HeraldError);
    expect(sink.types()).toEqual(['agent_started', 'clarification_requested']);
  });

  it('shares one waiting budget between the waits of a step', async () => {
    let answered = 0;
    const human = new MemoryHumanChannel(() => (answered++ === 0 ? undefined : 'x'));
    const { result } = run(
      async (ctx) => {
        await ctx.ask('first?').catch(() => 'timed out');
        return { second: await ctx.ask('second?') };
      },
      { human, humanResponseTimeoutMs: 60 },
    );
    // The first wait used the whole budget: the second is refused at once, answer or not.
    await expect(result).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(human.requests.map((r) => r.requestId)).toEqual(['req_run-1_1_1']);
  });

  it('ends a wait on cancel with the signal reason', async () => {
    const controller = new AbortController();
    const human = new MemoryHumanChannel();
    const { result } = run(async (ctx) => ({ answer: await ctx.ask('Which one?') }), { human, signal: controller.signal });
    while (human.pending.length === 0) await new Promise((r) => setImmediate(r));
    controller.abort(new Error('cancelled by the user'));
    await expect(result).rejects.toThrow('cancelled by the user');
    expect(human.pending).toEqual([]);
  });

  it('guards a tool that needs approval: approved runs it, refused does not', async () => {
    const tool = jest.fn(async () => 'exported');
    const guarded = (ctx: AgentContext) => ctx.tool('export', { rows: 2 }, tool, { approval: { action: 'Export 2 rows' } });

    const yes = run(async (ctx) => ({ r: await guarded(ctx) }), { human: new MemoryHumanChannel(() => ({ approved: true })) });
    await expect(yes.result).resolves.toMatchObject({ output: { r: 'exported' } });
    expect(yes.sink.types()).toEqual([
      'agent_started',
      'approval_requested',
      'status',
      'tool_executing',
      'tool_completed',
      'agent_completed',
    ]);
    expect(yes.sink.ofType('approval_requested')[0].data.details).toEqual({ rows: 2 });

    const no = run(
      async (ctx) => {
        try {
          return { r: await guarded(ctx) };
        } catch (err) {
          if (err instanceof ApprovalRefused) return { refused: err.action, comment: err.comment };
          throw err;
        }
      },
      { human: new MemoryHumanChannel(() => ({ approved: false, comment: 'not now' })) },
    );
    await expect(no.result).resolves.toMatchObject({ output: { refused: 'Export 2 rows', comment: 'not now' } });
    expect(no.sink.types()).toEqual(['agent_started', 'approval_requested', 'status', 'agent_completed']);
    expect(tool).toHaveBeenCalledTimes(1);
  });
});
