import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type Browser, launchBrowser } from '../support/browser';
import { Cluster, ROOT } from '../support/cluster';

/**
 * examples/use-chat: a React page on the AI SDK's `useChat` (`@ai-sdk/react`) served from its
 * own origin, in Chromium, against Herald's four services as real processes with two gateways:
 * submit and watch the answer stream in, reload mid-run on the other gateway and get the rest
 * (`resume: true`), and stop a run (the server cancels it, nothing is stored).
 */
describe('the useChat example page in a browser', () => {
  let cluster: Cluster;
  let browser: Browser;
  let example: ChildProcess;
  let origin: string;

  beforeAll(async () => {
    // The page is served first: its origin (with the port the OS picked) goes into CORS_ORIGINS.
    example = spawn(process.execPath, [join(ROOT, 'examples/use-chat/serve.mjs')], {
      env: { ...process.env, EXAMPLE_PORT: '0', EXAMPLE_HOST: '127.0.0.1', HERALD_TOKEN: 'unused' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    origin = await new Promise<string>((resolve, reject) => {
      let out = '';
      example.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /use-chat example on (http:\/\/\S+)/.exec(out);
        if (found) resolve(found[1]);
      });
      example.once('exit', (code) => reject(new Error(`the example server exited (${code}): ${out}`)));
    });
    // A per-token delay makes a run last a few seconds: long enough to reload or stop mid-run.
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '30', CORS_ORIGINS: origin } });
    browser = await launchBrowser({ width: 1000, height: 800 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    example?.kill('SIGTERM');
  }, 30_000);

  const page = () => browser.page;
  const open = async (userId: string, chatId: string, gateway: number) =>
    page().goto(
      `${origin}/?chat=${chatId}#gateway=${encodeURIComponent(cluster.gatewayUrl(gateway))}&token=${await cluster.token(userId)}`,
    );
  const ask = async (text: string) => {
    await page().fill('#input', text);
    await page().click('#send');
  };
  const assistantText = () => page().locator('.msg.assistant .text').last();
  const stored = async (userId: string, chatId: string) => {
    const res = await cluster.http(`/v1/conversations/${chatId}/messages`, { userId });
    return res.status === 404 ? [] : ((await res.json()) as { messages: Array<{ role: string; content: string }> }).messages;
  };

  it('streams an answer with its tool call and sources, and finds it again after a reload', async () => {
    const chatId = randomUUID();
    await open('uc-ada', chatId, 0);
    await ask('What is NATS JetStream?');
    await page().locator('#status[data-status="streaming"]').waitFor();
    await page().locator('#status[data-status="ready"]').waitFor({ timeout: 60_000 });
    const answer = page().locator('.msg.assistant').last();
    expect(await answer.locator('.tool').first().getAttribute('data-state')).toBe('output-available');
    expect(await answer.locator('.tool').first().textContent()).toContain('knowledge_search');
    expect(await answer.locator('.source').count()).toBeGreaterThan(0);
    const text = (await assistantText().textContent())!;
    expect(text.length).toBeGreaterThan(40);
    await browser.screenshot('use-chat-answer');

    // Stored as one exchange; a reload shows it from the history.
    const messages = await stored('uc-ada', chatId);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1].content).toBe(text);
    await page().reload();
    await page().locator('.msg.user').first().waitFor();
    expect(await page().locator('.msg.user .text').first().textContent()).toBe('What is NATS JetStream?');
    expect(await assistantText().textContent()).toBe(text);
  });

  it('picks a run up again after a reload mid-run, on the other gateway (resume: true)', async () => {
    const chatId = randomUUID();
    await open('uc-bob', chatId, 0);
    await ask('Write a report on revenue by region');
    await page().waitForFunction(() => (document.querySelector('.msg.assistant .text')?.textContent ?? '').length > 0, undefined, {
      timeout: 60_000,
    });
    // The page reloads against gateway 1: useChat asks GET /v1/ai-sdk/chat/:id/stream on mount.
    // (Only the fragment changes: goto alone would not reload the page.)
    const resumed = page().waitForResponse((r) => r.url().endsWith(`/v1/ai-sdk/chat/${chatId}/stream`));
    await open('uc-bob', chatId, 1);
    await page().reload();
    expect((await resumed).status()).toBe(200);
    await page().locator('#status[data-status="ready"]').waitFor({ timeout: 60_000 });
    const messages = await stored('uc-bob', chatId);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    // The resumed stream replays the run from its start: the whole answer, once.
    expect(await page().locator('.msg.assistant').count()).toBe(1);
    expect(await assistantText().textContent()).toBe(messages[1].content);
  });

  it('stops a run: the server cancels it, the stream ends and nothing is stored', async () => {
    const chatId = randomUUID();
    await open('uc-cy', chatId, 1);
    await ask('Write a report on revenue by region');
    await page().waitForFunction(() => (document.querySelector('.msg.assistant .text')?.textContent ?? '').length > 0, undefined, {
      timeout: 60_000,
    });
    const stopped = page().waitForResponse((r) => r.url().endsWith(`/v1/ai-sdk/chat/${chatId}/stop`));
    await page().click('#stop');
    const stop = await stopped;
    expect(stop.status()).toBe(200);
    expect(await stop.json()).toEqual({ ok: true });
    await page().locator('#status[data-status="ready"]').waitFor({ timeout: 30_000 });
    await browser.screenshot('use-chat-stopped');
    // Cancelled: no message stored, and nothing left to resume.
    expect(await stored('uc-cy', chatId)).toEqual([]);
    const stream = await cluster.http(`/v1/ai-sdk/chat/${chatId}/stream`, { userId: 'uc-cy' });
    expect(stream.status).toBe(204);
  });
});
