import { Injectable } from '@nestjs/common';
import { eventDataSchemas, type RunStatus } from '@herald/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { sql } from '../infrastructure/sql';
import type { LoggedEvent } from './logged-event';
import { applyRunEvents, type RunEvent, type RunProgress } from './run-progress';

export interface BatchResult {
  /** Events newly written (a redelivered event is not written again). */
  inserted: number;
  /** Runs whose row changed. */
  runsUpdated: number;
  /** Runs whose messages were stored by this batch. */
  runsCompleted: number;
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
 * event id), each touched run's status, progress and last event id, and, for a run that
 * has completed, its user and assistant messages.
 */
@Injectable()
export class EventLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  writeBatch(events: readonly LoggedEvent[]): Promise<BatchResult> {
    return this.dataSource.transaction(async (db) => {
      const inserted = await this.insertEvents(db, events);
      const byRun = groupByRun(events);
      let runsUpdated = 0;
      let runsCompleted = 0;
      // Runs are locked in id order so that two instances never wait on each other in a cycle.
      for (const run of await this.lockRuns(db, [...byRun.keys()])) {
        const runEvents = byRun.get(run.id) ?? [];
        const before = toProgress(run);
        const after = applyRunEvents(before, runEvents);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          await this.updateRun(db, run.id, after);
          runsUpdated += 1;
        }
        // Whichever of `message` and `orchestration_completed` is written last stores the
        // messages: the run's row lock makes the other one's rows visible by then.
        const mayComplete = runEvents.some((e) => e.type === 'message' || e.type === 'orchestration_completed');
        if (after.status === 'completed' && mayComplete && (await this.storeMessages(db, run.id))) runsCompleted += 1;
      }
      return { inserted, runsUpdated, runsCompleted };
    });
  }

  private async insertEvents(db: EntityManager, events: readonly LoggedEvent[]): Promise<number> {
    const rows = events.map((e) => ({
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

  private async updateRun(db: EntityManager, id: string, run: RunProgress): Promise<void> {
    await sql(
      db,
      `UPDATE runs
          SET status = $2,
              progress = GREATEST(progress, $3::real),
              last_event_id = GREATEST(last_event_id, $4::bigint),
              started_at = COALESCE(started_at, $5::timestamptz),
              ended_at = COALESCE(ended_at, $6::timestamptz)
        WHERE id = $1`,
      [id, run.status, run.progress, run.lastEventId, run.startedAt, run.endedAt],
    );
  }

  /**
   * Stores a completed run's two messages (the user's, dated when the run was accepted, and
   * the assistant's from its `message` event) and moves the conversation's `updated_at`, once:
   * resolves false if there is no `message` event yet or the messages were already stored.
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
    const { count } = await sql(
      db,
      `WITH run AS (SELECT * FROM runs WHERE id = $1),
       stored AS (
         INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at)
         SELECT run.user_message_id, run.conversation_id, run.id, 'user', run.content, NULL, run.created_at FROM run
         UNION ALL
         SELECT CASE WHEN $2 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN $2::uuid ELSE run.message_id END,
                run.conversation_id, run.id, 'assistant', $3, $4::jsonb,
                GREATEST($5::timestamptz, run.created_at + interval '1 millisecond')
           FROM run
         ON CONFLICT (id) DO NOTHING
         RETURNING conversation_id
       )
       UPDATE conversations SET updated_at = now() WHERE id IN (SELECT conversation_id FROM stored)`,
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

function toProgress(row: RunRow): RunProgress {
  return {
    status: row.status,
    progress: row.progress,
    lastEventId: row.last_event_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}
