import { randomUUID } from 'node:crypto';
import { PERSISTENCE_RPC, type AdmitRunReply, type RunSnapshot } from '@herald/contracts';
import { encodeJson } from '@herald/messaging';
import { Client } from 'pg';
import { EVENT_WRITER_ACK_WAIT_MS, EVENT_WRITER_HEARTBEAT_MS } from '../../../apps/persistence/src/event-log/event-writer.consumer';
import { PersistenceHarness } from '../../support/persistence-harness';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

type Run = { userId: string; conversationId: string; runId: string };

describe('persistence event writer', () => {
  let h: PersistenceHarness;

  beforeAll(async () => {
    h = await PersistenceHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function admitted(userId: string, content = 'What is NATS JetStream?'): Promise<{ run: Run; reply: AdmitRunReply }> {
    const reply = await h.admit(userId, { content });
    return { run: { userId, conversationId: reply.conversationId, runId: reply.runId }, reply };
  }

  const snapshot = (run: Run) => h.call(PERSISTENCE_RPC.getRun, { userId: run.userId, runId: run.runId });
  const runStatus = (run: Run, status: RunSnapshot['status']) =>
    waitFor(async () => {
      const s = await snapshot(run);
      return s.status === status && s;
    }, `run ${run.runId} to be ${status}`);
  const eventRows = (run: Run) =>
    h.rows<{ id: string; user_id: string; type: string; envelope: { type: string; progress: number } }>(
      `SELECT id::text, user_id, type, envelope FROM events WHERE run_id = $1 ORDER BY events.id`,
      [run.runId],
    );

  /** A full completed run, as the orchestrator and workers publish it; resolves with the event ids. */
  async function publishCompletedRun(run: Run, messageId: string): Promise<number[]> {
    return [
      await h.publish(run, 'orchestration_started', { intent: 'question' }, 0.05),
      await h.publish(run, 'status', { step: 'routing', message: 'Classifying your query…' }, 0.1),
      await h.publish(run, 'agent_started', { agent: 'knowledge' }, 0.2),
      await h.publish(run, 'tool_executing', { agent: 'knowledge', tool: 'kb.search', callId: 'c1', input: { q: 'JetStream' } }, 0.3),
      await h.publish(run, 'tool_completed', { agent: 'knowledge', tool: 'kb.search', callId: 'c1', ok: true, durationMs: 12 }, 0.5),
      await h.publish(run, 'agent_completed', { agent: 'knowledge', durationMs: 40 }, 0.6),
      await h.publish(run, 'message_delta', { messageId, delta: 'JetStream is ' }, 0.8),
      await h.publish(
        run,
        'message',
        {
          messageId,
          role: 'assistant',
          content: 'JetStream is the persistence layer of NATS.',
          metadata: { intent: 'question', sources: [{ id: 'nats-jetstream-design#1', title: 'NATS and JetStream design', score: 0.8 }] },
        },
        0.95,
      ),
      await h.publish(run, 'orchestration_completed', { durationMs: 1200 }, 1),
    ];
  }

  it('writes a completed run’s events, moves the run to completed and stores both messages', async () => {
    const { run, reply } = await admitted('alice');
    const [{ updated_at: updatedBefore }] = await h.rows<{ updated_at: Date }>(`SELECT updated_at FROM conversations WHERE id = $1`, [
      run.conversationId,
    ]);
    const ids = await publishCompletedRun(run, reply.messageId);

    const done = await runStatus(run, 'completed');
    expect(done).toMatchObject({ progress: 1, lastEventId: String(ids[ids.length - 1]) });
    expect(done.startedAt).not.toBeNull();
    expect(done.endedAt).not.toBeNull();
    expect(Date.parse(done.endedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!));

    const rows = await eventRows(run);
    expect(rows.map((r) => r.id)).toEqual(ids.map(String));
    expect(rows.every((r) => r.user_id === 'alice')).toBe(true);
    expect(rows.map((r) => r.type)).toEqual(rows.map((r) => r.envelope.type));
    expect(rows[rows.length - 1].type).toBe('orchestration_completed');

    const { messages } = await h.call(PERSISTENCE_RPC.listMessages, {
      userId: 'alice',
      conversationId: run.conversationId,
      limit: 50,
    });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({
      id: reply.userMessageId,
      role: 'user',
      content: 'What is NATS JetStream?',
      runId: run.runId,
      metadata: null,
    });
    expect(messages[0].createdAt).toBe(reply.acceptedAt);
    expect(messages[1]).toMatchObject({
      id: reply.messageId,
      role: 'assistant',
      content: 'JetStream is the persistence layer of NATS.',
      runId: run.runId,
      metadata: { intent: 'question', sources: [{ id: 'nats-jetstream-design#1', title: 'NATS and JetStream design', score: 0.8 }] },
    });
    const [{ updated_at: updatedAfter }] = await h.rows<{ updated_at: Date }>(`SELECT updated_at FROM conversations WHERE id = $1`, [
      run.conversationId,
    ]);
    expect(updatedAfter.getTime()).toBeGreaterThan(updatedBefore.getTime());

    const history = await h.call(PERSISTENCE_RPC.history, { conversationId: run.conversationId, limit: 10 });
    expect(history.messages).toEqual([
      { role: 'user', content: 'What is NATS JetStream?' },
      { role: 'assistant', content: 'JetStream is the persistence layer of NATS.' },
    ]);
  });

  it('stores no message for a cancelled run or a failed one, but keeps their events', async () => {
    const { run: cancelled } = await admitted('bob');
    await h.publish(cancelled, 'orchestration_started', {}, 0.05);
    await h.publish(cancelled, 'status', { step: 'routing', message: 'Classifying your query…' }, 0.1);
    await h.publish(cancelled, 'run_cancelled', { reason: 'cancelled by the user' }, 1);
    const { run: failed } = await admitted('bob');
    await h.publish(failed, 'orchestration_started', {}, 0.05);
    await h.publish(failed, 'error', { code: 'LLM_ERROR', message: 'The model is unavailable.', retryable: true }, 1);

    expect((await runStatus(cancelled, 'cancelled')).endedAt).not.toBeNull();
    expect((await runStatus(failed, 'failed')).progress).toBe(1);
    expect(await eventRows(cancelled)).toHaveLength(3);
    expect(await eventRows(failed)).toHaveLength(2);
    const [{ count }] = await h.rows(`SELECT count(*)::int AS count FROM messages WHERE run_id = ANY($1::uuid[])`, [
      [cancelled.runId, failed.runId],
    ]);
    expect(count).toBe(0);
  });

  it('follows a run through a wait: waiting on a clarification, running again on the next event', async () => {
    const { run } = await admitted('carol');
    await h.publish(run, 'orchestration_started', {}, 0.05);
    await h.publish(run, 'clarification_requested', { requestId: 'q1', question: 'Which stream?' }, 0.2);
    expect((await runStatus(run, 'waiting')).progress).toBeCloseTo(0.2, 5);
    await h.publish(run, 'agent_thinking', { agent: 'knowledge', thought: 'The user means EVENTS.' }, 0.3);
    expect((await runStatus(run, 'running')).progress).toBeCloseTo(0.3, 5);
  });

  it('writes nothing twice: not a republished event, not a redelivered one, not a second completion', async () => {
    const { run, reply } = await admitted('dave');
    const ids = await publishCompletedRun(run, reply.messageId);
    await runStatus(run, 'completed');
    const [before] = await h.rows<{ updated_at: Date }>(`SELECT updated_at FROM conversations WHERE id = $1`, [run.conversationId]);

    // The same publishes again (a retried job): JetStream answers with the same ids.
    expect(await publishCompletedRun(run, reply.messageId)).toEqual(ids);

    // A second completion under a new id is a new event, but stores no second message.
    const extra = await h.publish(run, 'orchestration_completed', { durationMs: 1 }, 1, `${run.runId}:again`);
    await waitFor(async () => (await snapshot(run)).lastEventId === String(extra), 'the extra event');

    // Redelivery of everything: a new consumer replays the whole stream into a new instance.
    await h.stopInstances();
    const jsm = await h.nc.jetstreamManager();
    await jsm.consumers.delete(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    await h.startInstance();
    const marker = await admitted('dave');
    await h.publish(marker.run, 'orchestration_started', {}, 0.1);
    await runStatus(marker.run, 'running'); // the replay has reached the end of the stream
    const consumer = await jsm.consumers.info(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    expect(consumer.delivered.consumer_seq).toBeGreaterThan(ids.length); // everything was delivered again

    expect((await eventRows(run)).map((r) => r.id)).toEqual([...ids, extra].map(String));
    const [{ count }] = await h.rows(`SELECT count(*)::int AS count FROM messages WHERE run_id = $1`, [run.runId]);
    expect(count).toBe(2);
    const [after] = await h.rows<{ updated_at: Date }>(`SELECT updated_at FROM conversations WHERE id = $1`, [run.conversationId]);
    expect(after.updated_at.getTime()).toBe(before.updated_at.getTime());
    const [{ total, distinct }] = await h.rows(`SELECT count(*)::int AS total, count(DISTINCT id)::int AS distinct FROM events`);
    expect(total).toBe(distinct);
  });

  it('stores the messages whichever of `message` and `orchestration_completed` is written first', async () => {
    const { run, reply } = await admitted('erin');
    await h.publish(run, 'orchestration_started', {}, 0.1);
    await runStatus(run, 'running');
    // The completion is written before the answer (as two instances may do).
    await h.publish(run, 'orchestration_completed', { durationMs: 5 }, 1);
    await runStatus(run, 'completed');
    expect(await h.rows(`SELECT id FROM messages WHERE run_id = $1`, [run.runId])).toHaveLength(0);
    await h.publish(
      run,
      'message',
      { messageId: reply.messageId, role: 'assistant', content: 'Late answer', metadata: { intent: 'question', sources: [] } },
      1,
    );
    await waitFor(async () => (await h.rows(`SELECT id FROM messages WHERE run_id = $1`, [run.runId])).length === 2, 'both messages');
  });

  it('drops a malformed event without blocking the stream', async () => {
    const { run } = await admitted('frank');
    const subject = h.subjects.events('frank', run.conversationId, run.runId);
    const js = h.nc.jetstream();
    const garbage = [
      (await js.publish(subject, new TextEncoder().encode('{not json'))).seq,
      (await js.publish(subject, encodeJson({ type: 'status', runId: run.runId }))).seq,
      (
        await js.publish(
          h.subjects.events('frank', 'not-a-uuid', 'x'),
          encodeJson({ type: 'run_cancelled', runId: 'x', conversationId: 'not-a-uuid', ts: 'now', progress: 1, data: { reason: 'r' } }),
        )
      ).seq,
    ];
    await h.publish(run, 'orchestration_started', {}, 0.1);
    await h.publish(run, 'status', { step: 'nul', message: 'a\u0000b' }, 0.2);
    await waitFor(async () => (await snapshot(run)).progress >= 0.2, 'the valid events');
    expect(await h.rows(`SELECT id FROM events WHERE id = ANY($1::bigint[])`, [garbage])).toHaveLength(0);
    const rows = await eventRows(run);
    expect(rows.map((r) => r.type)).toEqual(['orchestration_started', 'status']);
    expect((rows[1].envelope as unknown as { data: { message: string } }).data.message).toBe('ab');
  });

  it('writes events of runs it never admitted, and of users whose ids are not subject-safe', async () => {
    const run = { userId: 'a.b *>@x', conversationId: randomUUID(), runId: randomUUID() };
    const id = await h.publish(run, 'orchestration_started', {}, 0.1);
    const row = await waitFor(async () => (await h.rows(`SELECT user_id FROM events WHERE id = $1`, [id]))[0], 'the event');
    expect(row.user_id).toBe('a.b *>@x');
  });

  it('writes a burst of concurrent runs', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => admitted(`burst-${i % 4}`)));
    await Promise.all(runs.map(({ run, reply }) => publishCompletedRun(run, reply.messageId)));
    for (const { run } of runs) await runStatus(run, 'completed');
    const [{ count }] = await h.rows(`SELECT count(*)::int AS count FROM messages WHERE run_id = ANY($1::uuid[])`, [
      runs.map((r) => r.run.runId),
    ]);
    expect(count).toBe(40);
  });

  it('loses nothing while the database refuses writes: the batch is handed back and written later', async () => {
    const { run, reply } = await admitted('grace');
    await h.rows(`ALTER TABLE events RENAME TO events_away`);
    let ids: number[];
    try {
      ids = await publishCompletedRun(run, reply.messageId);
      await sleep(700); // at least one failed attempt and one retry
      expect((await snapshot(run)).status).toBe('queued');
    } finally {
      await h.rows(`ALTER TABLE events_away RENAME TO events`);
    }
    await runStatus(run, 'completed');
    expect((await eventRows(run)).map((r) => r.id)).toEqual(ids.map(String));
    expect(await h.rows(`SELECT id FROM messages WHERE run_id = $1`, [run.runId])).toHaveLength(2);
  });

  it('keeps the events of a write that waits longer than the ack wait: JetStream redelivers none of them', async () => {
    const jsm = await h.nc.jetstreamManager();
    const consumerInfo = () => jsm.consumers.info(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    expect((await consumerInfo()).config.ack_wait).toBe(EVENT_WRITER_ACK_WAIT_MS * 1_000_000);
    const before = await consumerInfo();
    const { run, reply } = await admitted('judy');
    // A transaction holding the event log's table: the writer's insert waits on it.
    const locker = new Client({ connectionString: h.databaseUrl });
    await locker.connect();
    let ids: number[];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      ids = await publishCompletedRun(run, reply.messageId);
      await sleep(EVENT_WRITER_ACK_WAIT_MS + 2 * EVENT_WRITER_HEARTBEAT_MS);
      expect((await snapshot(run)).status).toBe('queued');
    } finally {
      await locker.query('COMMIT').catch(() => undefined);
      await locker.end();
    }
    await runStatus(run, 'completed');
    expect((await eventRows(run)).map((r) => r.id)).toEqual(ids.map(String));
    const after = await consumerInfo();
    // Delivered once each, none again: the writer reported them in progress while it waited.
    expect(after.num_redelivered - before.num_redelivered).toBe(0);
    expect(after.delivered.consumer_seq - before.delivered.consumer_seq).toBe(ids.length);
  }, 40_000);

  it('terminates only the event the database refuses, and writes the rest of its batch', async () => {
    const { run } = await admitted('heidi');
    await h.rows(`ALTER TABLE events ADD CONSTRAINT no_poison CHECK (envelope->'data'->>'step' IS DISTINCT FROM 'poison') NOT VALID`);
    try {
      await Promise.all([
        h.publish(run, 'orchestration_started', {}, 0.1),
        h.publish(run, 'status', { step: 'poison', message: 'refused' }, 0.2),
        h.publish(run, 'status', { step: 'fine', message: 'kept' }, 0.3),
      ]);
      await waitFor(async () => (await snapshot(run)).progress >= 0.3, 'the good events');
    } finally {
      await h.rows(`ALTER TABLE events DROP CONSTRAINT no_poison`);
    }
    const rows = await eventRows(run);
    expect(rows.map((r) => (r.envelope as unknown as { data: { step?: string } }).data.step ?? r.type)).toEqual([
      'orchestration_started',
      'fine',
    ]);
  });

  it('writes a group-committed message as one row per event, each with its own id; drops only the event of it the database refuses', async () => {
    const { run } = await admitted('grace');
    await h.rows(`ALTER TABLE events ADD CONSTRAINT no_poison CHECK (envelope->'data'->>'step' IS DISTINCT FROM 'poison') NOT VALID`);
    let ids: number[];
    try {
      // Published at once, groupable (as a job's first attempt): the first goes alone, the rest wait for its ack and share a message.
      const publish = (step: string, progress: number, n: number) =>
        h.publisher.publish(run, 'status', { step, message: step }, { progress, msgId: `${run.runId}:1:e${n}`, groupable: true });
      ids = await Promise.all([publish('first', 0.1, 1), publish('second', 0.2, 2), publish('poison', 0.3, 3), publish('last', 0.4, 4)]);
      await waitFor(async () => (await snapshot(run)).progress >= 0.4, 'the good events');
    } finally {
      await h.rows(`ALTER TABLE events DROP CONSTRAINT no_poison`);
    }
    expect(ids[2]).toBe(ids[1] + 1); // one message: consecutive ids
    expect(ids[3]).toBe(ids[1] + 2);
    const rows = await eventRows(run);
    expect(rows.map((r) => [r.id, (r.envelope as unknown as { data: { step: string } }).data.step])).toEqual([
      [String(ids[0]), 'first'],
      [String(ids[1]), 'second'],
      [String(ids[3]), 'last'],
    ]);
  });

  it('recreates its consumer when it is deleted under it, and goes on writing', async () => {
    const jsm = await h.nc.jetstreamManager();
    await jsm.consumers.delete(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    const { run, reply } = await admitted('ivan');
    await publishCompletedRun(run, reply.messageId);
    await runStatus(run, 'completed');
    const info = await jsm.consumers.info(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    expect(info.config.durable_name).toBe(h.subjects.consumers.persistenceEvents);
  });
});
