import {
  ACTIVE_RUN_STATUSES,
  ErrorCode,
  HeraldError,
  parseInput,
  PERSISTENCE_RPC,
  runCancelSchema,
  runRespondSchema,
  type RunCancelCommand,
  type RunCancelResult,
  type RunRespondCommand,
  type RunSnapshot,
  type Subjects,
} from '@herald/contracts';
import { buildHeaders, encodeJson, HEADER, LOGGER, NATS, REDIS, type Redis, RpcClient, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { TIMEOUTS } from '../core/timeouts';
import { orUnavailable } from '../core/or-unavailable';

/** How long a cancellation mark stays in Redis (a cancel racing the run's start is not lost). */
const CANCEL_MARK_TTL_SECONDS = 86_400;

/** Run snapshots, `run:cancel` and `run:respond`, for sockets and HTTP alike. */
@Injectable()
export class RunCommandsService {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly rpc: RpcClient,
  ) {}

  /** The user's run; NOT_FOUND for an unknown run and another user's run alike. */
  get(userId: string, runId: string): Promise<RunSnapshot> {
    return this.rpc.call(PERSISTENCE_RPC.getRun, { userId, runId });
  }

  async cancel(userId: string, payload: unknown): Promise<RunCancelResult> {
    const { runId } = parseInput(runCancelSchema, payload);
    const run = await this.get(userId, runId);
    if (!isActive(run)) return { alreadyFinished: true };
    await orUnavailable(
      () => this.redis.set(this.subjects.keys.runCancelled(runId), '1', 'EX', CANCEL_MARK_TTL_SECONDS),
      TIMEOUTS.redisMs,
      'cancel mark',
    );
    const command: RunCancelCommand = { runId, userId, reason: 'cancelled_by_user' };
    await this.broadcast(this.subjects.runCancel, command, userId, runId);
    return {};
  }

  /**
   * Forwards the answer to a clarification or approval. A finished run is INVALID_INPUT; an
   * active one gets the answer whatever its stored status, because the stored status trails
   * the event stream (the orchestrator ignores answers to requests it is not waiting for).
   */
  async respond(userId: string, payload: unknown): Promise<Record<string, never>> {
    const input = parseInput(runRespondSchema, payload);
    const run = await this.get(userId, input.runId);
    if (!isActive(run)) throw new HeraldError(ErrorCode.INVALID_INPUT, 'This run has already finished.');
    const command: RunRespondCommand = { runId: input.runId, userId, requestId: input.requestId, response: input.response };
    await this.broadcast(this.subjects.runRespond, command, userId, input.runId);
    return {};
  }

  /** Core NATS publish, confirmed by a flush round trip so that an unreachable NATS is UNAVAILABLE. */
  private async broadcast(subject: string, command: object, userId: string, runId: string): Promise<void> {
    await orUnavailable(
      async () => {
        this.nc.publish(subject, encodeJson(command), { headers: buildHeaders({ [HEADER.user]: userId, [HEADER.run]: runId }) });
        await this.nc.flush();
      },
      TIMEOUTS.natsFlushMs,
      'run command publish',
    );
  }
}

function isActive(run: RunSnapshot): boolean {
  return ACTIVE_RUN_STATUSES.includes(run.status);
}
