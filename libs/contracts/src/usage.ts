import { z } from 'zod';
import { isValidUserId, USER_ID_RULE } from './ids';

/**
 * Usage and quotas (PROTOCOL.md §6 `GET /v1/usage`, `GET /v1/admin/usage`, §10 quotas): what a
 * user's runs used, per UTC day, and the daily limits.
 */

const DAY_MS = 86_400_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The longest range `GET /v1/usage` answers, in days (from and to included). */
export const MAX_USAGE_RANGE_DAYS = 366;
/** The range `GET /v1/usage` answers without `from`/`to`: the last 30 days, today included. */
export const DEFAULT_USAGE_RANGE_DAYS = 30;
/** Users per page of `GET /v1/admin/usage`. */
export const MAX_ADMIN_USAGE_PAGE = 1000;
export const DEFAULT_ADMIN_USAGE_PAGE = 500;

/** The UTC day of a moment, `YYYY-MM-DD`. */
export function utcDay(at: Date | number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The first moment of the UTC day after `at`'s: when a day's quota resets. */
export function nextUtcMidnight(at: Date | number): Date {
  const t = new Date(at).getTime();
  return new Date(Math.floor(t / DAY_MS) * DAY_MS + DAY_MS);
}

/** `day` plus `n` days (n may be negative). */
export function addDays(day: string, n: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);
}

/** Days from `from` to `to`, both included (0 or less when `to` comes first). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/** A calendar day `YYYY-MM-DD` that exists (no 2026-02-30), between the years 2000 and 9999. */
export const daySchema = z
  .string()
  .regex(DAY_RE, 'must be a date YYYY-MM-DD')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !Number.isNaN(t) && utcDay(t) === s && s >= '2000-01-01';
  }, 'must be a real date YYYY-MM-DD (UTC)');

/** What runs used: `runs` counts the runs that ended, whatever their outcome. */
export const usageTotalsSchema = z.object({
  runs: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type UsageTotals = z.infer<typeof usageTotalsSchema>;

export const dayUsageSchema = usageTotalsSchema.extend({ day: z.string() });
export type DayUsage = z.infer<typeof dayUsageSchema>;

const userId = z.string().refine(isValidUserId, `must be ${USER_ID_RULE}`);

/** usage.user: one user's usage by UTC day from `from` to `to` (inclusive); only days with usage. */
export const userUsageRequestSchema = z
  .strictObject({ userId, from: daySchema, to: daySchema })
  .refine((r) => r.from <= r.to, { message: 'must not be after `to`', path: ['from'] })
  .refine((r) => daysBetween(r.from, r.to) <= MAX_USAGE_RANGE_DAYS, {
    message: `the range may span at most ${MAX_USAGE_RANGE_DAYS} days`,
    path: ['to'],
  });
export const userUsageReplySchema = z.object({ days: z.array(dayUsageSchema), total: usageTotalsSchema });
export type UserUsageReply = z.infer<typeof userUsageReplySchema>;

/** usage.day: every user's usage on one UTC day, by user id, a page of `limit` after user `after`. */
export const dayUsageRequestSchema = z.strictObject({
  day: daySchema,
  limit: z.number().int().min(1).max(MAX_ADMIN_USAGE_PAGE),
  after: userId.optional(),
});
export const userDayUsageSchema = usageTotalsSchema.extend({ userId: z.string() });
export const dayUsageReplySchema = z.object({
  day: z.string(),
  users: z.array(userDayUsageSchema),
  /** The last user id of this page when more users remain (pass it as `after`), else null. */
  nextAfter: z.string().nullable(),
});
export type DayUsageReply = z.infer<typeof dayUsageReplySchema>;

/** The daily limits of QUOTA_DAILY_TOKENS / QUOTA_DAILY_COST_USD (each null when unset). */
export interface DailyQuota {
  dailyTokens: number | null;
  dailyCostUsd: number | null;
}

/** The deployment's daily quota, or null when neither limit is set. */
export function dailyQuotaOf(config: { QUOTA_DAILY_TOKENS?: number; QUOTA_DAILY_COST_USD?: number }): DailyQuota | null {
  if (config.QUOTA_DAILY_TOKENS === undefined && config.QUOTA_DAILY_COST_USD === undefined) return null;
  return { dailyTokens: config.QUOTA_DAILY_TOKENS ?? null, dailyCostUsd: config.QUOTA_DAILY_COST_USD ?? null };
}

/** Whether a day's usage has reached one of the quota's limits. */
export function quotaReached(quota: DailyQuota, spent: { tokens: number; costUsd: number }): boolean {
  return (
    (quota.dailyTokens !== null && spent.tokens >= quota.dailyTokens) ||
    (quota.dailyCostUsd !== null && spent.costUsd >= quota.dailyCostUsd)
  );
}

/** `GET /v1/usage`'s answer (PROTOCOL.md §6). */
export const usageReplySchema = userUsageReplySchema.extend({
  quota: z.object({ dailyTokens: z.number().nullable(), dailyCostUsd: z.number().nullable(), resetsAt: z.string() }).nullable(),
});
export type UsageReply = z.infer<typeof usageReplySchema>;
