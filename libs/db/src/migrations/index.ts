import { InitialSchema1795334000000 } from './1795334000000-initial-schema.migration';
import { SeedKnowledgeBase1795334000001 } from './1795334000001-seed-knowledge-base.migration';
import { DemoDataset1795334000002 } from './1795334000002-demo-dataset.migration';
import { DropEventsConversationIndex1795334000003 } from './1795334000003-drop-events-conversation-index.migration';
import { DemoReaderLockdown1795334000004 } from './1795334000004-demo-reader-lockdown.migration';
import { Usage1795334000010 } from './1795334000010-usage.migration';
import { MessageFeedback1795334000020 } from './1795334000020-message-feedback.migration';
import { MESSAGE_TREE_BACKFILL_BATCH, MessageTree1795334000030 } from './1795334000030-message-tree.migration';

export {
  InitialSchema1795334000000,
  SeedKnowledgeBase1795334000001,
  DemoDataset1795334000002,
  DropEventsConversationIndex1795334000003,
  DemoReaderLockdown1795334000004,
  Usage1795334000010,
  MessageFeedback1795334000020,
  MessageTree1795334000030,
  MESSAGE_TREE_BACKFILL_BATCH,
};

/** Every migration, oldest first. Hand-written SQL; the schema is never synchronized. */
export const MIGRATIONS = [
  InitialSchema1795334000000,
  SeedKnowledgeBase1795334000001,
  DemoDataset1795334000002,
  DropEventsConversationIndex1795334000003,
  DemoReaderLockdown1795334000004,
  Usage1795334000010,
  MessageFeedback1795334000020,
  MessageTree1795334000030,
];
