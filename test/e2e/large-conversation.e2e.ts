import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Cluster } from '../support/cluster';

/**
 * The finding this guards against: a conversation whose messages add up to more than NATS's
 * max_payload (1 MiB) made `GET /v1/conversations/:id/messages` build a reply that could not
 * be sent; msg.respond threw outside any handler and the persistence process died, so every
 * user got 503 until a restart. Now pages are bounded, a reply that is still too large is a
 * clear error, and nothing takes a service down.
 */
describe('a conversation larger than NATS’s max payload (real processes)', () => {
  let cluster: Cluster;
  let db: Client;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 1 });
    db = new Client({ connectionString: cluster.databaseUrl });
    await db.connect();
  }, 60_000);

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await cluster?.stop();
  }, 30_000);

  /**
   * Messages written straight into Postgres (fast), a second apart, oldest first, each one after
   * the conversation's active leaf and the new active leaf (one branch); their ids in that order.
   */
  async function fill(conversationId: string, count: number, content: (i: number) => string, from = Date.now() - 86_400_000) {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      await db.query(
        `WITH added AS (
           INSERT INTO messages (id, conversation_id, parent_id, run_id, role, content, metadata, created_at)
           SELECT $1, c.id, c.active_leaf_id, NULL, $3, $4, $5, $6 FROM conversations c WHERE c.id = $2
           RETURNING id
         )
         UPDATE conversations SET active_leaf_id = (SELECT id FROM added) WHERE id = $2`,
        [
          id,
          conversationId,
          i % 2 === 0 ? 'user' : 'assistant',
          content(i),
          i % 2 === 0 ? null : JSON.stringify({ intent: 'question', sources: [] }),
          new Date(from + i * 1000),
        ],
      );
    }
    return ids;
  }

  const metric = async (url: string, pattern: RegExp) => Number(pattern.exec(await (await fetch(url)).text())?.[1] ?? NaN);

  it('pages fine over HTTP, answers a reply too large to send with a clear error, and persistence stays up', async () => {
    const userId = 'long-talker';
    const conversationId = randomUUID();
    await db.query(`INSERT INTO conversations (id, user_id, title) VALUES ($1, $2, 'Emoji')`, [conversationId, userId]);
    // 40 answers of 8000 emoji: 32,000 bytes each, 1.28 MB together, over NATS's 1 MiB.
    const ids = await fill(conversationId, 40, (i) => `${i} ${'😀'.repeat(8000)}`);
    const base = `/v1/conversations/${conversationId}/messages`;

    const all = await cluster.http(base, { userId });
    expect(all.status).toBe(200);
    const body = (await all.json()) as { messages: Array<{ id: string; content: string }>; nextBefore: string | null };
    expect(body.messages.map((m) => m.id)).toEqual(ids);
    expect(body.nextBefore).toBeNull();
    expect(body.messages[39].content).toBe(`39 ${'😀'.repeat(8000)}`);

    const seen: string[][] = [];
    let before: string | null = null;
    do {
      const res = await cluster.http(`${base}?limit=15${before ? `&before=${before}` : ''}`, { userId });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { messages: Array<{ id: string }>; nextBefore: string | null };
      seen.unshift(page.messages.map((m) => m.id));
      before = page.nextBefore;
    } while (before);
    expect(seen.map((p) => p.length)).toEqual([10, 15, 15]);
    expect(seen.flat()).toEqual(ids);

    // One stored message larger than any NATS message (possible only behind the service's back):
    // its page cannot be sent, and says so.
    const persistence = cluster.services.find((s) => s.app === 'persistence')!;
    const [huge] = await fill(conversationId, 1, () => 'x'.repeat(1_100_000), Date.now());
    const refused = await cluster.http(base, { userId });
    expect(refused.status).toBe(500);
    expect(await refused.json()).toEqual({ error: { code: 'INTERNAL', message: expect.stringMatching(/too large/) } });

    // Persistence is still the same process, ready and answering; the pages before that message read fine.
    expect(persistence.process.exitCode).toBeNull();
    expect((await fetch(`${persistence.url}/health/ready`)).status).toBe(200);
    const older = await cluster.http(`${base}?before=${huge}&limit=5`, { userId });
    expect(older.status).toBe(200);
    expect(((await older.json()) as { messages: Array<{ id: string }> }).messages.map((m) => m.id)).toEqual(ids.slice(35));
    expect((await cluster.http('/v1/conversations', { userId })).status).toBe(200);

    const gateway = cluster.services.find((s) => s.app === 'gateway')!;
    expect(
      await metric(gateway.metricsUrl, /^herald_rpc_client_failures_total\{op="conversation\.messages",reason="reply_too_large"\} (\d+)/m),
    ).toBe(1);
    for (const service of cluster.services) {
      expect({
        service: service.name,
        unhandled: await metric(service.metricsUrl, /^herald_unhandled_errors_total\{kind="unhandled_rejection"\} (\d+)/m),
      }).toEqual({
        service: service.name,
        unhandled: 0,
      });
    }
    expect(cluster.logLines(persistence.name).some((l) => l.msg === 'rpc reply too large to send; answering with an error')).toBe(true);
  });
});
