import { randomUUID } from 'node:crypto';
import { type StoredEvent, webhookPayloadSchema } from '@herald/contracts';
import type { LoggedEvent } from '../event-log/logged-event';
import { WEBHOOK_ERROR_MESSAGE_MAX_CHARS, webhookIdOf, webhookJobIdOf, webhookOriginOf, webhookPayloadOf } from './webhook-message';

describe('webhook messages', () => {
  const runId = randomUUID();
  const conversationId = randomUUID();
  const at = '2026-12-02T09:00:01.250Z';
  const logged = (envelope: Omit<StoredEvent, 'runId' | 'conversationId' | 'ts' | 'progress'>): LoggedEvent => ({
    id: 42,
    userId: 'alice@example.com',
    conversationId,
    runId,
    type: envelope.type,
    envelope: { runId, conversationId, ts: at, progress: 1, ...envelope } as StoredEvent,
    at,
  });
  const usage = { promptTokens: 120, completionTokens: 30, totalTokens: 150, costUsd: 0.0004 };

  it('makes run.completed of orchestration_completed, with the answer id and the usage', () => {
    const payload = webhookPayloadOf(logged({ type: 'orchestration_completed', data: { durationMs: 900, usage } }), 'm-1');
    expect(payload).toEqual({
      type: 'run.completed',
      timestamp: at,
      data: { runId, conversationId, userId: 'alice@example.com', status: 'completed', usage, messageId: 'm-1' },
    });
    expect(webhookPayloadSchema.parse(payload)).toEqual(payload);
  });

  it('makes run.failed of error, with the error and null usage; run.cancelled of run_cancelled, with no answer id', () => {
    const failed = webhookPayloadOf(
      logged({ type: 'error', data: { code: 'TIMEOUT', message: 'x'.repeat(5000), retryable: true } }),
      'never-for-a-failed-run',
    );
    expect(failed).toMatchObject({
      type: 'run.failed',
      data: { status: 'failed', usage: null, error: { code: 'TIMEOUT', retryable: true } },
    });
    expect(failed!.data.error!.message).toHaveLength(WEBHOOK_ERROR_MESSAGE_MAX_CHARS);
    expect(failed!.data.messageId).toBeUndefined();

    const cancelled = webhookPayloadOf(logged({ type: 'run_cancelled', data: { reason: 'user' } }), 'm-2');
    expect(cancelled).toEqual({
      type: 'run.cancelled',
      timestamp: at,
      data: { runId, conversationId, userId: 'alice@example.com', status: 'cancelled', usage: null },
    });
    for (const p of [failed, cancelled]) expect(webhookPayloadSchema.safeParse(p).success).toBe(true);
  });

  it('reports a partial usage a failed or cancelled run carries, and none that is malformed', () => {
    const withUsage = logged({ type: 'run_cancelled', data: { reason: 'user' } });
    (withUsage.envelope.data as Record<string, unknown>).usage = usage;
    expect(webhookPayloadOf(withUsage)!.data.usage).toEqual(usage);
    const completed = logged({ type: 'orchestration_completed', data: { durationMs: 1 } });
    (completed.envelope.data as Record<string, unknown>).usage = { promptTokens: -1 };
    expect(webhookPayloadOf(completed)!.data.usage).toBeNull();
  });

  it('sends nothing for an event that does not end a run', () => {
    expect(webhookPayloadOf(logged({ type: 'status', data: { step: 'routing', message: '…' } }))).toBeNull();
  });

  it('keeps one webhook-id per run and one job per (run, URL), and shows a URL by its origin only', () => {
    expect(webhookIdOf(runId)).toBe(`msg_${runId}`);
    const a = webhookJobIdOf(runId, 'https://a.example.com/hook?token=s3cret');
    expect(webhookJobIdOf(runId, 'https://a.example.com/hook?token=s3cret')).toBe(a);
    expect(webhookJobIdOf(runId, 'https://b.example.com/hook')).not.toBe(a);
    expect(webhookJobIdOf(randomUUID(), 'https://a.example.com/hook?token=s3cret')).not.toBe(a);
    expect(a).not.toContain(':');
    expect(a).not.toContain('s3cret');
    expect(webhookOriginOf('https://a.example.com:8443/hook?token=s3cret')).toBe('https://a.example.com:8443');
  });
});
