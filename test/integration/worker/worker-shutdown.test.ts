import { AGENT, agentJobResultSchema } from '@herald/contracts';
import { agentJob, CHUNKS } from '../../support/worker-fixtures';
import { WorkerHarness } from '../../support/worker-harness';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

describe('worker graceful shutdown', () => {
  let h: WorkerHarness;

  beforeAll(async () => {
    h = await WorkerHarness.start(CHUNKS, { LOCAL_ENGINE_TOKEN_DELAY_MS: '15' });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('finishes the active job, with all its events, before closing its connections', async () => {
    const passages = [{ id: 'kb-resume-1', title: 'Resuming events', content: CHUNKS[3].content, score: 0.3 }];
    const job = agentJob(
      AGENT.reporting,
      2,
      { question: 'How does a client resume events after it reconnects?', intent: 'question', passages },
      { stream: true },
    );
    const added = await h.add(job);
    const finished = added.waitUntilFinished(h.queueEvents, 20_000);
    await waitFor(() => h.typesOf(job.runId).includes('message_delta'), 'a message_delta');

    const closing = h.closeWorker();
    const result = agentJobResultSchema.parse(await finished);
    await closing;

    const events = await h.settledEventsOf(job.runId);
    const message = events.find((e) => e.type === 'message');
    expect(message?.type === 'message' && message.data.content).toBe(result.output.content);
    expect(events.at(-1)!.type).toBe('agent_completed');
    const deltas = events.flatMap((e) => (e.type === 'message_delta' ? [e.data.delta] : []));
    expect(deltas.join('')).toBe(result.output.content);

    // Closed: a job queued now stays waiting.
    const later = await h.add(agentJob(AGENT.triage, 0, { question: 'What is NATS?' }));
    await sleep(300); // how long it stays waiting: no condition to poll for
    expect(await later.getState()).toBe('waiting');
  });
});
