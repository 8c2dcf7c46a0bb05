import type { AgentEvent } from '@herald/contracts';
import { Cluster } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { runViolations } from '../support/invariants';

/**
 * Two deployments on one NATS, one Redis and one Postgres server (each with its own
 * HERALD_NAMESPACE and database, as the README says they must): the same user id in both
 * sees only its own deployment's events, conversations, runs and rate limit.
 */
describe('two deployments sharing the servers (HERALD_NAMESPACE)', () => {
  let blue: Cluster;
  let green: Cluster;
  const USER = 'same-user';

  beforeAll(async () => {
    const opts = { gateways: 1, env: { RATE_LIMIT_PER_MINUTE: '2' } };
    [blue, green] = await Promise.all([Cluster.start(opts), Cluster.start(opts)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([blue?.stop(), green?.stop()]);
  }, 30_000);

  it('keeps events, conversations, runs and rate limits of the same user apart', async () => {
    expect(blue.namespace).not.toBe(green.namespace);
    const [onBlue, onGreen] = await Promise.all([blue.client(USER), green.client(USER)]);
    const [seenBlue, seenGreen] = [new EventCollector(onBlue), new EventCollector(onGreen)];

    // Both deployments run a question for the same user at the same time.
    const [blueRun, greenRun] = await Promise.all([onBlue.send('What is NATS JetStream?'), onGreen.send('Hello there!')]);
    const [blueEvents, greenEvents] = await Promise.all([seenBlue.until(blueRun.runId), seenGreen.until(greenRun.runId)]);
    expect(runViolations(blueEvents)).toEqual([]);
    expect(runViolations(greenEvents)).toEqual([]);
    const onlyRun = (events: AgentEvent[], runId: string) => [...new Set(events.map((e) => e.runId))].filter((id) => id !== runId);
    expect(onlyRun(seenBlue.events, blueRun.runId)).toEqual([]);
    expect(onlyRun(seenGreen.events, greenRun.runId)).toEqual([]);

    // Conversations and runs: each deployment knows only its own.
    const conversationsOf = async (cluster: Cluster) =>
      (await (await cluster.http('/v1/conversations', { userId: USER })).json()).conversations.map((c: { id: string }) => c.id);
    expect(await conversationsOf(blue)).toEqual([blueRun.conversationId]);
    expect(await conversationsOf(green)).toEqual([greenRun.conversationId]);
    expect((await green.http(`/v1/runs/${blueRun.runId}`, { userId: USER })).status).toBe(404);
    expect((await blue.http(`/v1/conversations/${greenRun.conversationId}/messages`, { userId: USER })).status).toBe(404);
    await expect(onGreen.cancel(blueRun.runId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(onBlue.send('into the other one', { conversationId: greenRun.conversationId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });

    // Rate limits are counted per deployment: blue is now at its limit of 2, green is not.
    await onBlue.send('second on blue');
    await expect(onBlue.send('third on blue')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(onGreen.send('second on green')).resolves.toMatchObject({ runId: expect.any(String) });
  }, 60_000);
});
