import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The repository root, found from this file's place in libs/db: the same from
 * libs/db/src/knowledge (ts-jest, swc) and libs/db/dist/knowledge (compiled).
 */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** Herald's own documentation, which seeds the knowledge base. */
export const KNOWLEDGE_DIR = path.join(REPO_ROOT, 'docs', 'knowledge');

/** The Markdown files of a knowledge folder, sorted by name. */
export function listKnowledgeFiles(dir: string = KNOWLEDGE_DIR): string[] {
  if (!existsSync(dir)) {
    throw new Error(`Knowledge base folder not found: ${dir} (deployments must ship docs/knowledge beside libs/db)`);
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join(dir, f));
}
