import {
  chatSendSchema,
  ErrorCode,
  HeraldError,
  parseInput,
  PERSISTENCE_RPC,
  type AdmitRunReply,
  type AdmitRunRequest,
  type ChatSendInput,
  type ChatSendResult,
  type RunBranch,
  type RunRequest,
  type Subjects,
} from '@herald/contracts';
import { type Config } from '@herald/config';
import { buildHeaders, CONFIG, encodeJson, HEADER, JetStreamPublisher, LOGGER, RpcClient, SUBJECTS } from '@herald/messaging';
import { type Logger, SpanKind, startSpan, type TracedSpan } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { TIMEOUTS } from '../core/timeouts';
import { orUnavailable } from '../core/or-unavailable';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { FirstAcks } from './first-acks.service';
import { SendRateLimiter } from './send-rate-limiter.service';

export interface SubmitOptions {
  /** The caller's W3C trace context. */
  traceparent?: string;
  /** With `conversationId: "new"`: the conversation's id (a lower-case UUID) instead of a random one. */
  newConversationId?: string;
  /** A regenerate's `parentMessageId` may name the answer to replace (the AI SDK's `messageId`), not only its user message. */
  regenerateByAnswer?: boolean;
}

const UNAVAILABLE_MESSAGE = 'Your message could not be accepted right now. Please try again shortly.';

/**
 * `chat:send` and `POST /v1/conversations/:id/messages`: validate, rate-limit, admit the
 * run in persistence (ownership, idempotency, `onBusy: reject`), hand the run request to
 * JetStream, and answer only once JetStream has stored it. What the gateway refuses by
 * itself (validation, the rate limit) is refused before any persistence call.
 */
@Injectable()
export class ChatService {
  private readonly schema: ReturnType<typeof chatSendSchema>;

  constructor(
    @Inject(CONFIG) config: Config,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    private readonly js: JetStreamPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly rpc: RpcClient,
    private readonly rateLimiter: SendRateLimiter,
    private readonly firstAcks: FirstAcks,
    private readonly metrics: GatewayMetrics,
  ) {
    this.schema = chatSendSchema(config.MAX_MESSAGE_CHARS);
  }

  /**
   * `traceparent`: the caller's W3C trace context (an HTTP request's header), whose child the
   * `chat:send` span becomes; without it, the span is the root of the run's trace.
   */
  async send(userId: string, payload: unknown, traceparent?: string): Promise<ChatSendResult> {
    return (await this.submit(userId, payload, { traceparent })).accepted;
  }

  /**
   * `send`, telling whether the answer is the first run of a repeated clientMessageId
   * (`duplicate`), for the protocol adapters. `newConversationId`: with `conversationId: "new"`,
   * the id the conversation gets (a client-chosen thread id, PROTOCOL.md §8): an existing
   * conversation of the user with that id is continued, another user's is NOT_FOUND.
   */
  async submit(userId: string, payload: unknown, opts: SubmitOptions = {}): Promise<{ accepted: ChatSendResult; duplicate: boolean }> {
    const span = startSpan('chat:send', { parent: opts.traceparent, kind: SpanKind.SERVER });
    try {
      const result = await this.admitAndPublish(userId, payload, span, opts);
      this.metrics.chatSend.inc({ outcome: result.duplicate ? 'duplicate' : 'accepted' });
      span.endWith(result.duplicate ? 'duplicate' : 'accepted');
      return result;
    } catch (err) {
      this.metrics.chatSend.inc({ outcome: HeraldError.is(err) ? err.code.toLowerCase() : 'internal' });
      span.end(err);
      throw err;
    }
  }

  private async admitAndPublish(
    userId: string,
    payload: unknown,
    span: TracedSpan,
    opts: SubmitOptions,
  ): Promise<{ accepted: ChatSendResult; duplicate: boolean }> {
    const input = parseInput(this.schema, payload);
    const request: AdmitRunRequest = {
      userId,
      conversationId: input.conversationId,
      newConversationId: opts.newConversationId ?? randomUUID(),
      runId: randomUUID(),
      messageId: randomUUID(),
      userMessageId: randomUUID(),
      // A regenerate answers a stored message again: its content, not one sent with it.
      content: input.regenerate ? undefined : input.content,
      clientMessageId: input.clientMessageId,
      options: input.options,
      branch: branchOf(input, opts.regenerateByAnswer === true),
    };
    try {
      await this.rateLimiter.consume(userId);
    } catch (err) {
      // Over the limit, a repeat of an earlier clientMessageId still gets its first answer
      // (PROTOCOL.md §2), kept in Redis when it was accepted: repeats do not count, and a
      // refusal costs no persistence call. Anything else stays refused.
      return { accepted: await this.firstAckOverLimit(userId, input.clientMessageId, err), duplicate: true };
    }

    let admitted: AdmitRunReply;
    try {
      admitted = await this.admit(request, span);
    } catch (err) {
      await this.rateLimiter.giveBack(userId);
      throw err;
    }

    if (admitted.duplicate) {
      // Same clientMessageId: the first answer again, and it costs nothing.
      await this.rateLimiter.giveBack(userId);
      const accepted = await this.acknowledgeDuplicate(userId, admitted, span);
      if (input.clientMessageId) await this.firstAcks.remember(userId, input.clientMessageId, accepted, admitted.acceptedAt);
      return { accepted, duplicate: true };
    }

    try {
      await this.publish(userId, admitted, span);
    } catch (err) {
      await Promise.all([this.abandon(userId, admitted.runId), this.rateLimiter.giveBack(userId)]);
      throw err;
    }
    const accepted = toResult(admitted);
    if (input.clientMessageId) await this.firstAcks.remember(userId, input.clientMessageId, accepted, admitted.acceptedAt);
    return { accepted, duplicate: false };
  }

