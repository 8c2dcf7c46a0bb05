import { Injectable } from '@nestjs/common';
import { eventDataSchemas, type RunStatus } from '@herald/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { sql } from '../infrastructure/sql';
import { runUsageOf, UsageRepository, type RunUsage } from '../usage/usage.repository';
import type { LoggedEvent } from './logged-event';
import { applyRunEvents, type RunEvent, type RunProgress } from './run-progress';

export interface BatchResult {
  /** Events newly written (a redelivered event is not written again). */
  inserted: number;
  /** Runs whose row changed. */
  runsUpdated: number;
  /** Runs whose messages were stored by this batch. */
  runsCompleted: number;
  /** Runs whose usage this batch counted (each run once, whatever its outcome). */
  runsCounted: number;
}

interface RunRow {
  id: string;
  status: RunStatus;
  progress: number;
  last_event_id: string | null;
  started_at: string | null;
  ended_at: string | null;
}

/**
 * Writes a batch of events, in one transaction: the events themselves (idempotent on the
 * event id), each touched run's status, progress and last event id, for a run that has
 * completed its user and assistant messages, and for a run that ended its usage (once).
 */
@Injectable()
export class EventLogRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly usage: UsageRepository,
  ) {}

  writeBatch(events: readonly LoggedEvent[]): Promise<BatchResult> {
    return this.dataSource.transaction(async (db) => {
      const inserted = await this.insertEvents(db, events);
      const byRun = groupByRun(events);
      // Runs are locked in id order so that two instances never wait on each other in a cycle.
      const changed: Array<{ id: string; run: RunProgress }> = [];
      const completing: string[] = [];
      for (const run of await this.lockRuns(db, [...byRun.keys()])) {
        const runEvents = byRun.get(run.id) ?? [];
        const before = toProgress(run);
        const after = applyRunEvents(before, runEvents);
        if (!sameProgress(after, before)) changed.push({ id: run.id, run: after });
        // Whichever of `message` and `orchestration_completed` is written last stores the
        // messages: the run's row lock makes the other one's rows visible by then.
        const mayComplete = runEvents.some((e) => e.type === 'message' || e.type === 'orchestration_completed');
        if (after.status === 'completed' && mayComplete) completing.push(run.id);
      }
      await this.updateRuns(db, changed);
      let runsCompleted = 0;
      for (const runId of completing) if (await this.storeMessages(db, runId)) runsCompleted += 1;
      const ended = events.map(runUsageOf).filter((u): u is RunUsage => u !== undefined);
      const runsCounted = await this.usage.count(db, ended);
      const runsUpdated = changed.length;
      return { inserted, runsUpdated, runsCompleted, runsCounted };
    });
  }

  private async insertEvents(db: EntityManager, events: readonly LoggedEvent[]): Promise<number> {
    // In id order, so that two transactions inserting overlapping batches wait on each
    // other's rows in the same order and never deadlock.
    const rows = [...events]
      .sort((a, b) => a.id - b.id)
      .map((e) => ({
        id: e.id,
        user_id: e.userId,
        conversation_id: e.conversationId,
        run_id: e.runId,
        type: e.type,
        envelope: e.envelope,
        created_at: e.at,
      }));
    const { count } = await sql(
      db,
      `INSERT INTO events (id, user_id, conversation_id, run_id, type, envelope, created_at)
       SELECT e.id, e.user_id, e.conversation_id, e.run_id, e.type, e.envelope, e.created_at
         FROM jsonb_to_recordset($1::jsonb)
           AS e(id bigint, user_id text, conversation_id uuid, run_id uuid, type text, envelope jsonb, created_at timestamptz)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    return count;
  }

  private async lockRuns(db: EntityManager, ids: string[]): Promise<RunRow[]> {
    const { rows } = await sql<RunRow>(
      db,
      `SELECT id, status, progress, last_event_id::text AS last_event_id,
              to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at,
              to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ended_at
         FROM runs WHERE id = ANY($1::uuid[])
        ORDER BY id
          FOR UPDATE`,
      [ids],
    );
    return rows;
  }

  /** Every changed run of the batch in one statement (one round trip, not one per run). */
  private async updateRuns(db: EntityManager, changed: ReadonlyArray<{ id: string; run: RunProgress }>): Promise<void> {
    if (changed.length === 0) return;
    const rows = changed.map(({ id, run }) => ({
      id,
      status: run.status,
      progress: run.progress,
      last_event_id: run.lastEventId,
      started_at: run.startedAt,
      ended_at: run.endedAt,
    }));
    await sql(
      db,
      `UPDATE runs
          SET status = c.status,
              progress = GREATEST(runs.progress, c.progress),
              last_event_id = GREATEST(runs.last_event_id, c.last_event_id),
              started_at = COALESCE(runs.started_at, c.started_at),
              ended_at = COALESCE(runs.ended_at, c.ended_at)
         FROM jsonb_to_recordset($1::jsonb)
           AS c(id uuid, status text, progress real, last_event_id bigint, started_at timestamptz, ended_at timestamptz)
        WHERE runs.id = c.id`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * Stores a completed run's messages and moves the conversation's `updated_at`, once:
   * resolves false if there is no `message` event yet or the messages were already stored.
   * The user's message (dated when the run was accepted) goes under the parent the run's
   * branch was fixed on (the active leaf if it never was: a run accepted before the tree
   * existed); a regenerate's is stored already and stays as it is. The answer goes under it
   * and becomes the active leaf, unless the user switched branch after the run's branch was
   * fixed: their choice stands, and the answer waits on its own branch.
   */
  private async storeMessages(db: EntityManager, runId: string): Promise<boolean> {
    const { rows } = await sql<{ envelope: unknown; created_at: string }>(
      db,
      `SELECT envelope, created_at::text AS created_at FROM events WHERE run_id = $1 AND type = 'message' ORDER BY id DESC LIMIT 1`,
      [runId],
    );
    const message = rows[0] && eventDataSchemas.message.safeParse((rows[0].envelope as { data?: unknown }).data);
    if (!message || !message.success) return false;
    const { messageId, content, metadata } = message.data;
    // The conversation's row first: its active leaf and last branch switch hold still until this commits.
    await sql(db, `SELECT 1 FROM conversations WHERE id = (SELECT conversation_id FROM runs WHERE id = $1) FOR UPDATE`, [runId]);
    const { count } = await sql(
      db,
      `WITH run AS (
         SELECT r.*, c.active_leaf_id FROM runs r JOIN conversations c ON c.id = r.conversation_id WHERE r.id = $1
       ),
       stored AS (
         INSERT INTO messages (id, conversation_id, parent_id, run_id, role, content, metadata, created_at)
         SELECT run.user_message_id, run.conversation_id,
                CASE WHEN run.branch_pinned_at IS NULL THEN run.active_leaf_id ELSE run.parent_message_id END,
                run.id, 'user', run.content, NULL, run.created_at
           FROM run
         UNION ALL
         SELECT CASE WHEN $2 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN $2::uuid ELSE run.message_id END,
                run.conversation_id, run.user_message_id, run.id, 'assistant', $3, $4::jsonb,
                GREATEST($5::timestamptz, run.created_at + interval '1 millisecond')
           FROM run
         ON CONFLICT (id) DO NOTHING
         RETURNING id, role, conversation_id
       )
       UPDATE conversations c
          SET updated_at = now(),
              active_leaf_id = CASE
                WHEN c.branch_switched_at IS NULL OR run.branch_pinned_at IS NULL OR c.branch_switched_at < run.branch_pinned_at
                THEN answer.id ELSE c.active_leaf_id END
         FROM stored answer, run
        WHERE answer.role = 'assistant' AND c.id = answer.conversation_id`,
      [runId, messageId, content, JSON.stringify(metadata), rows[0].created_at],
    );
    return count > 0;
  }
}

function groupByRun(events: readonly LoggedEvent[]): Map<string, RunEvent[]> {
  const byRun = new Map<string, RunEvent[]>();
  for (const e of events) {
    const list = byRun.get(e.runId) ?? [];
    list.push({ id: e.id, type: e.type, progress: e.envelope.progress, at: e.at });
    byRun.set(e.runId, list);
  }
  return byRun;
}

function sameProgress(a: RunProgress, b: RunProgress): boolean {
  return (
    a.status === b.status &&
    a.progress === b.progress &&
    a.lastEventId === b.lastEventId &&
    a.startedAt === b.startedAt &&
    a.endedAt === b.endedAt
  );
}

function toProgress(row: RunRow): RunProgress {
  return {
    status: row.status,
    progress: row.progress,
    lastEventId: row.last_event_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}
