import { InitialSchema1795334000000 } from './1795334000000-initial-schema.migration';
import { SeedKnowledgeBase1795334000001 } from './1795334000001-seed-knowledge-base.migration';
import { DemoDataset1795334000002 } from './1795334000002-demo-dataset.migration';
import { DropEventsConversationIndex1795334000003 } from './1795334000003-drop-events-conversation-index.migration';
import { DemoReaderLockdown1795334000004 } from './1795334000004-demo-reader-lockdown.migration';
import { MessageFeedback1795334000020 } from './1795334000020-message-feedback.migration';

export {
  InitialSchema1795334000000,
  SeedKnowledgeBase1795334000001,
  DemoDataset1795334000002,
  DropEventsConversationIndex1795334000003,
  DemoReaderLockdown1795334000004,
  MessageFeedback1795334000020,
};

/** Every migration, oldest first. Hand-written SQL; the schema is never synchronized. */
export const MIGRATIONS = [
  InitialSchema1795334000000,
  SeedKnowledgeBase1795334000001,
  DemoDataset1795334000002,
  DropEventsConversationIndex1795334000003,
  DemoReaderLockdown1795334000004,
  MessageFeedback1795334000020,
];
