import { type AgentEvent, subjects } from '@herald/contracts';
import { HEADER, readHeader } from '@herald/messaging';
import { parseTraceparent, type TraceContext } from '@herald/observability';
import { connect } from 'nats';
import type { Cluster } from './cluster';
import { EventCollector } from './event-collector';
import { waitFor } from './polling';

/**
 * What the system stored for the user (JetStream, then the Postgres event log), as a fresh
 * client on `gateway` replays it from the start: what every client must end up with.
 */
export async function storedEvents(cluster: Cluster, userId: string, gateway: number, runId?: string): Promise<AgentEvent[]> {
  const probe = await cluster.client(userId, gateway);
  const seen = new EventCollector(probe);
  try {
    await probe.resume('0');
  } finally {
    probe.close();
  }
  return runId === undefined ? seen.events : seen.of(runId);
}

/** The conversation's stored messages (none while the service cannot answer). */
export async function storedMessages(
  cluster: Cluster,
  userId: string,
  conversationId: string,
  gateway = 0,
): Promise<Array<{ id: string; role: string; content: string; runId: string }>> {
  const res = await cluster.http(`/v1/conversations/${conversationId}/messages`, { userId, gateway });
  return res.ok ? (await res.json()).messages : [];
}

/** Resolves once persistence has logged the run up to `lastEventId` (GET /v1/runs/:runId). */
export async function untilRunLogged(cluster: Cluster, userId: string, runId: string, lastEventId: string, timeoutMs = 30_000) {
  await waitFor(
    async () => {
      const res = await cluster.http(`/v1/runs/${runId}`, { userId });
      return res.ok && (await res.json()).lastEventId === lastEventId;
    },
    () => `run ${runId} was not logged up to event ${lastEventId}`,
    timeoutMs,
  );
}

/** The trace context (`traceparent` header) of every event of a run, as the EVENTS stream stores them. */
export async function eventTraceparents(cluster: Cluster, conversationId: string, runId: string): Promise<Array<TraceContext | undefined>> {
  const s = subjects(cluster.namespace);
  const nc = await connect({ servers: cluster.natsUrl.split(',') });
  try {
    const consumer = await nc.jetstream().consumers.get(s.streams.events, {
      filterSubjects: `${s.namespace}.evt.*.${conversationId}.${runId}`,
    });
    const traces: Array<TraceContext | undefined> = [];
    // A fetch ends once its expiry passes with nothing more to deliver.
    for await (const m of await consumer.fetch({ max_messages: 1000, expires: 1000 })) {
      traces.push(parseTraceparent(readHeader(m.headers, HEADER.traceparent)));
    }
    return traces;
  } finally {
    await nc.close();
  }
}