  /** The first ack of a repeated clientMessageId when the limiter said RATE_LIMITED; `limited` rethrown otherwise. */
  private async firstAckOverLimit(userId: string, clientMessageId: string | undefined, limited: unknown): Promise<ChatSendResult> {
    if (!clientMessageId || !HeraldError.is(limited) || limited.code !== ErrorCode.RATE_LIMITED) throw limited;
    const first = await this.firstAcks.recall(userId, clientMessageId);
    if (!first) throw limited;
    return first;
  }

  /** The first answer of a repeated clientMessageId. */
  private async acknowledgeDuplicate(userId: string, earlier: AdmitRunReply, span: TracedSpan): Promise<ChatSendResult> {
    // Still queued: its request may never have reached JetStream (a crash between admit and
    // publish). Publishing again is harmless: JetStream drops duplicates by msgID.
    if (earlier.status === 'queued') await this.publish(userId, earlier, span);
    return toResult(earlier);
  }

  private admit(request: AdmitRunRequest, span: TracedSpan): Promise<AdmitRunReply> {
    return this.rpc.call(PERSISTENCE_RPC.admitRun, request, { traceparent: span.traceparent });
  }

  /** The run request carries `span`'s traceparent (also as a NATS header): the run's trace. */
  private async publish(userId: string, admitted: AdmitRunReply, span: TracedSpan): Promise<void> {
    const request: RunRequest = {
      runId: admitted.runId,
      userId,
      conversationId: admitted.conversationId,
      messageId: admitted.messageId,
      userMessageId: admitted.userMessageId,
      content: admitted.content,
      options: admitted.options,
      acceptedAt: admitted.acceptedAt,
      traceparent: span.traceparent,
    };
    span.setAttributes({ runId: request.runId, conversationId: request.conversationId });
    try {
      await orUnavailable(
        () =>
          this.js.publish(this.subjects.runRequestOf(request.conversationId), encodeJson(request), {
            msgId: request.runId,
            timeoutMs: TIMEOUTS.natsPublishMs,
            headers: buildHeaders({ [HEADER.user]: userId, [HEADER.run]: request.runId, [HEADER.traceparent]: request.traceparent }),
          }),
        TIMEOUTS.natsPublishMs + 500,
        'run request publish',
      );
    } catch (err) {
      this.logger.error({ runId: request.runId, err: String(err) }, 'could not publish a run request');
      throw new HeraldError(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE);
    }
    this.logger.info({ userId, runId: request.runId, conversationId: request.conversationId, traceId: span.traceId }, 'run accepted');
  }

  /** The run was admitted but cannot be handed on: mark it failed so it blocks nothing. */
  private async abandon(userId: string, runId: string): Promise<void> {
    try {
      await this.rpc.call(PERSISTENCE_RPC.abandonRun, { userId, runId });
    } catch (err) {
      this.logger.error({ runId, err: String(err) }, 'could not abandon an unpublished run');
    }
  }
}

/** Where the run's messages go in the conversation's tree (PROTOCOL.md §2 `parentMessageId`, `regenerate`). */
function branchOf(input: ChatSendInput, byAnswer: boolean): RunBranch | undefined {
  if (input.regenerate) return { mode: 'regenerate', messageId: input.parentMessageId, ...(byAnswer ? { byAnswer } : {}) };
  return input.parentMessageId ? { mode: 'edit', messageId: input.parentMessageId } : undefined;
}

function toResult(admitted: AdmitRunReply): ChatSendResult {
  return {
    conversationId: admitted.conversationId,
    runId: admitted.runId,
    messageId: admitted.messageId,
    userMessageId: admitted.userMessageId,
  };
}
