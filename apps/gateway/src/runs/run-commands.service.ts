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
import {
  broadcastRunCancel,
  buildHeaders,
  CANCEL_REASON,
  encodeJson,
  flagRunCancelled,
  HEADER,
  LOGGER,
  NATS,
  REDIS,
  type Redis,
  RpcClient,
  SUBJECTS,
} from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { TIMEOUTS } from '../core/timeouts';
import { orUnavailable } from '../core/or-unavailable';

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
    const command: RunCancelCommand = { runId, userId, reason: CANCEL_REASON.user };
    await orUnavailable(() => flagRunCancelled(this.redis, this.subjects, command), TIMEOUTS.redisMs, 'cancel mark');
    await this.confirmed(() => broadcastRunCancel(this.nc, this.subjects, command));
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
    const headers = buildHeaders({ [HEADER.user]: userId, [HEADER.run]: input.runId });
    await this.confirmed(() => this.nc.publish(this.subjects.runRespond, encodeJson(command), { headers }));
    return {};
  }

  /** A core NATS publish, confirmed by a flush round trip so that an unreachable NATS is UNAVAILABLE. */
  private async confirmed(publish: () => void): Promise<void> {
    await orUnavailable(
      async () => {
        publish();
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
