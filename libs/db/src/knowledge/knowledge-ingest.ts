import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import { chunkMarkdown, type ChunkedDocument, type ChunkOptions } from '@herald/markdown-chunker';
import { REPO_ROOT } from './knowledge-files';

export interface IngestResult {
  documents: number;
  chunks: number;
}

/** Anything that runs SQL: a DataSource, an EntityManager, a migration's QueryRunner. */
type Sql = Pick<EntityManager, 'query'>;

/**
 * Loads Markdown files into the knowledge base: one `kb_documents` row per file (id = file
 * name without `.md`) and its chunks in `kb_chunks`. Upserts by id and removes the chunks a
 * shorter new version no longer has, so running it again is harmless. Given a DataSource,
 * it runs in one transaction; given an EntityManager, in the caller's.
 */
export async function ingestDocuments(
  db: DataSource | EntityManager,
  files: readonly string[],
  options: Partial<ChunkOptions> = {},
): Promise<IngestResult> {
  if (db instanceof DataSource) return db.transaction((manager) => ingestDocuments(manager, files, options));
  const result: IngestResult = { documents: 0, chunks: 0 };
  for (const file of files) {
    const doc = await ingestText(db, { id: documentIdOf(file), text: await readFile(file, 'utf8'), source: sourceOf(file) }, options);
    result.documents += 1;
    result.chunks += doc.chunks.length;
  }
  return result;
}

/** Adds (or replaces) one document given as text, in the caller's transaction. */
export async function ingestText(
  db: EntityManager,
  doc: { id: string; text: string; source: string },
  options: Partial<ChunkOptions> = {},
): Promise<ChunkedDocument> {
  const chunked = chunkMarkdown(doc.id, doc.text, options);
  await upsertDocument(db, chunked, doc.source);
  return chunked;
}

/** `docs/knowledge/Resume and Replay.md` → `resume-and-replay`. */
export function documentIdOf(file: string): string {
  const slug = path
    .basename(file, path.extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-');
  // Without leading and trailing `-`, scanned: /-+$/ would rescan a run of `-` from each of them.
  let start = 0;
  let end = slug.length;
  while (start < end && slug[start] === '-') start++;
  while (end > start && slug[end - 1] === '-') end--;
  return slug.slice(start, end);
}

function sourceOf(file: string): string {
  const relative = path.relative(REPO_ROOT, path.resolve(file));
  return relative.startsWith('..') ? path.resolve(file) : relative.split(path.sep).join('/');
}

async function upsertDocument(db: Sql, doc: ChunkedDocument, source: string): Promise<void> {
  await db.query(
    `INSERT INTO kb_documents (id, title, source) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, source = EXCLUDED.source`,
    [doc.id, doc.title, source],
  );
  await db.query(
    `INSERT INTO kb_chunks (id, document_id, title, content)
     SELECT c.id, $1, c.title, c.content FROM jsonb_to_recordset($2::jsonb) AS c(id text, title text, content text)
     ON CONFLICT (id) DO UPDATE SET document_id = EXCLUDED.document_id, title = EXCLUDED.title, content = EXCLUDED.content`,
    [doc.id, JSON.stringify(doc.chunks)],
  );
  await db.query(`DELETE FROM kb_chunks WHERE document_id = $1 AND NOT (id = ANY($2::text[]))`, [doc.id, doc.chunks.map((c) => c.id)]);
}
