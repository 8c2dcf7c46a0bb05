import type { AgentEvent } from '@herald/contracts';
import type { Cluster } from './cluster';
import { EventCollector, waitFor } from './event-collector';

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
    timeoutMs,
    () => `run ${runId} was not logged up to event ${lastEventId}`,
  );
}
