import { Injectable } from '@nestjs/common';
import {
  type DayUsage,
  type DayUsageReply,
  type EventData,
  RUN_STATUS_OF_TERMINAL_EVENT,
  type TerminalRunStatus,
  utcDay,
  type UsageTotals,
} from '@herald/contracts';
import type { EntityManager } from 'typeorm';
import { sql } from '../infrastructure/sql';
import type { LoggedEvent } from '../event-log/logged-event';

/** A run's end as usage counts it. */
export interface RunUsage {
  runId: string;
  userId: string;
  /** The UTC day of the terminal event. */
  day: string;
  outcome: TerminalRunStatus;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  endedAt: string;
}

/** The usage a terminal event reports (its `data.usage`; none is zero), or undefined for any other event. */
export function runUsageOf(event: LoggedEvent): RunUsage | undefined {
  const env = event.envelope;
  if (env.type !== 'orchestration_completed' && env.type !== 'error' && env.type !== 'run_cancelled') return undefined;
  const usage = (env.data as EventData<'orchestration_completed' | 'error' | 'run_cancelled'>).usage;
  return {
    runId: event.runId,
    userId: event.userId,
    day: utcDay(Date.parse(event.at)),
    outcome: RUN_STATUS_OF_TERMINAL_EVENT[env.type],
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    costUsd: usage?.costUsd ?? 0,
    endedAt: event.at,
  };
}

interface TotalsRow {
  runs: number;
  prompt_tokens: string;
  completion_tokens: string;
  cost_usd: string;
}

/** SQL for run_usage (one row per ended run) and usage_daily (its sum per user and UTC day). */
@Injectable()
export class UsageRepository {
  /**
   * Counts each run once: its run_usage row is inserted unless the run was counted already
   * (a redelivered terminal event, a run re-driven on another orchestrator), and only the
   * rows inserted now are added to usage_daily. Call it in the transaction that writes the
   * terminal events. Rows are locked in (user, day) order, so concurrent batches never deadlock.
   */
  async count(db: EntityManager, runs: readonly RunUsage[]): Promise<number> {
    if (runs.length === 0) return 0;
    const rows = [...runs]
      .sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0))
      .map((r) => ({
        run_id: r.runId,
        user_id: r.userId,
        day: r.day,
        outcome: r.outcome,
        prompt_tokens: r.promptTokens,
        completion_tokens: r.completionTokens,
        cost_usd: r.costUsd,
        ended_at: r.endedAt,
      }));
    const { rows: counted } = await sql<{ runs: number }>(
      db,
      `WITH counted AS (
         INSERT INTO run_usage (run_id, user_id, day, outcome, prompt_tokens, completion_tokens, cost_usd, ended_at)
         SELECT DISTINCT ON (r.run_id) r.run_id, r.user_id, r.day, r.outcome, r.prompt_tokens, r.completion_tokens, r.cost_usd, r.ended_at
           FROM jsonb_to_recordset($1::jsonb)
             AS r(run_id uuid, user_id text, day date, outcome text, prompt_tokens bigint, completion_tokens bigint, cost_usd numeric, ended_at timestamptz)
          ORDER BY r.run_id
         ON CONFLICT (run_id) DO NOTHING
         RETURNING user_id, day, prompt_tokens, completion_tokens, cost_usd
       ),
       summed AS (
         INSERT INTO usage_daily AS d (user_id, day, runs, prompt_tokens, completion_tokens, cost_usd)
         SELECT user_id, day, count(*), sum(prompt_tokens), sum(completion_tokens), sum(cost_usd)
           FROM counted
          GROUP BY user_id, day
          ORDER BY user_id, day
         ON CONFLICT (user_id, day) DO UPDATE
           SET runs = d.runs + excluded.runs,
               prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
               completion_tokens = d.completion_tokens + excluded.completion_tokens,
               cost_usd = d.cost_usd + excluded.cost_usd
         RETURNING runs
       )
       SELECT (SELECT count(*) FROM counted)::int AS runs`,
      [JSON.stringify(rows)],
    );
    return counted[0]?.runs ?? 0;
  }

  /** One user's tokens and cost on one UTC day (one primary-key read). */
  async spentOn(db: EntityManager, userId: string, day: string): Promise<{ tokens: number; costUsd: number }> {
    const { rows } = await sql<{ tokens: string; cost_usd: string }>(
      db,
      `SELECT (prompt_tokens + completion_tokens)::text AS tokens, cost_usd::text AS cost_usd
         FROM usage_daily WHERE user_id = $1 AND day = $2::date`,
      [userId, day],
    );
    return rows[0] ? { tokens: Number(rows[0].tokens), costUsd: Number(rows[0].cost_usd) } : { tokens: 0, costUsd: 0 };
  }

  /** One user's days with usage from `from` to `to` (inclusive), oldest first. */
  async days(db: EntityManager, userId: string, from: string, to: string): Promise<DayUsage[]> {
    const { rows } = await sql<TotalsRow & { day: string }>(
      db,
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, runs, prompt_tokens::text AS prompt_tokens,
              completion_tokens::text AS completion_tokens, cost_usd::text AS cost_usd
         FROM usage_daily
        WHERE user_id = $1 AND day BETWEEN $2::date AND $3::date
        ORDER BY day`,
      [userId, from, to],
    );
    return rows.map((r) => ({ day: r.day, ...totalsOf(r) }));
  }

  /** A page of one day's users, in user-id order after `after`; `nextAfter` when more remain. */
  async users(db: EntityManager, day: string, limit: number, after: string | undefined): Promise<DayUsageReply> {
    const { rows } = await sql<TotalsRow & { user_id: string }>(
      db,
      `SELECT user_id, runs, prompt_tokens::text AS prompt_tokens,
              completion_tokens::text AS completion_tokens, cost_usd::text AS cost_usd
         FROM usage_daily
        WHERE day = $1::date AND ($2::text IS NULL OR user_id > $2)
        ORDER BY user_id
        LIMIT $3`,
      [day, after ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      day,
      users: page.map((r) => ({ userId: r.user_id, ...totalsOf(r) })),
      nextAfter: rows.length > limit ? page[page.length - 1].user_id : null,
    };
  }
}

function totalsOf(r: TotalsRow): UsageTotals {
  return {
    runs: Number(r.runs),
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
    costUsd: Number(r.cost_usd),
  };
}

/** The sum of several days. */
export function sumTotals(days: readonly UsageTotals[]): UsageTotals {
  const total = days.reduce(
    (t, d) => ({
      runs: t.runs + d.runs,
      promptTokens: t.promptTokens + d.promptTokens,
      completionTokens: t.completionTokens + d.completionTokens,
      costUsd: t.costUsd + d.costUsd,
    }),
    { runs: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 },
  );
  return { ...total, costUsd: Math.round(total.costUsd * 1e8) / 1e8 };
}
