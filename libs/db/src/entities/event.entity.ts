import type { EventType, StoredEvent } from '@herald/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The event log: every lifecycle event, keyed by its JetStream stream sequence (the event id
 * of PROTOCOL.md §3). Replay reads it for what the stream no longer holds.
 */
@Entity({ name: 'events' })
@Index('events_user_id_idx', ['userId', 'id'])
@Index('events_run_idx', ['runId'])
export class EventEntity {
  /** bigint: TypeORM hands it over as a decimal string, which is also how clients see ids. */
  @PrimaryColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ type: 'text' })
  type: EventType;

  /** The event as published, without its id. */
  @Column({ type: 'jsonb' })
  envelope: StoredEvent;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
