import { type AgentCapabilities, EventType } from '@ag-ui/core';
import { EventEncoder } from '@ag-ui/encoder';
import type { VerifiedToken } from '@herald/auth';
import { ACTIVE_RUN_STATUSES, type AgentEvent, ErrorCode, HeraldError, type RunCancelResult } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG } from '@herald/messaging';
import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Lease } from '../limits/lease-pool';
import { ChatService } from '../runs/chat.service';
import { RunCommandsService } from '../runs/run-commands.service';
import { RunEventFeed, type FollowedRun } from '../run-stream/run-event-feed.service';
import { pendingRequest } from '../run-stream/pending-request';
import { RunRecords } from '../run-stream/run-records.service';
import { SseResponse } from '../run-stream/sse-response';
import { AguiEventMapper, START_SEGMENT } from './agui-event-mapper';
import { isFrameAfter, parseFrameId, type FrameId } from './agui-frame-id';
import { approvalAnswer, clarificationAnswer, parseAguiRequest, type AguiRequest } from './agui-input';

/** Which Herald run an AG-UI runId streams, and which part of it (a segment ends at each interrupt). */
const runRecordSchema = z.object({
  heraldRunId: z.string(),
  conversationId: z.string(),
  threadId: z.string(),
  startAfter: z.string(),
  /** START_SEGMENT, or the requestId of the interrupt this AG-UI run answered. */
  segment: z.string(),
});
type RunRecord = z.infer<typeof runRecordSchema>;

/** The Herald run an AG-UI thread started last: where a resume entry's interrupt is looked for. */
const threadRecordSchema = z.object({ heraldRunId: z.string(), startAfter: z.string() });

const RUN_RECORD = 'agui:run';
const THREAD_RECORD = 'agui:thread';

/** The idempotency key of an AG-UI runId: `agui:` and its SHA-256, so any runId fits the 64 characters of a clientMessageId. */
function clientMessageIdOf(aguiRunId: string): string {
  return `agui:${createHash('sha256').update(aguiRunId, 'utf8').digest('base64url')}`;
}

/**
 * AG-UI over Herald's runs (PROTOCOL.md §8): a RunAgentInput is admitted like `chat:send`
 * (same admission, rate limit, idempotency via clientMessageId), then the run's events are
 * streamed as AG-UI events (AguiEventMapper) from its start, replayed and then live, on any
 * gateway. Interrupts are answered with run:respond.
 */
@Injectable()
export class AguiService {
  private readonly encoder = new EventEncoder();

