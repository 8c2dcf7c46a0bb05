import 'reflect-metadata';
import { ConfigError, loadConfig } from '@herald/config';
import { createDataSource } from './data-source';
import { redactDatabaseUrl } from './database-url';
import { ingestiblePaths } from './knowledge/ingest-paths';
import { ingestDocuments } from './knowledge/knowledge-ingest';

/** `npm run kb:ingest -- <file or folder>...`: adds Markdown and text files to the knowledge base, chunked and searchable. */
async function main(targets: string[]): Promise<void> {
  if (targets.length === 0) throw new Error('usage: npm run kb:ingest -- <file or folder> [...]');
  const files = targets.flatMap(ingestiblePaths);
  if (files.length === 0) throw new Error(`no .md, .markdown or .txt files in ${targets.join(', ')}`);
  const config = loadConfig(process.env, { tokens: false });
  const db = createDataSource(config.DATABASE_URL, { poolSize: 1, applicationName: 'herald-kb-ingest' });
  await db.initialize();
  try {
    const result = await ingestDocuments(db, files);
    console.log(`kb:ingest: ${redactDatabaseUrl(config.DATABASE_URL)} ${result.documents} document(s), ${result.chunks} chunk(s)`);
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    console.error(`kb:ingest failed: ${message}`);
    process.exit(1);
  },
);
