import { FakeLlmServer, REASONING, REPLY, SLOW_MS, TOOL_REPLY } from '../../support/fake-llm/fake-llm-server';
import { LlmError, LlmProvider, type LlmProviderOptions, type ModelTool } from '@herald/agents';

/** LlmProvider (the AI SDK's openai-compatible provider) against the fake OpenAI-compatible server. */
describe('LlmProvider (openai-compatible) against the fake server', () => {
  let server: FakeLlmServer;
  const provider = (over: Partial<LlmProviderOptions> = {}) =>
    new LlmProvider({ baseUrl: server.url, apiKey: 'sk-test', model: 'fake-1', timeoutMs: 5_000, maxRetries: 2, ...over });
  const signal = () => new AbortController().signal;

  beforeAll(async () => {
    server = await new FakeLlmServer().start();
  });
  afterAll(() => server.stop());

  it('streams tokens that add up to the text, with usage and cost from the price table', async () => {
    const tokens: string[] = [];
    const result = await provider({ prices: { promptPerMTok: 1, completionPerMTok: 2 } }).complete({
      system: 'be brief',
      messages: [{ role: 'user', content: 'hello there' }],
      signal: signal(),
      onToken: ({ delta }) => void tokens.push(delta),
    });
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join('')).toBe(REPLY);
    expect(result).toEqual({ text: REPLY, model: 'fake-1', usage: { promptTokens: 12, completionTokens: 9, costUsd: 0.00003 } });
    const sent = server.requests.at(-1)!;
    expect(sent.authorization).toBe('Bearer sk-test');
    expect(sent.body).toMatchObject({
      model: 'fake-1',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there' },
      ],
    });
    expect(sent.body.tools).toBeUndefined();
  });

  it('answers at once (no stream) when no token is wanted', async () => {
    const result = await provider().complete({ messages: [{ role: 'user', content: 'one shot' }], signal: signal() });
    expect(result).toEqual({ text: REPLY, model: 'fake-1', usage: { promptTokens: 12, completionTokens: 9 } });
    expect(server.requests.at(-1)!.body.stream).toBeFalsy();
  });

  it('classifies intent and writes SQL through forced tool calls', async () => {
    await expect(provider().classifyIntent({ text: 'revenue by region?', signal: signal() })).resolves.toMatchObject({
      intent: 'data',
      confidence: 0.9,
      usage: { promptTokens: 30, completionTokens: 10 },
    });
    expect(server.requests.at(-1)!.body.tool_choice).toEqual({ type: 'function', function: { name: 'classify_intent' } });
    const sql = await provider().generateSql({ question: 'revenue by region', schema: 'demo.orders(...)', signal: signal() });
    expect(sql.sql).toMatch(/^SELECT c.region/);
    expect(server.requests.at(-1)!.body.tools?.[0].function.name).toBe('write_sql');
    expect(server.requests.at(-1)!.body.tool_choice).toEqual({ type: 'function', function: { name: 'write_sql' } });
  });

  it('retries a 429 and a 503: Retry-After: 0 at once, then the SDK backoff (2 s, doubling: 4 s before the second retry)', async () => {
    const before = server.requests.length;
    const result = await provider().complete({ messages: [{ role: 'user', content: 'hi [flaky]' }], signal: signal() });
    expect(result.text).toBe(REPLY);
    const at = server.requests.slice(before).map((r) => r.at);
    expect(at).toHaveLength(3);
    expect(at[1] - at[0]).toBeLessThan(1_000);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(3_950);
    expect(at[2] - at[1]).toBeLessThan(4_000 + 1_500);
  }, 20_000);

  it('honours the endpoint Retry-After (in seconds) before retrying', async () => {
    const before = server.requests.length;
    await expect(
      provider().complete({ messages: [{ role: 'user', content: 'timed [retry-after-1]' }], signal: signal() }),
    ).resolves.toMatchObject({ text: REPLY });
    const at = server.requests.slice(before).map((r) => r.at);
    expect(at).toHaveLength(2);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(995);
    expect(at[1] - at[0]).toBeLessThan(1_000 + 1_000);
  });

  it('gives up after the retries with a retryable LLM_ERROR, and fails a 401 at once as not retryable', async () => {
    const before = server.requests.length;
    const failed = provider().complete({ messages: [{ role: 'user', content: '[fail-500]' }], signal: signal() });
    await expect(failed).rejects.toBeInstanceOf(LlmError);
    await expect(failed).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: true, message: 'The language model failed.' });
    await expect(failed).rejects.not.toHaveProperty('message', expect.stringContaining('model.py'));
    // The endpoint's words are kept for the logs only.
    await expect(failed).rejects.toHaveProperty('detail', expect.stringContaining('model.py'));
    expect(server.requests.length - before).toBe(3);
    const denied = provider().complete({ messages: [{ role: 'user', content: '[fail-401]' }], signal: signal() });
    await expect(denied).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: false, message: 'The language model refused the request.' });
    expect(server.requests.length - before).toBe(4);
  });

  it('does not retry a stream cut after tokens were handed on', async () => {
    const before = server.requests.length;
    const tokens: string[] = [];
    await expect(
      provider().complete({
        messages: [{ role: 'user', content: 'x [cut]' }],
        signal: signal(),
        onToken: ({ delta }) => void tokens.push(delta),
      }),
    ).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: true, message: 'The language model stopped in the middle of its answer.' });
    expect(server.requests.length - before).toBe(1);
    expect(tokens.join('')).toBe(REPLY);
  });

  it('times out a slow answer (each attempt: a timeout is retried), and stops at once on abort', async () => {
    let before = server.requests.length;
    await expect(
      provider({ timeoutMs: 200, maxRetries: 0 }).complete({ messages: [{ role: 'user', content: '[slow]' }], signal: signal() }),
    ).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: true, message: 'The language model took too long to answer.' });
    expect(server.requests.length - before).toBe(1);
    before = server.requests.length;
    const startedAt = performance.now();
    await expect(
      provider({ timeoutMs: 200, maxRetries: 1 }).complete({
        messages: [{ role: 'user', content: 'streamed [slow]' }],
        signal: signal(),
        onToken: () => undefined,
      }),
    ).rejects.toMatchObject({ message: 'The language model took too long to answer.' });
    expect(server.requests.length - before).toBe(2);
    expect(performance.now() - startedAt).toBeLessThan(2_000 + 400 + 1_500); // two attempts and the SDK's first backoff

    const controller = new AbortController();
    const call = provider({ timeoutMs: SLOW_MS * 2 }).complete({
      messages: [{ role: 'user', content: 'again [slow]' }],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('cancelled by the user')), 50);
    await expect(call).rejects.toThrow('cancelled by the user');
  });

  describe('the tool loop (runTools)', () => {
    /** Two tools; each waits until the other has started, so they only finish if they run in parallel. */
    function parallelTools() {
      const started: string[] = [];
      let release!: () => void;
      const bothStarted = new Promise<void>((resolve) => (release = resolve));
      const make = (name: string, result: unknown): ModelTool => ({
        name,
        description: `The ${name} tool.`,
        inputSchema: { type: 'object', properties: { q: { type: 'string' } } },
        execute: async (input, { toolCallId }) => {
          started.push(name);
          if (started.length === 2) release();
          await bothStarted;
          return { name, toolCallId, input, result };
        },
      });
      return { started, tools: [make('alpha', 'first'), make('beta', { second: true })] };
    }

    it('calls two tools of one turn in parallel, hands on the reasoning, and streams the answer', async () => {
      server.toolArgs.alpha = { q: 'nats' };
      const { started, tools } = parallelTools();
      const tokens: string[] = [];
      const thoughts: string[] = [];
      const before = server.requests.length;
      const result = await provider({ prices: { promptPerMTok: 1, completionPerMTok: 1 } }).runTools({
        system: 'use tools',
        messages: [{ role: 'user', content: 'look it up [call alpha+beta]' }],
        tools,
        signal: signal(),
        onToken: ({ delta }) => void tokens.push(delta),
        onReasoning: (t) => void thoughts.push(t),
      });
      expect(started.sort()).toEqual(['alpha', 'beta']);
      expect(thoughts).toEqual([REASONING]);
      expect(tokens.join('')).toBe(TOOL_REPLY);
      expect(result).toEqual({
        text: TOOL_REPLY,
        model: 'fake-1',
        steps: 2,
        usage: { promptTokens: 20 + 12, completionTokens: 6 + 9, costUsd: 0.000047 },
      });
      const [first, second] = server.requests.slice(before);
      expect(first.body.tools?.map((t) => t.function.name)).toEqual(['alpha', 'beta']);
      expect(first.body.tool_choice).toBe('auto');
      // The second call carries both calls and their results, matched by id.
      const assistant = second.body.messages.find((m) => m.role === 'assistant')!;
      expect(assistant.tool_calls!.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
        ['alpha', { q: 'nats' }],
        ['beta', {}],
      ]);
      const results = second.body.messages.filter((m) => m.role === 'tool');
      expect(results.map((m) => m.tool_call_id)).toEqual(assistant.tool_calls!.map((c) => c.id));
      expect(JSON.parse(results[0].content!)).toEqual({
        name: 'alpha',
        toolCallId: assistant.tool_calls![0].id,
        input: { q: 'nats' },
        result: 'first',
      });
    });

    it('gives a throwing tool error to the model and goes on; the last allowed step may not call tools', async () => {
      const calls: string[] = [];
      const failing: ModelTool = {
        name: 'gamma',
        description: 'Fails.',
        inputSchema: { type: 'object', properties: {} },
        execute: async () => {
          calls.push('gamma');
          throw new Error('gamma is down');
        },
      };
      const before = server.requests.length;
      const result = await provider().runTools({
        messages: [{ role: 'user', content: 'try [call gamma] [call gamma] [call gamma]' }],
        tools: [failing],
        maxSteps: 2,
        signal: signal(),
      });
      expect(calls).toEqual(['gamma']);
      expect(result).toMatchObject({ text: TOOL_REPLY, steps: 2 });
      const [, second] = server.requests.slice(before);
      expect(second.body.tool_choice).toBe('none');
      expect(second.body.messages.find((m) => m.role === 'tool')!.content).toContain('gamma is down');
    });

    it('stops a loop whose tool is running when the signal aborts', async () => {
      const controller = new AbortController();
      const hanging: ModelTool = {
        name: 'delta',
        description: 'Hangs until aborted.',
        inputSchema: { type: 'object', properties: {} },
        execute: (_input, { signal: s }) =>
          new Promise((_resolve, reject) => {
            s.addEventListener('abort', () => reject(s.reason), { once: true });
            setTimeout(() => controller.abort(new Error('cancelled by the user')), 20);
          }),
      };
      await expect(
        provider().runTools({ messages: [{ role: 'user', content: 'wait [call delta]' }], tools: [hanging], signal: controller.signal }),
      ).rejects.toThrow('cancelled by the user');
    });
  });
});
