import {
  type AnyAgentTool,
  LlmProvider,
  MemoryEventSink,
  MemoryHumanChannel,
  MemoryKnowledgeBase,
  reportingAgent,
  runAgent,
  type RunAgentOptions,
} from '@herald/agents';
import { FakeLlmServer, REASONING, REPLY, TOOL_REPLY } from '../../support/fake-llm/fake-llm-server';

const KB = new MemoryKnowledgeBase([
  { id: 'kb-consumers', title: 'JetStream consumers', content: 'JetStream consumers read messages from a stream at their own pace.' },
  { id: 'kb-resume', title: 'Resuming events', content: 'A client that reconnects sends events:resume.' },
]);

/** The reporting agent on a real model (the fake OpenAI-compatible server): its answer is a tool loop. */
describe('the reporting agent as a tool loop (LlmProvider against the fake server)', () => {
  let server: FakeLlmServer;
  beforeAll(async () => {
    server = await new FakeLlmServer().start();
  });
  afterAll(() => server.stop());

  function run(question: string, overrides: Partial<RunAgentOptions> = {}, extraTools: AnyAgentTool[] = []) {
    const sink = new MemoryEventSink();
    const result = runAgent(reportingAgent, {
      step: { runId: 'run-1', conversationId: 'c', messageId: 'msg-1', step: 2, stream: true },
      input: { question, intent: 'question', passages: [] },
      history: [],
      traceLevel: 'none',
      sink,
      model: new LlmProvider({ baseUrl: server.url, model: 'fake-tools', timeoutMs: 5_000, maxRetries: 0 }),
      resources: { knowledgeBase: KB, tools: { list: () => extraTools } },
      signal: new AbortController().signal,
      ...overrides,
    });
    return { sink, result };
  }

  it('two tool calls in one turn (a built-in one and an extra one), reasoning as agent_thinking, the answer streamed, found passages as sources', async () => {
    server.toolArgs.knowledge_search = { query: 'consumers', limit: 2 };
    server.toolArgs.lookup = { id: 7 };
    const lookup: AnyAgentTool = {
      name: 'crm.lookup',
      description: 'Looks a customer up.',
      inputSchema: { type: 'object', properties: { id: { type: 'integer' } } },
      run: async (input: { id: number }) => ({ customer: input.id, name: 'Ada' }),
    };
    const { sink, result } = run('How do consumers work? [call knowledge_search+lookup]', {}, [lookup]);
    const job = await result;
    expect(sink.types()).toEqual([
      'agent_started',
      'status',
      'agent_thinking',
      'tool_executing',
      'tool_executing',
      'tool_completed',
      'tool_completed',
      ...sink.ofType('message_delta').map(() => 'message_delta' as const),
      'message',
      'agent_completed',
    ]);
    expect(sink.ofType('agent_thinking')[0].data).toEqual({ agent: 'reporting', stepId: '2', thought: REASONING });
    const executing = sink.ofType('tool_executing').map((e) => e.data);
    expect(executing.map((d) => [d.tool, d.input])).toEqual([
      ['knowledge_search', { query: 'consumers', limit: 2 }],
      ['crm.lookup', { id: 7 }],
    ]);
    const completed = sink.ofType('tool_completed').map((e) => e.data);
    expect(completed.map((d) => d.callId).sort()).toEqual(executing.map((d) => d.callId).sort());
    expect(completed.find((d) => d.tool === 'crm.lookup')).toMatchObject({ ok: true, output: { customer: 7, name: 'Ada' } });
    expect(completed.find((d) => d.tool === 'knowledge_search')).toMatchObject({
      ok: true,
      output: { count: 1, results: [{ id: 'kb-consumers', title: 'JetStream consumers' }] },
    });
    expect(sink.ofType('message_delta').length).toBeGreaterThan(1);
    expect(
      sink
        .ofType('message_delta')
        .map((e) => e.data.delta)
        .join(''),
    ).toBe(TOOL_REPLY);
    expect(sink.ofType('message')[0].data).toMatchObject({
      content: TOOL_REPLY,
      metadata: { intent: 'question', sources: [{ id: 'kb-consumers', title: 'JetStream consumers' }] },
    });
    // Two model calls: the turn with the tool calls (20 + 6) and the answer (12 + 9).
    expect(job.usage).toEqual({ promptTokens: 32, completionTokens: 15 });
    // The model was offered names it accepts, told about them, and got both results back.
    const [first, second] = server.requestsWith('[call knowledge_search+lookup]');
    expect(first.body.tools?.map((t) => t.function.name)).toEqual(['knowledge_search', 'crm_lookup']);
    expect(first.body.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('knowledge_search, crm_lookup') });
    const results = second.body.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content!));
    expect(results).toEqual([
      [{ id: 'kb-consumers', title: 'JetStream consumers', content: expect.stringContaining('own pace'), score: expect.any(Number) }],
      { customer: 7, name: 'Ada' },
    ]);
    expect(sink.modelDrivenFrom).toBe(2);
  });

  it('a plain answer when the model calls no tool', async () => {
    const { sink, result } = run('Just say hello');
    await expect(result).resolves.toMatchObject({ output: { content: REPLY } });
    expect(sink.ofType('tool_executing')).toEqual([]);
    expect(sink.modelDrivenFrom).toBeUndefined();
  });

  it('a tool that needs approval: refused, the model hears so and answers; the call never runs', async () => {
    const writes: unknown[] = [];
    const write: AnyAgentTool = {
      name: 'notes.write',
      description: 'Writes a note.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
      approval: (input: { text: string }) => ({ action: `Write the note "${input.text}"` }),
      run: async (input) => void writes.push(input),
    };
    server.toolArgs.write = { text: 'hello' };
    const human = new MemoryHumanChannel(() => ({ approved: false }));
    const { sink, result } = run('Note this [call write]', { human }, [write]);
    await expect(result).resolves.toMatchObject({ output: { content: TOOL_REPLY } });
    expect(writes).toEqual([]);
    expect(sink.ofType('approval_requested')[0].data).toMatchObject({
      action: 'Write the note "hello"',
      tool: 'notes.write',
      callId: 'call_run-1_2_1',
      input: { text: 'hello' },
    });
    expect(sink.ofType('tool_executing')).toEqual([]);
    const back = server.requestsWith('Note this [call write]')[1].body.messages.find((m) => m.role === 'tool')!;
    expect(JSON.parse(back.content!)).toEqual({ declined: true, message: 'The user declined this call.' });
  });
});
