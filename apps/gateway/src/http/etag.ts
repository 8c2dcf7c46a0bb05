import type { RunSnapshot } from '@herald/contracts';
import { createHash } from 'node:crypto';

/** A strong ETag for a response body. */
export function etagOf(body: string): string {
  return `"${bodyHash(body)}"`;
}

function bodyHash(body: string): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 27);
}

/** The entity-tags of an If-None-Match header, as sent (`W/` kept); `*` is one of them. */
export function ifNoneMatchTags(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const value = Array.isArray(header) ? header.join(',') : header;
  return value
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
}

/** True when an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for GET). */
export function ifNoneMatchHits(header: string | string[] | undefined, etag: string): boolean {
  const tags = ifNoneMatchTags(header);
  if (tags.length === 1 && tags[0] === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return tags.some((candidate) => opaque(candidate) === opaque(etag));
}

const RUN_TAG_RE = /^(?:W\/)?"r:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(0|[1-9]\d{0,19}):[\w-]{27}"$/;

/**
 * A run snapshot's ETag. A settled snapshot (it has events, has started, and is past
 * `queued`) also names its conversation and the last event id it reflects:
 * `"r:<conversationId>:<lastEventId>:<hash>"`. Such a snapshot only changes when the run
 * gets a later event (persistence folds a run's events into its row in the transaction that
 * stores them; only `orchestration_started` sets `startedAt`, which a settled snapshot
 * already has), so the tag stays valid exactly as long as the run's last event in the EVENTS
 * stream is that one: parseRunEtag + RunEtags answer 304 without asking persistence.
 * Any other snapshot gets a plain body hash, checked against a fresh snapshot.
 */
export function runEtagOf(snapshot: RunSnapshot, body: string): string {
  const settled = snapshot.lastEventId !== null && snapshot.startedAt !== null && snapshot.status !== 'queued';
  return settled ? `"r:${snapshot.conversationId}:${snapshot.lastEventId}:${bodyHash(body)}"` : etagOf(body);
}

/** The conversation and last event id a run ETag names; null for a plain (or foreign) tag. */
export function parseRunEtag(tag: string): { tag: string; conversationId: string; lastEventId: string } | null {
  const match = RUN_TAG_RE.exec(tag.trim());
  if (!match) return null;
  return { tag: tag.trim().replace(/^W\//, ''), conversationId: match[1], lastEventId: match[2] };
}
