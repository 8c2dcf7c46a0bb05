import { HeraldError } from '@herald/contracts';
import { MemoryKnowledgeBase } from '../knowledge/memory-knowledge-base';
import { LocalEngine } from '../models/local/local-engine';
import type { ModelProvider, ToolLoopRequest, ToolLoopResult } from '../models/model-provider';
import type { AgentContext } from './agent-context';
import { defineAgent } from './agent-definition';
import { type AnyAgentTool, modelToolNames } from './agent-tool';
import { MemoryEventSink } from './memory-event-sink';
import { MemoryHumanChannel } from './memory-human-channel';
import { runAgent, type RunAgentOptions } from './run-agent';
import { CANCELLED_TOOL_ERROR, MODEL_TOOL_RESULT_MAX } from './step-context';

function run(body: (ctx: AgentContext) => Promise<Record<string, unknown>>, overrides: Partial<RunAgentOptions> = {}) {
  const sink = new MemoryEventSink();
  const agent = defineAgent({ name: 'caller', description: 'calls tools', run: (ctx) => body(ctx) });
  const result = runAgent(agent, {
    step: { runId: 'run-1', conversationId: 'c', messageId: 'm', step: 3, stream: false },
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

describe('ctx.tool: approvals, progress and cancellation', () => {
  it('an approval of a tool call carries its tool, callId and input; tool_executing follows with that callId', async () => {
    const human = new MemoryHumanChannel(() => ({ approved: true }));
    const { sink, result } = run(
      async (ctx) => ({
        r: await ctx.tool('files.write', { path: 'a.txt' }, async () => 'written', { approval: { action: 'Write a.txt' } }),
      }),
      { human },
    );
    await expect(result).resolves.toMatchObject({ output: { r: 'written' } });
    expect(sink.types()).toEqual(['agent_started', 'approval_requested', 'status', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(sink.ofType('approval_requested')[0].data).toEqual({
      requestId: 'req_run-1_3_1',
      action: 'Write a.txt',
      details: { path: 'a.txt' },
      tool: 'files.write',
      callId: 'call_run-1_3_1',
      input: { path: 'a.txt' },
    });
    expect(sink.ofType('tool_executing')[0].data).toEqual({
      agent: 'caller',
      stepId: '3',
      tool: 'files.write',
      callId: 'call_run-1_3_1',
      input: { path: 'a.txt' },
    });
  });

  it('streams tool_progress between tool_executing and tool_completed, only forward, and none after the call', async () => {
    let late: (() => void) | undefined;
    const { sink, result } = run(async (ctx) => {
      const out = await ctx.tool('count', { to: 3 }, async (_signal, call) => {
        call.progress(1, 3, 'one');
        call.progress(1, 3, 'one again'); // not forward: ignored
        call.progress(2, 3);
        call.progress(Number.NaN);
        call.progress(3, undefined, 'x'.repeat(5_000));
        late = () => call.progress(4, 4, 'too late');
        return 3;
      });
      late!();
      return { out };
    });
    await expect(result).resolves.toMatchObject({ output: { out: 3 } });
    expect(sink.types()).toEqual([
      'agent_started',
      'tool_executing',
      'tool_progress',
      'tool_progress',
      'tool_progress',
      'tool_completed',
      'agent_completed',
    ]);
    const progress = sink.ofType('tool_progress').map((e) => e.data);
    expect(progress[0]).toEqual({
      agent: 'caller',
      stepId: '3',
      tool: 'count',
      callId: 'call_run-1_3_1',
      progress: 1,
      total: 3,
      message: 'one',
    });
    expect(progress[1]).toEqual({ agent: 'caller', stepId: '3', tool: 'count', callId: 'call_run-1_3_1', progress: 2, total: 3 });
    expect(progress[2].message).toHaveLength(1_000);
  });

  it('a cancel ends a call that ignores the signal at once: tool_completed ok:false (published though aborted), then the reason', async () => {
    const controller = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const { sink, result } = run(
      async (ctx) => ({
        r: await ctx.tool('stubborn', {}, () => {
          started();
          return new Promise(() => undefined); // never settles, never looks at the signal
        }),
      }),
      { signal: controller.signal },
    );
    await running;
    controller.abort(new Error('cancelled by the user'));
    await expect(result).rejects.toThrow('cancelled by the user');
    expect(sink.types()).toEqual(['agent_started', 'tool_executing', 'tool_completed']);
    expect(sink.ofType('tool_completed')[0].data).toMatchObject({ callId: 'call_run-1_3_1', ok: false, error: CANCELLED_TOOL_ERROR });
    expect([...sink.afterAbort]).toEqual([2]);
  });
});

/** A model whose tool loop is a script: each turn calls the tools named (in parallel), then it answers with the results. */
class ScriptedModel implements ModelProvider {
  readonly name = 'scripted';
  readonly deterministic = false;
  readonly seen: Array<{ tool: string; result?: unknown; error?: string }> = [];
  requests: ToolLoopRequest[] = [];
  constructor(private readonly turns: Array<Array<{ tool: string; input: unknown }>>) {}
  complete = async () => ({ text: '', usage: { promptTokens: 0, completionTokens: 0 }, model: this.name });
  classifyIntent = async () => ({
    intent: 'question' as const,
    confidence: 1,
    reasoning: '',
    usage: { promptTokens: 0, completionTokens: 0 },
  });
  generateSql = async () => ({ title: '', confidence: 1, reasoning: '', usage: { promptTokens: 0, completionTokens: 0 } });
  async runTools(request: ToolLoopRequest): Promise<ToolLoopResult> {
    this.requests.push(request);
    await request.onReasoning?.('I will use the tools.');
    for (const turn of this.turns) {
      await Promise.all(
        turn.map(async ({ tool, input }) => {
          const t = request.tools.find((x) => x.name === tool)!;
          try {
            this.seen.push({ tool, result: await t.execute(input, { toolCallId: `${tool}-id`, signal: request.signal }) });
          } catch (err) {
            request.signal.throwIfAborted();
            this.seen.push({ tool, error: (err as Error).message });
          }
        }),
      );
    }
    const text = 'All done.';
    await request.onToken?.({ delta: text, index: 0 });
    return { text, usage: { promptTokens: 5, completionTokens: 3 }, model: this.name, steps: this.turns.length + 1 };
  }
}

describe('ctx.runTools', () => {
  const echo: AnyAgentTool = {
    name: 'echo',
    description: 'Echoes',
    inputSchema: { type: 'object' },
    run: async (input) => ({ echoed: input }),
    output: (r: { echoed: unknown }) => ({ shown: r.echoed }),
    forModel: (r: { echoed: unknown }) => ({ model: r.echoed }),
  };
  const broken: AnyAgentTool = {
    name: 'files.broken',
    description: 'Fails',
    inputSchema: { type: 'object' },
    run: async () => {
      throw new HeraldError('UNAVAILABLE', 'The files server is down.');
    },
  };
  const guarded: AnyAgentTool = {
    name: 'files.write',
    description: 'Writes',
    inputSchema: { type: 'object' },
    approval: (input: { path: string }) => ({ action: `Write ${input.path}`, details: { server: 'files' } }),
    run: async () => 'written',
  };

  it('runs the calls the model makes through ctx.tool, in parallel, with reasoning as agent_thinking; failures and refusals go back to the model', async () => {
    const model = new ScriptedModel([
      [
        { tool: 'echo', input: { q: 1 } },
        { tool: 'files_broken', input: {} },
      ],
      [{ tool: 'files_write', input: { path: 'a.txt' } }],
    ]);
    const human = new MemoryHumanChannel(() => ({ approved: false, comment: 'not today' }));
    const { sink, result } = run(
      async (ctx) => {
        const out = await ctx.runTools({ messages: [{ role: 'user', content: 'go' }], tools: [echo, broken, guarded] });
        return { text: out.text, steps: out.steps };
      },
      { model, human },
    );
    await expect(result).resolves.toMatchObject({
      output: { text: 'All done.', steps: 3 },
      usage: { promptTokens: 5, completionTokens: 3 },
    });
    // The model sees names every provider accepts, the events the tools' own names.
    expect(model.requests[0].tools.map((t) => t.name)).toEqual(['echo', 'files_broken', 'files_write']);
    expect(model.seen).toEqual([
      { tool: 'echo', result: { model: { q: 1 } } },
      { tool: 'files_broken', error: 'The files server is down.' },
      { tool: 'files_write', result: { declined: true, message: 'The user declined this call: not today' } },
    ]);
    expect(sink.types()).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing',
      'tool_executing',
      'tool_completed',
      'tool_completed',
      'approval_requested',
      'status',
      'agent_completed',
    ]);
    expect(sink.ofType('agent_thinking')[0].data).toEqual({ agent: 'caller', stepId: '3', thought: 'I will use the tools.' });
    const completed = sink.ofType('tool_completed').map((e) => e.data);
    expect(completed.find((c) => c.tool === 'echo')).toMatchObject({ ok: true, output: { shown: { q: 1 } } });
    expect(completed.find((c) => c.tool === 'files.broken')).toMatchObject({ ok: false, error: 'The files server is down.' });
    expect(sink.ofType('approval_requested')[0].data).toMatchObject({
      tool: 'files.write',
      callId: 'call_run-1_3_3',
      input: { path: 'a.txt' },
    });
    // From the first thought on, what the step publishes is the model's choice.
    expect(sink.modelDrivenFrom).toBe(1);
  });

  it('cuts a huge result to MODEL_TOOL_RESULT_MAX characters for the model, and says so', async () => {
    const big: AnyAgentTool = { name: 'big', description: 'Big', inputSchema: { type: 'object' }, run: async () => 'x'.repeat(200_000) };
    const model = new ScriptedModel([[{ tool: 'big', input: {} }]]);
    const { result } = run(
      async (ctx) => ({ out: (await ctx.runTools({ messages: [{ role: 'user', content: 'go' }], tools: [big] })).text }),
      {
        model,
      },
    );
    await expect(result).resolves.toMatchObject({ output: { out: 'All done.' } });
    expect(model.seen[0].result).toEqual({
      truncated: true,
      note: `Only the first ${MODEL_TOOL_RESULT_MAX} characters of the result.`,
      content: 'x'.repeat(MODEL_TOOL_RESULT_MAX),
    });
  });

  it('a wait for approval that runs out ends the loop and the step with TIMEOUT, as outside a loop', async () => {
    const model = new ScriptedModel([[{ tool: 'files_write', input: { path: 'b.txt' } }]]);
    const { sink, result } = run(
      async (ctx) => ({ out: (await ctx.runTools({ messages: [{ role: 'user', content: 'go' }], tools: [guarded] })).text }),
      { model, humanResponseTimeoutMs: 50 },
    );
    await expect(result).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(sink.types()).toEqual(['agent_started', 'agent_thinking', 'approval_requested']);
  });

  it('refuses with a model that has no tool loop (the local engine)', async () => {
    const { result } = run(async (ctx) => ({ out: await ctx.runTools({ messages: [{ role: 'user', content: 'go' }], tools: [echo] }) }));
    await expect(result).rejects.toThrow(/cannot call tools/);
  });
});

describe('modelToolNames', () => {
  it('keeps names every provider accepts, and makes the others fit, unique', () => {
    expect(modelToolNames(['knowledge_search', 'files.read_file', 'files_read_file', 'a b', 'x'.repeat(70)])).toEqual([
      'knowledge_search',
      'files_read_file',
      'files_read_file_2',
      'a_b',
      'x'.repeat(64),
    ]);
  });
});
