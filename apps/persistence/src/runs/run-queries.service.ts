import { Injectable } from '@nestjs/common';
import { ErrorCode, HeraldError, type PERSISTENCE_RPC, type RpcRequest, type RunSnapshot } from '@herald/contracts';
import type { RunEntity } from '@herald/db';
import { DataSource } from 'typeorm';
import { RunRepository } from './run.repository';

const runNotFound = () => new HeraldError(ErrorCode.NOT_FOUND, 'Run not found');

/** `run.get` and `run.abandon`: a user's run, by id; another user's run does not exist. */
@Injectable()
export class RunQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly runs: RunRepository,
  ) {}

  /** `runId` is a lower-cased UUID (getRunRequestSchema). */
  async get(req: RpcRequest<typeof PERSISTENCE_RPC.getRun>): Promise<RunSnapshot> {
    const run = await this.runs.findOwned(this.dataSource.manager, req.runId, req.userId);
    if (!run) throw runNotFound();
    return toSnapshot(run);
  }

  /** The gateway could not hand the run on: a run still queued fails so it blocks nothing. */
  async abandon(req: RpcRequest<typeof PERSISTENCE_RPC.abandonRun>): Promise<{ abandoned: boolean }> {
    return { abandoned: await this.runs.abandon(this.dataSource.manager, req.runId, req.userId) };
  }
}

function toSnapshot(run: RunEntity): RunSnapshot {
  return {
    runId: run.id,
    conversationId: run.conversationId,
    status: run.status,
    progress: run.progress,
    lastEventId: run.lastEventId,
    startedAt: run.startedAt?.toISOString() ?? null,
    endedAt: run.endedAt?.toISOString() ?? null,
  };
}
