import type { VerifiedToken } from '@herald/auth';
import { ACTIVE_RUN_STATUSES, ErrorCode, HeraldError, type RunCancelResult } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import { JsonToSseTransformStream, UI_MESSAGE_STREAM_HEADERS, type UIMessageChunk } from 'ai';
import type { Response } from 'express';
import { z } from 'zod';
import type { Lease } from '../limits/lease-pool';
import { ChatService } from '../runs/chat.service';
import { RunCommandsService } from '../runs/run-commands.service';
import { RunEventFeed, type FollowedRun } from '../run-stream/run-event-feed.service';
import { RunRecords } from '../run-stream/run-records.service';
import { SseResponse } from '../run-stream/sse-response';
import { pendingRequest, type RequestEvent } from '../run-stream/pending-request';
import { conversationIdOfThread } from '../run-stream/thread-id';
import { approvalResponseIn, chatSendOf, parseChatRequest, textOf, type ChatRequest } from './ai-sdk-input';
import { START_SEGMENT, UiMessageMapper } from './ui-message-mapper';

/** The chat's latest run (the one its last POST streamed), and which segment of it that POST streamed. */
const chatRecordSchema = z.object({
  heraldRunId: z.string(),
  conversationId: z.string(),
  /** The stored answer's id: `start.messageId`. */
  messageId: z.string(),
  startAfter: z.string(),
  /** START_SEGMENT, or the requestId the last POST answered. */
  segment: z.string(),
  /** Approvals the user refused. */
  denied: z.array(z.string()),
  /** The user message the last POST was for (a repeat of it re-attaches). */
  userMessageId: z.string().optional(),
});
type ChatRecord = z.infer<typeof chatRecordSchema>;

const CHAT_RECORD = 'aisdk:chat';
const MAX_ANSWER_CHARS = 8000;

/**
 * The AI SDK's UI message stream over Herald's runs (PROTOCOL.md §9): `useChat` with
 * `DefaultChatTransport` sends a chat's messages; Herald admits the last user message like
 * `chat:send` (or takes it as the answer the chat's run waits for) and streams the run's
 * events as UI message chunks (UiMessageMapper), encoded by the AI SDK's JsonToSseTransformStream.
 */
