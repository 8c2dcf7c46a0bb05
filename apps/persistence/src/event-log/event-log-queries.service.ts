import { Injectable } from '@nestjs/common';
import { type EventsAfterReply, type PERSISTENCE_RPC, type RpcRequest } from '@herald/contracts';
import { DataSource } from 'typeorm';
import { sql } from '../infrastructure/sql';

/** Keeps one reply well under NATS's default 1 MiB payload limit, whatever the events hold. */
const EVENTS_PAGE_MAX_BYTES = 256 * 1024;

/**
 * `events.after`: a page of one user's event log, oldest first, for replaying what the
 * EVENTS stream no longer holds. Another user's events are never in it.
 */
@Injectable()
export class EventLogQueries {
  constructor(private readonly dataSource: DataSource) {}

  /** `conversationId`, when given, is a lower-cased UUID (eventsAfterRequestSchema). */
  async after(req: RpcRequest<typeof PERSISTENCE_RPC.eventsAfter>): Promise<EventsAfterReply> {
    const { rows } = await sql<{ id: string; envelope: Record<string, unknown> }>(
      this.dataSource.manager,
      `SELECT id::text AS id, envelope FROM events
        WHERE user_id = $1 AND id > $2::bigint AND id < $3::bigint
          AND ($4::uuid IS NULL OR conversation_id = $4::uuid)
        ORDER BY events.id
        LIMIT $5`,
      [req.userId, req.after, req.before, req.conversationId ?? null, req.limit + 1],
    );
    const events: EventsAfterReply['events'] = [];
    let bytes = 0;
    for (const row of rows.slice(0, req.limit)) {
      const event = { ...row.envelope, id: row.id };
      bytes += Buffer.byteLength(JSON.stringify(event));
      if (events.length > 0 && bytes > EVENTS_PAGE_MAX_BYTES) break;
      events.push(event);
    }
    return { events, more: events.length < rows.length };
  }
}
