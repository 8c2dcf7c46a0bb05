import { randomUUID } from 'node:crypto';
import { type EventData, PERSISTENCE_RPC, utcDay } from '@herald/contracts';
import { encodeJson } from '@herald/messaging';
import { errorOf, PersistenceHarness } from '../../support/persistence-harness';
import { waitFor } from '../../support/polling';

type Run = { userId: string; conversationId: string; runId: string };
type Terminal = 'orchestration_completed' | 'run_cancelled' | 'error';

const usage = (promptTokens: number, completionTokens: number, costUsd?: number) => ({
  promptTokens,
  completionTokens,
  totalTokens: promptTokens + completionTokens,
  ...(costUsd === undefined ? {} : { costUsd }),
});

/** Usage counted on the event log's real path: JetStream → the event writer → run_usage / usage_daily. */
describe('persistence usage', () => {
  let h: PersistenceHarness;

  beforeAll(async () => {
    h = await PersistenceHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  const newRun = (userId: string): Run => ({ userId, conversationId: randomUUID(), runId: randomUUID() });

  /** A terminal event with its own `ts` (the moment the run ended), as the orchestrator publishes it. */
  async function end<T extends Terminal>(run: Run, type: T, data: EventData<T>, ts = new Date(), msgId = `${run.runId}:o:terminal`) {
    const event = { type, runId: run.runId, conversationId: run.conversationId, ts: ts.toISOString(), progress: 1, data };
    const ack = await h.nc
      .jetstream()
      .publish(h.subjects.events(run.userId, run.conversationId, run.runId), encodeJson(event), { msgID: msgId });
    return ack.seq;
  }

  const counted = (run: Run) =>
    waitFor(async () => (await h.rows(`SELECT 1 FROM run_usage WHERE run_id = $1`, [run.runId])).length > 0, `run ${run.runId} counted`);
  const daily = (userId: string) =>
    h.rows<{ day: string; runs: number; prompt_tokens: string; completion_tokens: string; cost_usd: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, runs, prompt_tokens::text, completion_tokens::text, cost_usd::text
         FROM usage_daily WHERE user_id = $1 ORDER BY day`,
      [userId],
    );

  it('counts every run that ended, whatever its outcome, with the tokens it used', async () => {
    const user = `u-outcomes-${randomUUID()}`;
    const [a, b, c, d] = [newRun(user), newRun(user), newRun(user), newRun(user)];
    await end(a, 'orchestration_completed', { durationMs: 10, usage: usage(100, 20, 0.0012) });
    await end(b, 'run_cancelled', { reason: 'cancelled by the user', usage: usage(7, 0) });
    await end(c, 'error', { code: 'LLM_ERROR', message: 'm', retryable: true, usage: usage(3, 2, 0.0001) });
    await end(d, 'run_cancelled', { reason: 'an older event without usage' });
    for (const r of [a, b, c, d]) await counted(r);
    const today = utcDay(Date.now());
    expect(await daily(user)).toEqual([{ day: today, runs: 4, prompt_tokens: '110', completion_tokens: '22', cost_usd: '0.00130000' }]);
    const outcomes = await h.rows<{ outcome: string }>(`SELECT outcome FROM run_usage WHERE user_id = $1 ORDER BY outcome`, [user]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['cancelled', 'cancelled', 'completed', 'failed']);
  });

  it('counts a run once: a republished terminal event, a second terminal event of a re-driven run, a redelivery of the whole stream', async () => {
    const user = `u-once-${randomUUID()}`;
    const run = newRun(user);
    const first = await end(run, 'orchestration_completed', { durationMs: 5, usage: usage(40, 10) });
    await counted(run);
    // The same publish again (a retry): JetStream drops it by msg id.
    expect(await end(run, 'orchestration_completed', { durationMs: 5, usage: usage(40, 10) })).toBe(first);
    // Another orchestrator re-drove the run and ended it again under another msg id: a new event, not a new count.
    const second = await end(run, 'run_cancelled', { reason: 'x', usage: usage(999, 999) }, new Date(), `${run.runId}:again`);
    await waitFor(async () => (await h.rows(`SELECT 1 FROM events WHERE id = $1`, [second])).length > 0, 'the second terminal event');

    // Everything delivered again to a new instance (a new consumer replays the stream).
    await h.stopInstances();
    const jsm = await h.nc.jetstreamManager();
    await jsm.consumers.delete(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    await h.startInstance();
    const marker = newRun(user);
    await end(marker, 'orchestration_completed', { durationMs: 1, usage: usage(1, 1) });
    await counted(marker); // the replay has reached the end of the stream
    const consumer = await jsm.consumers.info(h.subjects.streams.events, h.subjects.consumers.persistenceEvents);
    expect(consumer.delivered.stream_seq).toBeGreaterThanOrEqual(second);

    expect(await daily(user)).toEqual([
      { day: utcDay(Date.now()), runs: 2, prompt_tokens: '41', completion_tokens: '11', cost_usd: '0.00000000' },
    ]);
    const [{ count }] = await h.rows<{ count: number }>(`SELECT count(*)::int AS count FROM run_usage WHERE run_id = $1`, [run.runId]);
    expect(count).toBe(1);
  });

  it('counts a run on the UTC day its terminal event happened, to the millisecond', async () => {
    const user = `u-days-${randomUUID()}`;
    const late = newRun(user);
    const early = newRun(user);
    const offset = newRun(user);
    await end(late, 'orchestration_completed', { durationMs: 1, usage: usage(5, 5) }, new Date('2026-03-01T23:59:59.999Z'));
    await end(early, 'orchestration_completed', { durationMs: 1, usage: usage(7, 7) }, new Date('2026-03-02T00:00:00.000Z'));
    // 01:00 at UTC+02:00 is still 1 March in UTC.
    await end(offset, 'run_cancelled', { reason: 'r', usage: usage(1, 0) }, new Date(Date.parse('2026-03-02T01:00:00+02:00')));
    for (const r of [late, early, offset]) await counted(r);
    expect(await daily(user)).toEqual([
      { day: '2026-03-01', runs: 2, prompt_tokens: '6', completion_tokens: '5', cost_usd: '0.00000000' },
      { day: '2026-03-02', runs: 1, prompt_tokens: '7', completion_tokens: '7', cost_usd: '0.00000000' },
    ]);

    // usage.user: only days with usage, inside the range, and their total.
    expect(await h.call(PERSISTENCE_RPC.userUsage, { userId: user, from: '2026-03-02', to: '2026-03-31' })).toEqual({
      days: [{ day: '2026-03-02', runs: 1, promptTokens: 7, completionTokens: 7, costUsd: 0 }],
      total: { runs: 1, promptTokens: 7, completionTokens: 7, costUsd: 0 },
    });
    const both = await h.call(PERSISTENCE_RPC.userUsage, { userId: user, from: '2026-02-01', to: '2026-03-02' });
    expect(both.days.map((d) => d.day)).toEqual(['2026-03-01', '2026-03-02']);
    expect(both.total).toEqual({ runs: 3, promptTokens: 13, completionTokens: 12, costUsd: 0 });
    // Another user's usage is never in the answer.
    expect(await h.call(PERSISTENCE_RPC.userUsage, { userId: `${user}x`, from: '2026-02-01', to: '2026-03-02' })).toEqual({
      days: [],
      total: { runs: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 },
    });
  });

  it('pages one day’s users in user-id order', async () => {
    const day = new Date('2025-07-14T12:00:00.000Z');
    const users = ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e'].map((u) => `${u}-${randomUUID()}`).sort();
    const runs = users.map(newRun);
    for (const [i, r] of runs.entries()) await end(r, 'orchestration_completed', { durationMs: 1, usage: usage(i + 1, 1, 0.5) }, day);
    for (const r of runs) await counted(r);
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const reply = await h.call(PERSISTENCE_RPC.dayUsage, { day: '2025-07-14', limit: 2, after });
      expect(reply.users.length).toBeLessThanOrEqual(2);
      seen.push(...reply.users.map((u) => u.userId));
      if (!reply.nextAfter) break;
      after = reply.nextAfter;
    }
    expect(seen).toEqual(users);
    const one = await h.call(PERSISTENCE_RPC.dayUsage, { day: '2025-07-14', limit: 1000 });
    expect(one.users.find((u) => u.userId === users[2])).toEqual({
      userId: users[2],
      runs: 1,
      promptTokens: 3,
      completionTokens: 1,
      costUsd: 0.5,
    });
    expect(one.nextAfter).toBeNull();
  });

  it('refuses a bad range or day as INVALID_INPUT', async () => {
    for (const bad of [
      { userId: 'u', from: '2026-03-02', to: '2026-03-01' },
      { userId: 'u', from: '2024-01-01', to: '2026-03-01' },
      { userId: 'u', from: '2026-02-30', to: '2026-03-01' },
    ]) {
      expect((await h.raw(PERSISTENCE_RPC.userUsage, bad)) as unknown).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    expect(await h.raw(PERSISTENCE_RPC.dayUsage, { day: '2026-1-1', limit: 5 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await h.raw(PERSISTENCE_RPC.dayUsage, { day: '2026-01-01', limit: 5000 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });
});

/** QUOTA_DAILY_TOKENS checked by run.admit, the one admission every gateway route goes through. */
describe('persistence daily quota', () => {
  let h: PersistenceHarness;

  beforeAll(async () => {
    h = await PersistenceHarness.start(1, { QUOTA_DAILY_TOKENS: '100' });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function endRun(userId: string, conversationId: string, runId: string, tokens: number, ts = new Date()) {
    const event = {
      type: 'orchestration_completed',
      runId,
      conversationId,
      ts: ts.toISOString(),
      progress: 1,
      data: { durationMs: 1, usage: usage(tokens, 0) },
    };
    await h.nc.jetstream().publish(h.subjects.events(userId, conversationId, runId), encodeJson(event), { msgID: `${runId}:o:terminal` });
    await waitFor(async () => (await h.rows(`SELECT 1 FROM run_usage WHERE run_id = $1`, [runId])).length > 0, 'counted');
  }

  it('admits until the day’s total reaches the limit, then refuses new runs until the next UTC midnight', async () => {
    const user = `q-${randomUUID()}`;
    // Yesterday's usage does not count today.
    const yesterday = new Date(Date.now() - 86_400_000);
    const old = await h.admit(user, { clientMessageId: 'old' });
    await endRun(user, old.conversationId, old.runId, 500, yesterday);

    const first = await h.admit(user, { clientMessageId: 'first' });
    await endRun(user, first.conversationId, first.runId, 60);
    const second = await h.admit(user, { conversationId: first.conversationId });
    // Admitted before the limit is reached: it still ends and is counted.
    await endRun(user, second.conversationId, second.runId, 40);

    const refused = await h.raw(PERSISTENCE_RPC.admitRun, h.admitRequest(user));
    expect(refused).toMatchObject({ ok: false, error: { code: 'QUOTA_EXCEEDED' } });
    const { retryAfterMs } = (refused as { error: { retryAfterMs: number } }).error;
    const midnight = Date.parse(`${utcDay(Date.now() + 86_400_000)}T00:00:00.000Z`);
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(Math.abs(Date.now() + retryAfterMs - midnight)).toBeLessThan(60_000);
    // Nothing was half-stored: no run, no conversation for the refused request.
    const [{ runs }] = await h.rows<{ runs: number }>(`SELECT count(*)::int AS runs FROM runs WHERE user_id = $1`, [user]);
    expect(runs).toBe(3);

    // A repeat of an earlier clientMessageId still gets its first answer; another user is not affected.
    expect(await h.admit(user, { clientMessageId: 'first' })).toMatchObject({ runId: first.runId, duplicate: true });
    expect(await h.admit(`${user}-other`)).toMatchObject({ duplicate: false });
  });

  it('fails closed: when the usage cannot be read, no run is admitted (UNAVAILABLE)', async () => {
    const user = `q-closed-${randomUUID()}`;
    await h.db.query(`ALTER TABLE usage_daily RENAME TO usage_daily_away`);
    try {
      expect(await errorOf(h.admit(user))).toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await h.db.query(`ALTER TABLE usage_daily_away RENAME TO usage_daily`);
    }
    const [{ runs }] = await h.rows<{ runs: number }>(`SELECT count(*)::int AS runs FROM runs WHERE user_id = $1`, [user]);
    expect(runs).toBe(0);
    expect(await h.admit(user)).toMatchObject({ duplicate: false });
  });
});