@Injectable()
export class AiSdkService {
  constructor(
    private readonly chat: ChatService,
    private readonly runs: RunCommandsService,
    private readonly feed: RunEventFeed,
    private readonly records: RunRecords,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `POST /v1/ai-sdk/chat`. */
  async send(user: VerifiedToken, body: unknown, traceparent: string | undefined, res: Response): Promise<void> {
    const request = await parseChatRequest(user.userId, body);
    // The stream's connection slot first: a stream refused TOO_MANY_CONNECTIONS starts nothing.
    const slot = await this.feed.reserve(user.userId);
    let next: ChatRecord;
    try {
      next = await this.resolve(user.userId, request, traceparent);
    } catch (err) {
      this.feed.release(slot);
      throw err;
    }
    // The stream owns the slot from here and gives it back when it ends.
    await this.stream(user, next, res, slot);
  }

  /** What this POST streams: the same stream again, the rest of the run after an answer, or a new run. */
  private async resolve(userId: string, request: ChatRequest, traceparent: string | undefined): Promise<ChatRecord> {
    const record = await this.records.get(CHAT_RECORD, userId, request.conversationId, chatRecordSchema);
    // A regenerate is never a repeat nor an answer: it always asks for a new answer.
    if (record && request.trigger === 'submit-message') {
      const again = this.repeatOf(record, request);
      if (again) return again;
      const waiting = await this.waitingRequest(userId, record);
      if (waiting) return this.answer(userId, request, record, waiting);
    }
    return this.start(userId, request, traceparent);
  }

  /** `GET /v1/ai-sdk/chat/:id/stream`: the chat's active run, from the start of its last stream; false (204) when there is none. */
  async resume(user: VerifiedToken, chatId: string, res: Response): Promise<boolean> {
    let conversationId: string;
    try {
      conversationId = conversationIdOfThread(user.userId, chatId, 'id');
    } catch {
      return false;
    }
    const record = await this.records.get(CHAT_RECORD, user.userId, conversationId, chatRecordSchema);
    if (!record || !(await this.isActive(user.userId, record.heraldRunId))) return false;
    await this.stream(user, record, res);
    return true;
  }

  /** `POST /v1/ai-sdk/chat/:id/stop`: cancels the chat's run. */
  async stop(userId: string, chatId: string): Promise<RunCancelResult> {
    let conversationId: string;
    try {
      conversationId = conversationIdOfThread(userId, chatId, 'id');
    } catch {
      return { alreadyFinished: true };
    }
    const record = await this.records.get(CHAT_RECORD, userId, conversationId, chatRecordSchema);
    if (!record) return { alreadyFinished: true };
    return this.runs.cancel(userId, { runId: record.heraldRunId });
  }

  /**
   * A new run: for the chat's last user message (its id is the idempotency key, so a repeat
   * re-attaches), an edit of a stored user message, or a regenerate (PROTOCOL.md §9, §10).
   */
  private async start(userId: string, request: ChatRequest, traceparent: string | undefined): Promise<ChatRecord> {
    const last = request.messages.at(-1)!;
    const startAfter = await this.feed.lastEventId();
    const { accepted, duplicate } = await this.chat.submit(userId, chatSendOf(request), {
      traceparent,
      newConversationId: request.conversationId,
      regenerateByAnswer: request.trigger === 'regenerate-message',
    });
    const record: ChatRecord = {
      heraldRunId: accepted.runId,
      conversationId: accepted.conversationId,
      messageId: accepted.messageId,
      startAfter,
      segment: START_SEGMENT,
      denied: [],
      userMessageId: last.id,
    };
    if (duplicate) {
      // The same message again: its run began before `startAfter`.
      const kept = await this.records.get(CHAT_RECORD, userId, request.conversationId, chatRecordSchema);
      return { ...record, startAfter: kept?.heraldRunId === accepted.runId ? kept.startAfter : '0', denied: kept?.denied ?? [] };
    }
    await this.records.set(CHAT_RECORD, userId, accepted.conversationId, record);
    return record;
  }

  /** The same POST again (a retried answer): the stream it got, from its start. */
  private repeatOf(record: ChatRecord, request: ChatRequest): ChatRecord | undefined {
    const last = request.messages.at(-1)!;
    if (record.segment === START_SEGMENT) return undefined; // a repeated first message re-attaches through its clientMessageId
    if (last.role === 'user' && last.id === record.userMessageId) return record;
    if (last.role === 'assistant' && approvalResponseIn([last], record.segment)) return record;
    return undefined;
  }

  /** The clarification or approval the chat's run waits for. */
  private async waitingRequest(userId: string, record: ChatRecord): Promise<RequestEvent | undefined> {
    if (!(await this.isActive(userId, record.heraldRunId))) return undefined;
    return pendingRequest(await this.feed.eventsSoFar(this.followed(userId, record)));
  }

  /** Answers the request the run waits for with this POST's messages, and returns the record of the segment that follows. */
  private async answer(userId: string, request: ChatRequest, record: ChatRecord, waiting: RequestEvent): Promise<ChatRecord> {
    const last = request.messages.at(-1)!;
    let next: ChatRecord;
    if (waiting.type === 'clarification_requested') {
      const text = last.role === 'user' ? textOf(last) : '';
      if (text === '' || text.length > MAX_ANSWER_CHARS) {
        throw new HeraldError(
          ErrorCode.INVALID_INPUT,
          'messages: the chat waits for the answer to a question: send it as a user message (1 to 8000 characters)',
        );
      }
      await this.runs.respond(userId, { runId: record.heraldRunId, requestId: waiting.data.requestId, response: text });
      next = { ...record, segment: waiting.data.requestId, userMessageId: last.id };
    } else if (waiting.type === 'approval_requested') {
      const decision = approvalResponseIn(request.messages, waiting.data.requestId);
      if (!decision) {
        throw new HeraldError(
          ErrorCode.INVALID_INPUT,
          'messages: the chat waits for an approval: answer its tool-approval-request (addToolApprovalResponse)',
        );
      }
      await this.runs.respond(userId, { runId: record.heraldRunId, requestId: waiting.data.requestId, response: decision });
      const denied = decision.approved ? record.denied : [...record.denied, waiting.data.requestId];
      next = { ...record, segment: waiting.data.requestId, denied, userMessageId: undefined };
    } else {
      return record;
    }
    await this.records.set(CHAT_RECORD, userId, record.conversationId, next);
    return next;
  }

  private async isActive(userId: string, runId: string): Promise<boolean> {
    try {
      return ACTIVE_RUN_STATUSES.includes((await this.runs.get(userId, runId)).status);
    } catch (err) {
      if (HeraldError.is(err) && err.code === ErrorCode.NOT_FOUND) return false;
      throw err;
    }
  }

  private followed(userId: string, record: ChatRecord): FollowedRun {
    return { userId, runId: record.heraldRunId, conversationId: record.conversationId, startAfter: record.startAfter };
  }

  /**
   * The record's segment of the run as a UI message stream: chunks through the AI SDK's own
   * JsonToSseTransformStream (`data: <json>`, then `data: [DONE]` once the segment is over).
   */
  private async stream(user: VerifiedToken, record: ChatRecord, res: Response, slot?: Lease): Promise<void> {
    const mapper = new UiMessageMapper({ messageId: record.messageId, denied: new Set(record.denied) });
    const sse = new SseResponse(res, {
      heartbeatMs: this.config.SSE_HEARTBEAT_MS,
      headers: { 'x-vercel-ai-ui-message-stream': UI_MESSAGE_STREAM_HEADERS['x-vercel-ai-ui-message-stream'] },
    });
    const encoder = new JsonToSseTransformStream();
    const writer = encoder.writable.getWriter();
    const reader = encoder.readable.getReader();
    sse.onClose(() => void writer.abort().catch(() => undefined));
    void (async () => {
      try {
        for (let read = await reader.read(); !read.done; read = await reader.read()) sse.send(read.value);
      } catch {
        // The client went away: the encoder was aborted.
      }
      sse.close();
    })();
    const write = (chunk: UIMessageChunk) => writer.write(chunk).catch(() => undefined);
    let over = false;
    await this.feed.follow(
      user,
      this.followed(user.userId, record),
      sse,
      (event) => {
        for (const { segment, chunk, last } of mapper.map(event)) {
          if (over || segment !== record.segment) continue;
          void write(chunk);
          if (last) {
            over = true;
            // `[DONE]` follows; the response ends once the encoder has flushed.
            void writer.close().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not end a UI message stream'));
          }
        }
        return false;
      },
      slot,
    );
  }
}
