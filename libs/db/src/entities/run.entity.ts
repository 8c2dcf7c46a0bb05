import type { RunOptions, RunStatus } from '@herald/contracts';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ConversationEntity } from './conversation.entity';

/** One accepted `chat:send`: its request, and where its lifecycle stands. */
@Entity({ name: 'runs' })
@Index('runs_conversation_status_idx', ['conversationId', 'status'])
@Index('runs_user_client_message_uidx', ['userId', 'clientMessageId'], {
  unique: true,
  where: 'client_message_id IS NOT NULL',
})
export class RunEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @ManyToOne(() => ConversationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'conversation_id' })
  conversation?: ConversationEntity;

  /** Id of the assistant message this run produces. */
  @Column({ name: 'message_id', type: 'uuid' })
  messageId: string;

  /** Id under which the user's message is stored when the run completes. */
  @Column({ name: 'user_message_id', type: 'uuid' })
  userMessageId: string;

  /** The parent of the run's user message (null: a first message), once the branch is fixed. */
  @Column({ name: 'parent_message_id', type: 'uuid', nullable: true })
  parentMessageId: string | null;

  /** When the run's branch was fixed: at admission for an edit, a regenerate or a new conversation's first message, when it starts otherwise. */
  @Column({ name: 'branch_pinned_at', type: 'timestamptz', nullable: true })
  branchPinnedAt: Date | null;

  /** The client's idempotency key (`chat:send` clientMessageId), unique per user while set. */
  @Column({ name: 'client_message_id', type: 'text', nullable: true })
  clientMessageId: string | null;

  /** The user's message, trimmed. */
  @Column({ type: 'text' })
  content: string;

  @Column({ type: 'jsonb' })
  options: RunOptions;

  @Column({ type: 'text', default: 'queued' })
  status: RunStatus;

  @Column({ type: 'real', default: 0 })
  progress: number;

  /** Id of the last event of this run written to the event log (a bigint, as a string). */
  @Column({ name: 'last_event_id', type: 'bigint', nullable: true })
  lastEventId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;
}
