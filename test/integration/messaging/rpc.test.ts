import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, HeraldError, PERSISTENCE_RPC, RPC_FAILURE, subjects, type StoredMessage } from '@herald/contracts';
import { decodeJson, encodeJson, payloadBudget, REPLY_TOO_LARGE_MESSAGE, RpcCallError, RpcClient, serveRpc } from '@herald/messaging';
import { createLogger } from '@herald/observability';
import { connect, type NatsConnection, type Subscription } from 'nats';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const logger = createLogger('rpc-test', process.env.TEST_LOG_LEVEL ?? 'silent');

async function failure(work: Promise<unknown>): Promise<RpcCallError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RpcCallError)) throw new Error(`expected an RpcCallError, got ${String(err)}`);
  return err;
}

const message = (content: string): StoredMessage => ({
  id: randomUUID(),
  conversationId: randomUUID(),
  runId: null,
  role: 'assistant',
  content,
  metadata: null,
  createdAt: new Date().toISOString(),
  parentId: null,
  siblingIds: [],
});

describe('typed, bounded request/reply (RpcClient, serveRpc) on real NATS', () => {
  const s = subjects(`rpc${randomBytes(4).toString('hex')}`);
  let nc: NatsConnection;
  let client: RpcClient;
  const failures: Array<[string, string]> = [];
  const subs: Subscription[] = [];
  const serve: typeof serveRpc = (...args) => {
    const sub = serveRpc(...args);
    subs.push(sub);
    return sub;
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    client = new RpcClient(nc, s, { timeoutMs: 1000, logger, onFailure: (op, reason) => failures.push([op, reason]) });
  });
  afterEach(() => {
    for (const sub of subs.splice(0)) sub.unsubscribe();
    failures.length = 0;
  });
  afterAll(async () => {
    await nc?.close();
  });

  it('validates the request on both sides and returns the reply as its schema gives it', async () => {
    const seen: unknown[] = [];
    serve(
      nc,
      s,
      PERSISTENCE_RPC.getRun,
      async (req) => {
        seen.push(req);
        return {
          runId: req.runId,
          conversationId: randomUUID(),
          status: 'running',
          progress: 0.5,
          lastEventId: '7',
          startedAt: null,
          endedAt: null,
        };
      },
      { queue: 'q', logger },
    );
    await nc.flush();
    const runId = randomUUID();
    const snapshot = await client.call(PERSISTENCE_RPC.getRun, { userId: 'a.b *>', runId: runId.toUpperCase() });
    expect(snapshot).toMatchObject({ runId, status: 'running', progress: 0.5 });
    expect(seen).toEqual([{ userId: 'a.b *>', runId }]); // lower-cased by the schema

    // The client refuses a bad request without sending it…
    const bad = await failure(client.call(PERSISTENCE_RPC.getRun, { userId: 'a', runId: 'nope' }));
    expect(bad).toMatchObject({ code: ErrorCode.INVALID_INPUT, reason: RPC_FAILURE.badRequest, op: 'run.get' });
    expect(bad.message).toContain('runId');
    expect(bad.cause).toBeDefined();
    // …and the server refuses one that comes anyway, without calling the handler.
    for (const payload of [
      { userId: 'a', runId: 'nope' },
      { userId: '', runId: randomUUID() },
      { userId: 'a', runId: randomUUID(), more: 1 },
    ]) {
      const reply = decodeJson((await nc.request(s.rpc(PERSISTENCE_RPC.getRun), encodeJson(payload), { timeout: 1000 })).data);
      expect({ payload, reply }).toMatchObject({ payload, reply: { ok: false, error: { code: ErrorCode.INVALID_INPUT } } });
    }
    const notJson = decodeJson((await nc.request(s.rpc(PERSISTENCE_RPC.getRun), new TextEncoder().encode('{'), { timeout: 1000 })).data);
    expect(notJson).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_INPUT } });
    expect(seen).toHaveLength(1);
  });

  it('passes the server’s own errors through, with no reason; anything else it threw is INTERNAL', async () => {
    serve(
      nc,
      s,
      PERSISTENCE_RPC.getRun,
      async () => {
        throw new HeraldError(ErrorCode.RATE_LIMITED, 'slow down', 1500);
      },
      { queue: 'q', logger },
    );
    serve(
      nc,
      s,
      PERSISTENCE_RPC.abandonRun,
      async () => {
        throw new TypeError('a bug with a secret in it');
      },
      { queue: 'q', logger },
    );
    await nc.flush();
    const limited = await failure(client.call(PERSISTENCE_RPC.getRun, { userId: 'u', runId: randomUUID() }));
    expect(limited).toMatchObject({ code: ErrorCode.RATE_LIMITED, message: 'slow down', retryAfterMs: 1500, reason: undefined });
    const bug = await failure(client.call(PERSISTENCE_RPC.abandonRun, { userId: 'u', runId: randomUUID() }));
    expect(bug.code).toBe(ErrorCode.INTERNAL);
    expect(bug.message).not.toContain('secret');
    expect(failures).toEqual([]);
  });

  it('tells apart no responders and a timeout (both UNAVAILABLE to users), keeping the cause', async () => {
    const none = await failure(client.call(PERSISTENCE_RPC.ping, {}));
    expect(none).toMatchObject({ code: ErrorCode.UNAVAILABLE, reason: RPC_FAILURE.noResponders, op: 'ping' });
    expect(none.cause).toMatchObject({ code: '503' });

    subs.push(nc.subscribe(s.rpc(PERSISTENCE_RPC.ping), { callback: () => undefined })); // never answers
    await nc.flush();
    const slow = await failure(client.call(PERSISTENCE_RPC.ping, {}, { timeoutMs: 200 }));
    expect(slow).toMatchObject({ code: ErrorCode.UNAVAILABLE, reason: RPC_FAILURE.timeout });
    expect(slow.cause).toMatchObject({ code: 'TIMEOUT' });
    expect(failures).toEqual([
      ['ping', 'no_responders'],
      ['ping', 'timeout'],
    ]);
  });

  it('turns a reply that is not JSON, or not what the schema says, into INTERNAL (bad_reply)', async () => {
    let answer: Uint8Array = new TextEncoder().encode('not json');
    subs.push(nc.subscribe(s.rpc(PERSISTENCE_RPC.ping), { callback: (_e, msg) => msg.respond(answer) }));
    await nc.flush();
    const garbage = await failure(client.call(PERSISTENCE_RPC.ping, {}));
    expect(garbage).toMatchObject({ code: ErrorCode.INTERNAL, reason: RPC_FAILURE.badReply });
    expect(garbage.cause).toBeInstanceOf(SyntaxError);
    answer = encodeJson({ ok: true, data: { ok: 'yes' } });
    expect(await failure(client.call(PERSISTENCE_RPC.ping, {}))).toMatchObject({ code: ErrorCode.INTERNAL, reason: RPC_FAILURE.badReply });
    answer = encodeJson({ ok: false, error: { code: 'NOT_A_CODE', message: 'x' } });
    expect(await failure(client.call(PERSISTENCE_RPC.ping, {}))).toMatchObject({ code: ErrorCode.INTERNAL, reason: RPC_FAILURE.badReply });
    answer = encodeJson({ ok: true, data: { ok: true } });
    await expect(client.call(PERSISTENCE_RPC.ping, {})).resolves.toEqual({ ok: true });
  });

  it('answers a reply larger than max_payload with a clear error instead, and goes on serving', async () => {
    const budget = payloadBudget(nc);
    let size = budget; // a page whose JSON is over the budget
    serve(nc, s, PERSISTENCE_RPC.listMessages, async () => ({ messages: [message('é'.repeat(Math.ceil(size / 2)))], nextBefore: null }), {
      queue: 'q',
      logger,
    });
    await nc.flush();
    const request = { userId: 'u', conversationId: randomUUID(), limit: 50 };
    const tooLarge = await failure(client.call(PERSISTENCE_RPC.listMessages, request));
    expect(tooLarge).toMatchObject({ code: ErrorCode.INTERNAL, message: REPLY_TOO_LARGE_MESSAGE, reason: RPC_FAILURE.replyTooLarge });
    expect(failures).toEqual([['conversation.messages', 'reply_too_large']]);
    size = 1000;
    const fine = await client.call(PERSISTENCE_RPC.listMessages, request);
    expect(fine.messages[0].content).toHaveLength(500);
  });

  it('refuses a request larger than max_payload before sending it (INVALID_INPUT)', async () => {
    let received = 0;
    subs.push(nc.subscribe(s.rpc(PERSISTENCE_RPC.ingestKnowledge), { callback: () => received++ }));
    await nc.flush();
    const documents = Array.from({ length: 20 }, (_, i) => ({ name: `doc-${i}`, content: 'w'.repeat(100_000) }));
    const refused = await failure(client.call(PERSISTENCE_RPC.ingestKnowledge, { documents }));
    expect(refused).toMatchObject({ code: ErrorCode.INVALID_INPUT, reason: RPC_FAILURE.requestTooLarge });
    await nc.flush();
    expect(received).toBe(0);
  });
});
