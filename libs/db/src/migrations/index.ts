import { InitialSchema1795334000000 } from './1795334000000-initial-schema.migration';
import { SeedKnowledgeBase1795334000001 } from './1795334000001-seed-knowledge-base.migration';

export { InitialSchema1795334000000, SeedKnowledgeBase1795334000001 };

/** Every migration, oldest first. Hand-written SQL; the schema is never synchronized. */
export const MIGRATIONS = [InitialSchema1795334000000, SeedKnowledgeBase1795334000001];
