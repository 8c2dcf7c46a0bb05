import { connect } from 'nats';
import { subjects } from '@herald/contracts';
import { Cluster } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { runViolations } from '../support/invariants';
import { storedEvents } from '../support/stored';
import { NatsServer, untilJetStream } from '../support/infra-servers';
import { countLoss, recordScenario } from '../support/scenario-results';
import { setTimeout as sleep } from 'node:timers/promises';

const QUESTION = 'Explain how JetStream stores events and how resume works after a reconnect';

/** Asks until the system answers; UNAVAILABLE means nothing was done, so asking again is safe. */
async function untilAccepted<T>(ask: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await ask();
    } catch (err) {
      if (Date.now() > deadline || (err as { code?: string }).code !== 'UNAVAILABLE') throw err;
      await sleep(250);
    }
  }
}

describe('chaos: a three-node NATS cluster with JetStream replicas = 3', () => {
  let nodes: NatsServer[];
  let cluster: Cluster;

  beforeAll(async () => {
    nodes = await NatsServer.cluster(3);
    const natsUrl = nodes.map((n) => n.url).join(',');
    await untilJetStream(natsUrl);
    cluster = await Cluster.start({ gateways: 2, natsUrl, env: { NATS_STREAM_REPLICAS: '3', LOCAL_ENGINE_TOKEN_DELAY_MS: '20' } });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop().catch(() => undefined);
    await Promise.all((nodes ?? []).map((n) => n.destroy()));
  }, 60_000);

  it('keeps serving when one node is killed: runs complete, and every event is still there on resume', async () => {
    const nc = await connect({ servers: cluster.natsUrl.split(',') });
    const jsm = await nc.jetstreamManager();
    const streams = subjects(cluster.namespace).streams;
    for (const stream of Object.values(streams)) expect((await jsm.streams.info(stream)).config.num_replicas).toBe(3);
    const leader = (await jsm.streams.info(streams.events)).cluster?.leader;
    await nc.close();

    const client = await cluster.client('cleo', 0);
    const seen = new EventCollector(client);
    const first = await client.send(QUESTION, { stream: true });
    await seen.untilSeen(first.runId, (e) => e.type === 'message_delta');

    // Kill the EVENTS stream's leader mid-run: the harshest single node to lose.
    const victim = nodes.find((n) => n.name === leader) ?? nodes[0];
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const firstEvents = await seen.until(first.runId, 60_000);
    const recoveryMs = Date.now() - killedAt;
    expect(firstEvents.at(-1)!.type).toBe('orchestration_completed');
    expect(runViolations(firstEvents, { stream: true })).toEqual([]);

    // While the RUNS stream elects a new leader a message may be refused with UNAVAILABLE (nothing accepted): send again.
    const next = await untilAccepted(() => client.send('And after the node is gone?', { conversationId: first.conversationId }));
    expect((await seen.until(next.runId, 60_000)).at(-1)!.type).toBe('orchestration_completed');

    const stored = await untilAccepted(() => storedEvents(cluster, 'cleo', 1));
    expect(stored.map((e) => e.id)).toEqual(seen.events.map((e) => e.id));
    expect(stored).toEqual(seen.events);
    recordScenario({
      scenario: 'NATS cluster: stream leader SIGKILL mid-run',
      ...countLoss(stored, seen.events),
      recoveryMs,
      notes: 'kill → the run in flight completed',
    });
  }, 180_000);
});
