import { HeraldError } from '@herald/contracts';
import { z } from 'zod';
import { MemoryKnowledgeBase } from '../knowledge/memory-knowledge-base';
import { LocalEngine } from '../models/local/local-engine';
import type { AgentContext } from './agent-context';
import { defineAgent } from './agent-definition';
import { AgentInputError, ToolError } from './errors';
import { MemoryEventSink } from './memory-event-sink';
import { runAgent, type RunAgentOptions } from './run-agent';

function options(sink: MemoryEventSink, overrides: Partial<RunAgentOptions> = {}): RunAgentOptions {
  return {
    step: { runId: 'run-1', conversationId: 'conv-1', messageId: 'msg-1', step: 2, stream: false },
    input: {},
    history: [],
    traceLevel: 'none',
    sink,
    model: new LocalEngine(),
    resources: { knowledgeBase: new MemoryKnowledgeBase([]) },
    signal: new AbortController().signal,
    ...overrides,
  };
}

const echo = (run: (ctx: AgentContext) => Promise<Record<string, unknown>>) =>
  defineAgent({ name: 'echo', description: 'test agent', run: (ctx) => run(ctx) });

describe('runAgent and the step context', () => {
  it('brackets the run with agent_started and agent_completed and returns the output', async () => {
    const sink = new MemoryEventSink();
    const agent = defineAgent({
      name: 'greeter',
      description: 'says hello',
      input: z.object({ name: z.string() }),
      run: async (ctx, { name }) => {
        await ctx.status('working', 'Working…');
        await ctx.thinking(`greeting ${name}`);
        return { greeting: `hello ${name}` };
      },
      summarize: (out) => String(out.greeting),
    });
    const result = await runAgent(agent, options(sink, { input: { name: 'ada', extra: true } }));
    expect(result).toEqual({ output: { greeting: 'hello ada' } });
    expect(sink.types()).toEqual(['agent_started', 'status', 'agent_thinking', 'agent_completed']);
    expect(sink.events[0].data).toEqual({ agent: 'greeter', stepId: '2', description: 'says hello' });
    expect(sink.events[3].data).toMatchObject({ agent: 'greeter', summary: 'hello ada', durationMs: expect.any(Number) });
  });

  it('pairs tool_executing and tool_completed with deterministic call ids', async () => {
    const sink = new MemoryEventSink();
    await runAgent(
      echo(async (ctx) => {
        const a = await ctx.tool('add', { a: 1, b: 2 }, async () => 3);
        const b = await ctx.tool('add', { a: a, b: 4 }, async () => a + 4, { output: (n) => ({ sum: n }) });
        return { b };
      }),
      options(sink),
    );
    const executing = sink.ofType('tool_executing').map((e) => e.data);
    const completed = sink.ofType('tool_completed').map((e) => e.data);
    expect(executing.map((d) => d.callId)).toEqual(['call_run-1_2_1', 'call_run-1_2_2']);
    expect(completed.map((d) => d.callId)).toEqual(['call_run-1_2_1', 'call_run-1_2_2']);
    expect(executing[1]).toEqual({ agent: 'echo', stepId: '2', tool: 'add', callId: 'call_run-1_2_2', input: { a: 3, b: 4 } });
    expect(completed[0]).toMatchObject({ ok: true, output: 3, tool: 'add' });
    expect(completed[1]).toMatchObject({ ok: true, output: { sum: 7 } });
    expect(completed[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(sink.types()).toEqual([
      'agent_started',
      'tool_executing',
      'tool_completed',
      'tool_executing',
      'tool_completed',
      'agent_completed',
    ]);
  });

  it('tells steps apart by stepId; call ids are unique across runs and steps, and the same when a step runs again', async () => {
    const agent = echo(async (ctx) => {
      await ctx.thinking('adding');
      await ctx.tool('add', { a: 1, b: 2 }, async () => 3);
      return {};
    });
    const run = async (runId: string, step: number) => {
      const sink = new MemoryEventSink();
      await runAgent(agent, options(sink, { step: { runId, conversationId: 'conv-1', messageId: 'm', step, stream: false } }));
      return sink;
    };
    const first = await run('run-1', 1);
    // Every agent_* and tool_* event of the step names it.
    const stepEvents = first.events.filter((e) => /^(?:agent|tool)_/.test(e.type));
    expect(stepEvents.map((e) => (e.data as { stepId?: string }).stepId)).toEqual(['1', '1', '1', '1', '1']);
    const callOf = (sink: MemoryEventSink) => sink.ofType('tool_executing')[0].data.callId;
    const ids = [callOf(first), callOf(await run('run-1', 2)), callOf(await run('run-2', 1))];
    expect(new Set(ids).size).toBe(3);
    // A redelivered step (same run, same step) publishes the same call id: JetStream de-duplicates its events.
    expect(callOf(await run('run-1', 1))).toBe(ids[0]);
  });

  it('reports a throwing tool as ok:false and lets the agent catch the ToolError and carry on', async () => {
    const sink = new MemoryEventSink();
    let caught: unknown;
    const result = await runAgent(
      echo(async (ctx) => {
        try {
          await ctx.tool('flaky', {}, async () => {
            throw new HeraldError('UNAVAILABLE', 'The flaky service is down.');
          });
        } catch (err) {
          caught = err;
        }
        await ctx
          .tool('secret', {}, async () => {
            throw new Error('connect ECONNREFUSED 10.0.0.7:5432');
          })
          .catch(() => undefined);
        return { carriedOn: true };
      }),
      options(sink),
    );
    expect(result.output).toEqual({ carriedOn: true });
    expect(caught).toBeInstanceOf(ToolError);
    expect(caught).toMatchObject({ tool: 'flaky', callId: 'call_run-1_2_1', message: 'The flaky service is down.' });
    expect((caught as ToolError).heraldCause?.code).toBe('UNAVAILABLE');
    const completed = sink.ofType('tool_completed').map((e) => e.data);
    expect(completed[0]).toMatchObject({ callId: 'call_run-1_2_1', ok: false, error: 'The flaky service is down.' });
    expect(completed[0]).not.toHaveProperty('output');
    // Internal details never reach users.
    expect(completed[1]).toMatchObject({ ok: false, error: 'The tool failed unexpectedly.' });
    expect(sink.types().at(-1)).toBe('agent_completed');
  });

  it('rejects invalid input before emitting anything', async () => {
    const sink = new MemoryEventSink();
    const agent = defineAgent({ name: 'strict', description: 'x', input: z.object({ n: z.number() }), run: async () => ({}) });
    await expect(runAgent(agent, options(sink, { input: { n: 'one' } }))).rejects.toBeInstanceOf(AgentInputError);
    expect(sink.events).toEqual([]);
  });

  it('emits no agent_completed when the agent fails', async () => {
    const sink = new MemoryEventSink();
    await expect(
      runAgent(
        echo(async () => Promise.reject(new Error('boom'))),
        options(sink),
      ),
    ).rejects.toThrow('boom');
    expect(sink.types()).toEqual(['agent_started']);
  });

  it('stops at the next event once aborted, without agent_completed', async () => {
    const sink = new MemoryEventSink();
    const controller = new AbortController();
    const agent = echo(async (ctx) => {
      await ctx.thinking('one');
      controller.abort(new Error('cancelled'));
      await ctx.thinking('two');
      return {};
    });
    await expect(runAgent(agent, options(sink, { signal: controller.signal }))).rejects.toThrow('cancelled');
    expect(sink.types()).toEqual(['agent_started', 'agent_thinking']);
  });

  it('keeps progress within 0..1 and never lets it go back; agent_completed is at 1', async () => {
    const sink = new MemoryEventSink();
    await runAgent(
      echo(async (ctx) => {
        ctx.progress(0.5);
        await ctx.thinking('half');
        ctx.progress(0.2);
        ctx.progress(Number.NaN);
        await ctx.thinking('still half');
        ctx.progress(7);
        await ctx.thinking('done');
        return {};
      }),
      options(sink),
    );
    expect(sink.events.map((e) => e.progress)).toEqual([0, 0.5, 0.5, 1, 1]);
  });

  it('meters the model: usage in the result and tokens on agent_completed', async () => {
    const sink = new MemoryEventSink();
    const result = await runAgent(
      echo(async (ctx) => {
        await ctx.model.classifyIntent({ text: 'what is nats', signal: ctx.signal });
        return {};
      }),
      options(sink, { traceLevel: 'summary' }),
    );
    expect(result.usage).toEqual({ promptTokens: 3, completionTokens: 1 });
    expect(sink.ofType('agent_completed')[0].trace).toEqual({ latencyMs: expect.any(Number), tokens: 4 });
  });

  it('refuses agent names that cannot be job names', () => {
    expect(() => defineAgent({ name: 'Bad Name', description: '', run: async () => ({}) })).toThrow(/agent name/);
  });
});
