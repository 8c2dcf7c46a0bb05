import type { MigrationInterface, QueryRunner } from 'typeorm';
import { listKnowledgeFiles } from '../knowledge/knowledge-files';
import { documentIdOf, ingestDocuments } from '../knowledge/knowledge-ingest';

/** Seeds the knowledge base with Herald's own documentation (docs/knowledge/*.md). */
export class SeedKnowledgeBase1795334000001 implements MigrationInterface {
  name = 'SeedKnowledgeBase1795334000001';

  async up(db: QueryRunner): Promise<void> {
    await ingestDocuments(db.manager, listKnowledgeFiles());
  }

  async down(db: QueryRunner): Promise<void> {
    const ids = listKnowledgeFiles().map(documentIdOf);
    await db.query(`DELETE FROM kb_documents WHERE id = ANY($1::text[])`, [ids]);
  }
}
