import { Injectable } from '@nestjs/common';
import { ErrorCode, HeraldError, isUuid, type RunSnapshot } from '@herald/contracts';
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

  async get(req: { userId: string; runId: string }): Promise<RunSnapshot> {
    const run = isUuid(req.runId) ? await this.runs.findOwned(this.dataSource.manager, req.runId.toLowerCase(), req.userId) : null;
    if (!run) throw runNotFound();
    return toSnapshot(run);
  }

  /** The gateway could not hand the run on: a run still queued fails so it blocks nothing. */
  async abandon(req: { userId: string; runId: string }): Promise<{ abandoned: boolean }> {
    if (!isUuid(req.runId)) return { abandoned: false };
    return { abandoned: await this.runs.abandon(this.dataSource.manager, req.runId.toLowerCase(), req.userId) };
  }
}

export function toSnapshot(run: RunEntity): RunSnapshot {
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
