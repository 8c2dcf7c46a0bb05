import { signDevToken } from '@herald/auth';
import { Cluster, CLUSTER_JWT_SECRET } from '../support/cluster';

describe('POST /v1/knowledge (real processes)', () => {
  let cluster: Cluster;
  let adminToken: string;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 1 });
    adminToken = await signDevToken('kb-admin', CLUSTER_JWT_SECRET, { ttlSeconds: 600, role: 'admin' });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  const post = (body: unknown, token?: string) =>
    fetch(`${cluster.gatewayUrl()}/v1/knowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const doc = {
    name: 'Zephyrine Gardens.md',
    content: '# Zephyrine gardens\n\nThe zephyrine gardens are watered by Herald operators every Tuesday at dawn, using rainwater.\n',
  };

  it('lets an admin add a document that the knowledge agent then finds and cites', async () => {
    const res = await post({ documents: [doc] }, adminToken);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ documents: [{ id: 'zephyrine-gardens', title: expect.any(String), chunks: 1 }] });

    const client = await cluster.client('kb-reader');
    const run = await client.ask('When are the zephyrine gardens watered?');
    const events = await run.done();
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error(`no answer: ${events.map((e) => e.type).join(',')}`);
    expect(message.data.metadata.sources.map((s) => s.id.split('#')[0])).toContain('zephyrine-gardens');
    expect(message.data.content).toMatch(/Tuesday/);

    // Posting the same name again replaces the document (idempotent on the name).
    const again = await post({ documents: [{ ...doc, content: '# Zephyrine gardens\n\nNow watered on Fridays.\n' }] }, adminToken);
    expect(again.status).toBe(201);
  });

  it('refuses a user without the admin role (403), no token (401) and bad bodies (400/413)', async () => {
    const user = await cluster.token('not-admin');
    const forbidden = await post({ documents: [doc] }, user);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
    expect((await post({ documents: [doc] })).status).toBe(401);
    for (const bad of [
      {},
      { documents: [] },
      { documents: [{ name: 'x', content: '   ' }] },
      { documents: [{ name: '', content: 'x' }] },
      '{"documents":',
    ]) {
      const res = await post(bad, adminToken);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
      expect((await res.json()).error.code).toBe('INVALID_INPUT');
    }
    const dup = await post({ documents: [doc, doc] }, adminToken);
    expect(dup.status).toBe(400);
    const huge = await post({ documents: [{ name: 'big', content: 'x'.repeat(1_100_000) }] }, adminToken);
    expect(huge.status).toBe(413);
  });
});
