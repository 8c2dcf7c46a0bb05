import type { Subjects } from '@herald/contracts';
import { decodeJson, LOGGER, SUBJECTS, unpackEvents, withTimeout } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamManager } from 'nats';
import { JETSTREAM_MANAGER } from '../core/core.tokens';
import { ifNoneMatchTags, parseRunEtag } from './etag';

/** How long a conditional GET waits for JetStream before asking persistence instead. */
const RUN_VERSION_TIMEOUT_MS = 1000;

/**
 * `GET /v1/runs/:runId` with If-None-Match: whether the client's run ETag is still current,
 * from the EVENTS stream alone (the run's last event, one JetStream API request) instead of
 * a persistence round trip. The subject carries the requesting user, so a tag naming another
 * user's run or a made-up conversation finds nothing and falls through to persistence (404).
 */
@Injectable()
export class RunEtags {
  private lastFailureLog = 0;

  constructor(
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The client's tag when its run has had no event since (304 material); undefined when unknown or changed. */
  async unchanged(userId: string, runId: string, ifNoneMatch: string | string[] | undefined): Promise<string | undefined> {
    // The first run tag only: one JetStream request per poll at most.
    const claim = ifNoneMatchTags(ifNoneMatch)
      .map(parseRunEtag)
      .find((parsed) => parsed !== null);
    if (!claim) return undefined;
    const last = await this.lastEventId(userId, claim.conversationId, runId);
    return last !== null && BigInt(last) === BigInt(claim.lastEventId) ? claim.tag : undefined;
  }

  /** The id of the run's last event in the EVENTS stream; null when it has none there or JetStream cannot say. */
  async lastEventId(userId: string, conversationId: string, runId: string): Promise<string | null> {
    try {
      const msg = await withTimeout(
        this.jsm.streams.getMessage(this.subjects.streams.events, { last_by_subj: this.subjects.events(userId, conversationId, runId) }),
        RUN_VERSION_TIMEOUT_MS,
        'run last event',
      );
      return unpackEvents(msg.seq, decodeJson(msg.data))?.at(-1)?.id ?? null;
    } catch (err) {
      if (!isNoMessage(err)) this.logFailure(err);
      return null;
    }
  }

  private logFailure(err: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.logger.warn({ err: String(err) }, 'could not read a run’s last event from JetStream; conditional GETs ask persistence');
  }
}

/** JetStream's "no message found" (10037): the run has no event in the stream. */
function isNoMessage(err: unknown): boolean {
  const api = (err as { api_error?: { err_code?: number; code?: number } })?.api_error;
  return api?.err_code === 10037 || api?.code === 404;
}
