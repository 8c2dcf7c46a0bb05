import { FakeLlmServer, REPLY, SLOW_MS } from '../../support/fake-llm/fake-llm-server';
import { LlmError, MAX_RETRY_DELAY_MS, OpenAiCompatibleProvider, retryDelayMs } from '@herald/agents';

describe('OpenAiCompatibleProvider against the fake server', () => {
  let server: FakeLlmServer;
  const provider = (over: Partial<ConstructorParameters<typeof OpenAiCompatibleProvider>[0]> = {}) =>
    new OpenAiCompatibleProvider({
      baseUrl: server.url,
      apiKey: 'sk-test',
      model: 'fake-1',
      timeoutMs: 5_000,
      maxRetries: 2,
      backoffMs: 5,
      ...over,
    });
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
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user' }],
    });
  });

  it('classifies intent and writes SQL through forced tool calls', async () => {
    await expect(provider().classifyIntent({ text: 'revenue by region?', signal: signal() })).resolves.toMatchObject({
      intent: 'data',
      confidence: 0.9,
    });
    const sql = await provider().generateSql({ question: 'revenue by region', schema: 'demo.orders(...)', signal: signal() });
    expect(sql.sql).toMatch(/^SELECT c.region/);
    expect(server.requests.at(-1)!.body.tools?.[0].function.name).toBe('write_sql');
  });

  it('retries a 429 and a 503 with backoff, then answers', async () => {
    const before = server.requests.length;
    const result = await provider().complete({ messages: [{ role: 'user', content: 'hi [flaky]' }], signal: signal() });
    expect(result.text).toBe(REPLY);
    expect(server.requests.length - before).toBe(3);
  });

  it('waits between attempts: the backoff doubles, and a Retry-After wins over it', async () => {
    const gaps = async (content: string, backoffMs: number) => {
      const before = server.requests.length;
      await expect(provider({ backoffMs }).complete({ messages: [{ role: 'user', content }], signal: signal() })).resolves.toMatchObject({
        text: REPLY,
      });
      const at = server.requests.slice(before).map((r) => r.at);
      return at.slice(1).map((t, i) => t - at[i]);
    };
    // [flaky]: a 429 with Retry-After: 0 (no wait asked: the backoff), then a 503.
    const [first, second] = await gaps('timed [flaky]', 150);
    expect(first).toBeGreaterThanOrEqual(145);
    expect(second).toBeGreaterThanOrEqual(295);
    expect(second).toBeLessThan(300 + 1_000);
    const [asked] = await gaps('timed [retry-after-1]', 5);
    expect(asked).toBeGreaterThanOrEqual(995);
    expect(asked).toBeLessThan(1_000 + 1_000);
  });

  it('gives up after the retries with a retryable LLM_ERROR, and fails a 401 at once as not retryable', async () => {
    const before = server.requests.length;
    const failed = provider().complete({ messages: [{ role: 'user', content: '[fail-500]' }], signal: signal() });
    await expect(failed).rejects.toBeInstanceOf(LlmError);
    await expect(failed).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: true });
    await expect(failed).rejects.not.toHaveProperty('message', expect.stringContaining('model.py'));
    expect(server.requests.length - before).toBe(3);
    const denied = provider().complete({ messages: [{ role: 'user', content: '[fail-401]' }], signal: signal() });
    await expect(denied).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: false });
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
    ).rejects.toMatchObject({ code: 'LLM_ERROR', retryable: true });
    expect(server.requests.length - before).toBe(1);
    expect(tokens.join('')).toBe(REPLY);
  });

  it('times out a slow answer, and stops at once on abort', async () => {
    await expect(
      provider({ timeoutMs: 200, maxRetries: 0 }).complete({ messages: [{ role: 'user', content: '[slow]' }], signal: signal() }),
    ).rejects.toMatchObject({
      code: 'LLM_ERROR',
      message: 'The language model took too long to answer.',
    });
    const controller = new AbortController();
    const call = provider({ timeoutMs: SLOW_MS * 2 }).complete({
      messages: [{ role: 'user', content: 'again [slow]' }],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('cancelled by the user')), 50);
    await expect(call).rejects.toThrow('cancelled by the user');
  });
});

describe('retryDelayMs', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('doubles the backoff with each retry, without jitter, up to MAX_RETRY_DELAY_MS', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 250))).toEqual([250, 500, 1_000, 2_000, 4_000]);
    expect(retryDelayMs(0, 250)).toBe(retryDelayMs(0, 250));
    expect(retryDelayMs(10, 250)).toBe(MAX_RETRY_DELAY_MS);
    expect(MAX_RETRY_DELAY_MS).toBe(10_000);
  });

  it.each([
    ['2', 2_000],
    ['0.5', 500],
    [' 3 ', 3_000],
    ['120', MAX_RETRY_DELAY_MS],
    ['Sun, 01 Jun 2025 12:00:04 GMT', 4_000],
    ['Sun, 01 Jun 2025 13:00:00 GMT', MAX_RETRY_DELAY_MS],
  ])('honours Retry-After %p as %p ms, whatever the attempt', (header, expected) => {
    for (const attempt of [0, 3]) expect(retryDelayMs(attempt, 250, header, now)).toBe(expected);
  });

  it.each(['0', '', 'soon', '-5', 'Sun, 01 Jun 2025 11:59:00 GMT'])('falls back to the backoff for Retry-After %p', (header) => {
    expect(retryDelayMs(2, 250, header, now)).toBe(1_000);
  });
});