  constructor(
    private readonly chat: ChatService,
    private readonly runs: RunCommandsService,
    private readonly feed: RunEventFeed,
    private readonly records: RunRecords,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** `POST /v1/agui`: a new run, a repeat of one (same runId: re-attach), or the answer to an interrupt (`resume`). */
  async run(
    user: VerifiedToken,
    body: unknown,
    lastEventId: string | undefined,
    traceparent: string | undefined,
    res: Response,
  ): Promise<void> {
    const request = parseAguiRequest(user.userId, body);
    const cursor = lastEventId === undefined ? undefined : parseFrameId(lastEventId, 'Last-Event-ID');
    const { runId, threadId } = request.input;
    if (request.resume.length === 0 && request.content.trim() === '') {
      throw new HeraldError(ErrorCode.INVALID_INPUT, 'messages: must end with a user message that has text');
    }
    // The stream's connection slot first: a stream refused TOO_MANY_CONNECTIONS starts nothing.
    const slot = await this.feed.reserve(user.userId);
    let record: RunRecord;
    try {
      const known = await this.records.get(RUN_RECORD, user.userId, runId, runRecordSchema);
      if (known) record = { ...known, threadId };
      else if (request.resume.length > 0) record = await this.answer(user.userId, request);
      else if (await this.threadWaits(user.userId, request.conversationId)) {
        this.feed.release(slot);
        return this.refuseWhileWaiting(request, res);
      } else record = await this.start(user.userId, request, traceparent);
    } catch (err) {
      this.feed.release(slot);
      throw err;
    }
    // The stream owns the slot from here and gives it back when it ends.
    await this.stream(user, record, runId, cursor, res, slot);
  }

  /** `GET /v1/agui/runs/:runId?after=`: the AG-UI run's stream again, after a frame (or from its start). */
  async resumeStream(user: VerifiedToken, aguiRunId: string, after: unknown, res: Response): Promise<void> {
    const cursor = after === undefined ? undefined : parseFrameId(after, 'after');
    const record = await this.records.get(RUN_RECORD, user.userId, aguiRunId, runRecordSchema);
    if (!record) throw new HeraldError(ErrorCode.NOT_FOUND, 'No such run.');
    return this.stream(user, record, aguiRunId, cursor, res);
  }

  /** `POST /v1/agui/runs/:runId/cancel`: cancels the Herald run behind the AG-UI run. */
  async cancel(userId: string, aguiRunId: string): Promise<RunCancelResult> {
    const record = await this.records.get(RUN_RECORD, userId, aguiRunId, runRecordSchema);
    if (!record) throw new HeraldError(ErrorCode.NOT_FOUND, 'No such run.');
    return this.runs.cancel(userId, { runId: record.heraldRunId });
  }

  capabilities(): AgentCapabilities {
    return {
      identity: {
        name: 'Herald',
        type: 'herald',
        description:
          'A supervisor and its sub-agents (triage, knowledge, data, reporting) answering over a knowledge base and a demo dataset.',
      },
      transport: { streaming: true, resumable: true },
      tools: { supported: true, clientProvided: false },
      state: { snapshots: false, deltas: false, memory: true, persistentState: true },
      multiAgent: { supported: true, delegation: true },
      reasoning: { supported: true, streaming: false },
      humanInTheLoop: { supported: true, approvals: true, interrupts: true },
    };
  }

  /** Admits a new run like `chat:send`; the runId is its clientMessageId, so a repeat re-attaches. */
  private async start(userId: string, request: AguiRequest, traceparent: string | undefined): Promise<RunRecord> {
    const { runId, threadId } = request.input;
    // Every event of a run accepted from now on comes after this id.
    const startAfter = await this.feed.lastEventId();
    const { accepted, duplicate } = await this.chat.submit(
      userId,
      { conversationId: 'new', content: request.content, clientMessageId: clientMessageIdOf(runId), options: request.options },
      { traceparent, newConversationId: request.conversationId },
    );
    const record: RunRecord = {
      heraldRunId: accepted.runId,
      conversationId: accepted.conversationId,
      threadId,
      startAfter,
      segment: START_SEGMENT,
    };
    if (duplicate) {
      // The same runId, sent again before its record was kept (or after it was lost): its run
      // began before `startAfter`, so replay it from the start of the conversation's log.
      return (await this.records.get(RUN_RECORD, userId, runId, runRecordSchema)) ?? { ...record, startAfter: '0' };
    }
    await this.records.set(RUN_RECORD, userId, runId, record);
    await this.records.set(THREAD_RECORD, userId, accepted.conversationId, { heraldRunId: accepted.runId, startAfter });
    return record;
  }

  /** Whether the thread's last AG-UI run waits for the answer to an interrupt (from its events: its stored status trails them). */
  private async threadWaits(userId: string, conversationId: string): Promise<boolean> {
    const thread = await this.records.get(THREAD_RECORD, userId, conversationId, threadRecordSchema);
    if (!thread) return false;
    try {
      if (!ACTIVE_RUN_STATUSES.includes((await this.runs.get(userId, thread.heraldRunId)).status)) return false;
    } catch (err) {
      if (HeraldError.is(err) && err.code === ErrorCode.NOT_FOUND) return false;
      throw err;
    }
    const run: FollowedRun = { userId, runId: thread.heraldRunId, conversationId, startAfter: thread.startAfter };
    return pendingRequest(await this.feed.eventsSoFar(run)) !== undefined;
  }

  /** A new input without `resume` while the thread waits: RUN_ERROR (PROTOCOL.md §8); nothing is started. */
  private refuseWhileWaiting(request: AguiRequest, res: Response): void {
    const { threadId, runId } = request.input;
    const sse = new SseResponse(res, { heartbeatMs: this.config.SSE_HEARTBEAT_MS });
    sse.send(`id: 0\n${this.encoder.encodeSSE({ type: EventType.RUN_STARTED, threadId, runId })}`);
    sse.send(
      `id: 0:1\n${this.encoder.encodeSSE({
        type: EventType.RUN_ERROR,
        code: ErrorCode.RUN_IN_PROGRESS,
        message: 'This thread is waiting for the answer to an interrupt: send it as a resume entry.',
      })}`,
    );
    sse.close();
  }

  /**
   * Answers the interrupts named by the resume entries (run:respond; a cancelled clarification
   * cancels the run) and returns the record of the AG-UI run that streams the rest.
   */
  private async answer(userId: string, request: AguiRequest): Promise<RunRecord> {
    const thread = await this.records.get(THREAD_RECORD, userId, request.conversationId, threadRecordSchema);
    if (!thread) throw new HeraldError(ErrorCode.NOT_FOUND, 'resume: this thread has no interrupt waiting for an answer');
    const run: FollowedRun = { userId, runId: thread.heraldRunId, conversationId: request.conversationId, startAfter: thread.startAfter };
    const asked = new Map<string, AgentEvent>();
    for (const event of await this.feed.eventsSoFar(run)) {
      if (event.type === 'clarification_requested' || event.type === 'approval_requested') asked.set(event.data.requestId, event);
    }
    let latest: { id: bigint; requestId: string } | undefined;
    const answers = request.resume.map((entry, index) => {
      const event = asked.get(entry.interruptId);
      if (!event) throw new HeraldError(ErrorCode.INVALID_INPUT, `resume.${index}.interruptId: not an interrupt of this thread's run`);
      if (!latest || BigInt(event.id) > latest.id) latest = { id: BigInt(event.id), requestId: entry.interruptId };
      if (event.type === 'approval_requested') return { requestId: entry.interruptId, response: approvalAnswer(entry, index) };
      if (entry.status === 'cancelled') return { requestId: entry.interruptId, cancel: true as const };
      return { requestId: entry.interruptId, response: clarificationAnswer(entry, index) };
    });
    for (const answer of answers) {
      if ('cancel' in answer) await this.runs.cancel(userId, { runId: run.runId });
      else await this.runs.respond(userId, { runId: run.runId, requestId: answer.requestId, response: answer.response });
    }
    const record: RunRecord = {
      heraldRunId: run.runId,
      conversationId: request.conversationId,
      threadId: request.input.threadId,
      startAfter: run.startAfter,
      segment: latest?.requestId ?? START_SEGMENT,
    };
    await this.records.set(RUN_RECORD, userId, request.input.runId, record);
    return record;
  }

  /** The AG-UI run's frames (its segment of the Herald run), after `cursor` when given. */
  private async stream(
    user: VerifiedToken,
    record: RunRecord,
    aguiRunId: string,
    cursor: FrameId | undefined,
    res: Response,
    slot?: Lease,
  ): Promise<void> {
    const mapper = new AguiEventMapper({ threadId: record.threadId, runId: aguiRunId });
    const sse = new SseResponse(res, { heartbeatMs: this.config.SSE_HEARTBEAT_MS });
    const run: FollowedRun = {
      userId: user.userId,
      runId: record.heraldRunId,
      conversationId: record.conversationId,
      startAfter: record.startAfter,
    };
    await this.feed.follow(
      user,
      run,
      sse,
      (event) => {
        for (const frame of mapper.map(event)) {
          if (frame.segment !== record.segment) continue;
          if (!cursor || isFrameAfter(frame.id, cursor)) sse.send(`id: ${frame.id}\n${this.encoder.encodeSSE(frame.event)}`);
          if (frame.last) return true;
        }
        return false;
      },
      slot,
    );
  }
}
