import { AGENT, agentJobId, agentJobResultSchema, knowledgeOutputSchema, triageOutputSchema } from '@herald/contracts';
import { encodeJson } from '@herald/messaging';
import { Job } from 'bullmq';
import type { Pool } from 'pg';
import { KB_POOL } from '../../../apps/worker/src/agents/agents.tokens';
import { agentJob, CHUNKS } from '../../support/worker-fixtures';
import { type ReadEvent, WorkerHarness } from '../../support/worker-harness';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

const TOKEN_DELAY_MS = 20;

/** Progress of a step's events: inside the job's range, never decreasing. */
function expectProgressWithin(events: ReadEvent[], from: number, to: number) {
  const progress = events.map((e) => e.progress);
  expect(progress.length).toBeGreaterThan(0);
  for (const p of progress) {
    expect(p).toBeGreaterThanOrEqual(from - 0.0005);
    expect(p).toBeLessThanOrEqual(to + 0.0005);
  }
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
}

describe('worker (in-process, real Redis, NATS and Postgres)', () => {
  let h: WorkerHarness;

  beforeAll(async () => {
    h = await WorkerHarness.start(CHUNKS, { LOCAL_ENGINE_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('runs triage: returns intent and plan, and publishes its lifecycle with deterministic msg ids', async () => {
    const job = agentJob(
      AGENT.triage,
      0,
      { question: 'What is NATS JetStream?', intent: 'question', passages: [] },
      { progress: { from: 0.05, to: 0.15 } },
    );
    const result = agentJobResultSchema.parse(await h.run(job));
    expect(triageOutputSchema.parse(result.output)).toEqual({
      intent: 'question',
      confidence: expect.any(Number),
      plan: ['knowledge', 'reporting'],
      interactive: [],
    });
    expect(result.usage?.promptTokens).toBeGreaterThan(0);

    const events = await h.settledEventsOf(job.runId);
    expect(events.map((e) => e.type)).toEqual(['agent_started', 'status', 'agent_thinking', 'agent_completed']);
    expect(events[1].data).toEqual({ step: 'routing', message: 'Classifying your query…' });
    expect(events.map((e) => e.msgId)).toEqual([1, 2, 3, 4].map((n) => `${job.runId}:0:e${n}`));
    expect(events.every((e) => e.conversationId === job.conversationId && e.trace === undefined)).toBe(true);
    expectProgressWithin(events, 0.05, 0.15);
    expect(events.at(-1)!.progress).toBeCloseTo(0.15, 3);
    // Published on the subject of the user (whatever characters the id has), conversation and run.
    expect(new Set(events.map((e) => e.subject))).toEqual(new Set([h.subjects.events(job.userId, job.conversationId, job.runId)]));
  });

  it('classifies small talk as chitchat with a plan of reporting only', async () => {
    const job = agentJob(AGENT.triage, 0, { question: 'Hello there!' });
    const result = agentJobResultSchema.parse(await h.run(job));
    expect(result.output).toMatchObject({ intent: 'chitchat', plan: ['reporting'] });
  });

  it('runs knowledge: balanced knowledge_search calls, passages with scores, a summary trace', async () => {
    const job = agentJob(
      AGENT.knowledge,
      1,
      { question: 'How do JetStream consumers read messages?', intent: 'question', passages: [] },
      { traceLevel: 'summary' },
    );
    const result = agentJobResultSchema.parse(await h.run(job));
    const { passages } = knowledgeOutputSchema.parse(result.output);
    expect(passages.length).toBeGreaterThan(0);
    expect(passages[0]).toMatchObject({
      id: 'kb-jetstream-2',
      title: 'JetStream consumers',
      content: expect.stringContaining('Consumers read'),
    });
    for (const p of passages) expect(p.score).toBeGreaterThan(0);

    const events = await h.settledEventsOf(job.runId);
    const executing = events.flatMap((e) => (e.type === 'tool_executing' ? [e.data] : []));
    const completed = events.flatMap((e) => (e.type === 'tool_completed' ? [e.data] : []));
    expect(executing).toEqual([
      {
        agent: 'knowledge',
        stepId: '1',
        tool: 'knowledge_search',
        callId: `call_${job.runId}_1_1`,
        input: { query: 'How do JetStream consumers read messages?', limit: 5 },
      },
    ]);
    expect(completed).toEqual([
      expect.objectContaining({ callId: `call_${job.runId}_1_1`, tool: 'knowledge_search', ok: true, durationMs: expect.any(Number) }),
    ]);
    expect(events.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.data.step)).toEqual(['retrieving', 'grading']);
    const toolDone = events.find((e) => e.type === 'tool_completed')!;
    expect(toolDone.trace).toEqual({ latencyMs: expect.any(Number) });
    expect(events.find((e) => e.type === 'agent_completed')!.trace).toEqual({ latencyMs: expect.any(Number) });
    expect(events.find((e) => e.type === 'agent_thinking')!.trace).toBeUndefined();
    expectProgressWithin(events, 0.1, 0.4);
  });

  it('retries the search once with any of the words when nothing matches them all', async () => {
    const job = agentJob(
      AGENT.knowledge,
      1,
      { question: 'Does BullMQ support quantum teleportation?', intent: 'question' },
      { traceLevel: 'full' },
    );
    const result = agentJobResultSchema.parse(await h.run(job));
    expect(knowledgeOutputSchema.parse(result.output).passages.map((p) => p.id)).toEqual(['kb-bullmq-1']);
    const events = await h.settledEventsOf(job.runId);
    const queries = events.flatMap((e) => (e.type === 'tool_executing' ? [(e.data.input as { query: string }).query] : []));
    expect(queries).toEqual(['Does BullMQ support quantum teleportation?', 'bullmq or support or quantum or teleportation']);
    const calls = events.filter((e) => e.type === 'tool_completed');
    expect(calls.map((e) => e.type === 'tool_completed' && e.data.callId)).toEqual([`call_${job.runId}_1_1`, `call_${job.runId}_1_2`]);
    expect(calls[1].trace).toMatchObject({
      latencyMs: expect.any(Number),
      query: 'bullmq or support or quantum or teleportation',
      scores: [expect.any(Number)],
    });
  });

  it('runs reporting with stream: deltas add up to the message, which cites its sources', async () => {
    const knowledge = agentJobResultSchema.parse(
      await h.run(agentJob(AGENT.knowledge, 1, { question: 'What is JetStream and how are messages stored?' })),
    );
    const passages = knowledgeOutputSchema.parse(knowledge.output).passages;
    expect(passages.length).toBeGreaterThan(0);

    const job = agentJob(
      AGENT.reporting,
      2,
      { question: 'What is JetStream and how are messages stored?', intent: 'question', passages },
      {
        stream: true,
        progress: { from: 0.5, to: 0.97 },
      },
    );
    const added = await h.add(job);
    const result = agentJobResultSchema.parse(await added.waitUntilFinished(h.queueEvents, 20_000));
    const events = await h.settledEventsOf(job.runId);
    const deltas = events.flatMap((e) => (e.type === 'message_delta' ? [e.data] : []));
    const messages = events.flatMap((e) => (e.type === 'message' ? [e.data] : []));
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.every((d) => d.messageId === job.messageId)).toBe(true);
    expect(deltas.map((d) => d.delta).join('')).toBe(message.content);
    expect(message).toMatchObject({ messageId: job.messageId, role: 'assistant', metadata: { intent: 'question' } });
    expect(message.metadata.sources).toEqual(passages.map(({ id, title, score }) => ({ id, title, score })));
    expect(message.content).toMatch(/\[1\]/);
    expect(result.output).toEqual({ content: message.content, sources: message.metadata.sources });
    expect(result.usage?.completionTokens).toBeGreaterThan(0);
    // Every event of the step is published before the job settles.
    expect(events.at(-1)!.type).toBe('agent_completed');
    expectProgressWithin(events, 0.5, 0.97);
    expect(events.at(-1)!.progress).toBeCloseTo(0.97, 3);
  });

  it('answers chitchat without sources and without deltas when not streaming', async () => {
    const job = agentJob(AGENT.reporting, 1, { question: 'thanks a lot!', intent: 'chitchat', passages: [] });
    const result = agentJobResultSchema.parse(await h.run(job));
    const types = (await h.settledEventsOf(job.runId)).map((e) => e.type);
    expect(types).not.toContain('message_delta');
    expect(types.filter((t) => t === 'message')).toHaveLength(1);
    expect(result.output).toMatchObject({ content: expect.any(String), sources: [] });
  });

  it('stores each event once when a step runs again (a redriven job), however its first run grouped them', async () => {
    const job = agentJob(AGENT.triage, 0, { question: 'What is BullMQ?' });
    await h.run(job);
    const first = (await h.settledEventsOf(job.runId)).map((e) => [e.seq, e.msgId]);
    expect(first.map(([, msgId]) => msgId)).toEqual([1, 2, 3, 4].map((n) => `${job.runId}:0:e${n}`));
    // A redelivered run's supervisor queues the step again as a new job marked redriven (the old one was removed).
    await (await h.add({ ...job, redriven: true }, `${job.runId}-again`)).waitUntilFinished(h.queueEvents, 20_000);
    await h.quiet(200);
    expect(h.eventsOf(job.runId).map((e) => [e.seq, e.msgId])).toEqual(first);
  });

  it('stops a step promptly on a cancel command mid-stream; no event of it follows', async () => {
    const passages = [{ id: 'kb-jetstream-1', title: 'NATS JetStream', content: CHUNKS[0].content + ' ' + CHUNKS[1].content, score: 0.5 }];
    const job = agentJob(
      AGENT.reporting,
      2,
      { question: 'How does JetStream store messages and consumers read streams?', intent: 'question', passages },
      {
        stream: true,
      },
    );
    const added = await h.add(job);
    const settled = added.waitUntilFinished(h.queueEvents, 20_000).then(
      () => 'completed',
      (err: Error) => err.message,
    );
    await waitFor(() => h.typesOf(job.runId).filter((t) => t === 'message_delta').length >= 3, 'three message_delta events');

    const cancelledAt = Date.now();
    h.nc.publish(h.subjects.runCancel, encodeJson({ runId: job.runId, userId: job.userId, reason: 'cancelled by the user' }));
    expect(await settled).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(1000);

    // The supervisor publishes the terminal event once the job has settled.
    const scope = { userId: job.userId, conversationId: job.conversationId, runId: job.runId };
    await h.publisher.publish(scope, 'run_cancelled', { reason: 'cancelled by the user' }, { progress: 1, msgId: `${job.runId}:terminal` });
    await sleep(TOKEN_DELAY_MS * 10);
    await h.quiet(200);
    const events = await h.settledEventsOf(job.runId);
    expect(events.at(-1)!.type).toBe('run_cancelled');
    expect(events.map((e) => e.type)).not.toContain('message');
    expect(events.map((e) => e.type)).not.toContain('agent_completed');
    const failed = await Job.fromId(h.queue, added.id!);
    expect(failed?.failedReason).toBe('cancelled');
    expect(failed?.attemptsMade).toBe(1);
  });

  it('refuses a run cancelled before its step started, and emits nothing', async () => {
    const job = agentJob(AGENT.triage, 0, { question: 'What is NATS?' });
    await h.redis.set(h.subjects.keys.runCancelled(job.runId), 'cancelled by the user', 'EX', 60);
    await expect(h.run(job)).rejects.toThrow('cancelled');
    await h.quiet(200);
    expect(h.eventsOf(job.runId)).toEqual([]);
  });

  it('fails a job with bad data for good, without emitting anything', async () => {
    const bad = { ...agentJob(AGENT.triage, 0, { question: 'What is NATS?' }), step: -1 };
    const added = await h.queue.add(AGENT.triage, bad, { jobId: `${bad.runId}-bad`, attempts: 3 });
    await expect(added.waitUntilFinished(h.queueEvents, 10_000)).rejects.toThrow(/INVALID_INPUT/);
    const unknown = agentJob('nobody', 0, { question: 'x' });
    await expect(h.run(unknown)).rejects.toThrow(/no agent named "nobody"/);
    const badInput = agentJob(AGENT.triage, 0, { question: '' });
    await expect(h.run(badInput)).rejects.toThrow(/INVALID_INPUT/);
    expect((await Job.fromId(h.queue, added.id!))?.attemptsMade).toBe(1);
    await h.quiet(200);
    for (const runId of [bad.runId, unknown.runId, badInput.runId]) expect(h.eventsOf(runId)).toEqual([]);
  });

  it('publishes one step-settled notice, with the result, once the job is recorded as completed', async () => {
    const job = agentJob(AGENT.triage, 0, { question: 'What is NATS JetStream?' });
    const jobId = agentJobId(job.runId, job.step);
    const result = await h.run(job);
    await waitFor(() => h.noticesOf(jobId).some((n) => n.stateOnArrival), 'the notice');
    await sleep(200); // no second notice follows
    expect(h.noticesOf(jobId)).toEqual([{ jobId, state: 'completed', result, stateOnArrival: 'completed' }]);
  });

  it('publishes one failed notice for a job failed for good, none for the attempts BullMQ retries', async () => {
    // Searching fails (UNAVAILABLE, retryable) until the table is back: all three attempts fail.
    const job = agentJob(AGENT.knowledge, 1, { question: 'How does JetStream store messages?', intent: 'question' });
    const jobId = agentJobId(job.runId, job.step);
    await h.sql('ALTER TABLE kb_chunks RENAME TO kb_chunks_away');
    try {
      await expect(h.run(job)).rejects.toThrow(/UNAVAILABLE/);
    } finally {
      await h.sql('ALTER TABLE kb_chunks_away RENAME TO kb_chunks');
    }
    const failed = await Job.fromId(h.queue, jobId);
    expect(failed?.attemptsMade).toBe(3);
    await waitFor(() => h.noticesOf(jobId).some((n) => n.stateOnArrival), 'the notice');
    await sleep(200); // no second notice follows
    expect(h.noticesOf(jobId)).toEqual([{ jobId, state: 'failed', reason: failed!.failedReason, stateOnArrival: 'failed' }]);

    // An UnrecoverableError fails the job for good at its first attempt.
    const unknown = agentJob('nobody', 0, { question: 'x' });
    const unknownId = agentJobId(unknown.runId, unknown.step);
    await expect(h.run(unknown)).rejects.toThrow(/no agent named "nobody"/);
    await waitFor(() => h.noticesOf(unknownId).some((n) => n.stateOnArrival), "the notice of the unknown agent's job");
    await sleep(200); // no second notice follows
    expect(h.noticesOf(unknownId)).toEqual([
      { jobId: unknownId, state: 'failed', reason: expect.stringMatching(/no agent named "nobody"/), stateOnArrival: 'failed' },
    ]);
  });

  it('reads the knowledge base through a read-only connection', async () => {
    const pool = h.app.get<Pool>(KB_POOL);
    await expect(pool.query("INSERT INTO kb_documents (id, title, source) VALUES ('x', 't', 'test')")).rejects.toThrow(/read-only/);
  });
});
