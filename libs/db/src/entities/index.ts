import { ConversationEntity } from './conversation.entity';
import { EventEntity } from './event.entity';
import { KbChunkEntity } from './kb-chunk.entity';
import { KbDocumentEntity } from './kb-document.entity';
import { MessageEntity } from './message.entity';
import { RunEntity } from './run.entity';

export * from './conversation.entity';
export * from './event.entity';
export * from './kb-chunk.entity';
export * from './kb-document.entity';
export * from './message.entity';
export * from './run.entity';

/** Every entity of Herald's database. */
export const ENTITIES = [ConversationEntity, MessageEntity, RunEntity, EventEntity, KbDocumentEntity, KbChunkEntity];
