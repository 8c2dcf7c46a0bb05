import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A user's conversation. Users list them newest `updatedAt` first: the migration's index is
 * (user_id, updated_at DESC, id DESC), which TypeORM's decorator cannot spell.
 */
@Entity({ name: 'conversations' })
@Index('conversations_user_updated_idx', ['userId', 'updatedAt', 'id'])
export class ConversationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ type: 'text' })
  title: string;

  /** The last message of the active branch; null while the conversation has no message. */
  @Column({ name: 'active_leaf_id', type: 'uuid', nullable: true })
  activeLeafId: string | null;

  /** When the user last switched branch: runs whose branch was fixed before that do not switch it back. */
  @Column({ name: 'branch_switched_at', type: 'timestamptz', nullable: true })
  branchSwitchedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
