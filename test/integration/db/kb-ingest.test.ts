import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runMigrations } from '@herald/db';
import { Client } from 'pg';

/** `npm run kb:ingest -- <file or folder>`: the real CLI against a database of its own. */
const ROOT = resolve(__dirname, '../../..');
const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/herald');

describe('kb:ingest (CLI)', () => {
  const dbName = `herald_kb_${randomBytes(4).toString('hex')}`;
  const url = new URL(base.toString());
  url.pathname = `/${dbName}`;
  const folder = mkdtempSync(join(tmpdir(), 'kb-ingest-'));
  let pg: Client;

  const ingest = (...targets: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'libs/db/dist/kb-ingest.cli.js'), ...targets], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url.toString() },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    await runMigrations(url.toString());
    pg = new Client({ connectionString: url.toString() });
    await pg.connect();
    mkdirSync(join(folder, 'nested'));
    writeFileSync(
      join(folder, 'Quokka Care.md'),
      '# Quokka care\n\n## Feeding\n\nQuokkas eat leaves and grasses; Herald operators feed them at noon.\n',
    );
    writeFileSync(join(folder, 'nested', 'wombats.txt'), 'Wombats dig burrows with their strong claws.\n');
    writeFileSync(join(folder, 'ignored.json'), '{"not": "ingested"}');
  }, 30_000);

  afterAll(async () => {
    await pg?.end();
    rmSync(folder, { recursive: true, force: true });
    const admin = new Client({ connectionString: new URL('/postgres', base).toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  });

  const chunksOf = async (documentId: string) =>
    (await pg.query('SELECT id, title, content FROM kb_chunks WHERE document_id = $1 ORDER BY id', [documentId])).rows;

  it('adds the Markdown and text files of a folder as chunked, searchable documents, and is idempotent', async () => {
    const first = ingest(folder);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/2 document\(s\)/);
    expect(await chunksOf('quokka-care')).toEqual([expect.objectContaining({ title: expect.stringContaining('Feeding') })]);
    expect(await chunksOf('wombats')).toHaveLength(1);
    expect(await chunksOf('ignored')).toEqual([]);
    const found = await pg.query(
      `SELECT id FROM kb_chunks, websearch_to_tsquery('english', $1) q WHERE tsv @@ q ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 3`,
      ['what do quokkas eat'],
    );
    expect(found.rows.map((r) => r.id)[0]).toMatch(/^quokka-care#/);

    expect(ingest(join(folder, 'Quokka Care.md')).status).toBe(0);
    expect(await chunksOf('quokka-care')).toHaveLength(1);
  });

  it('fails with a clear message and nothing written for a path with nothing to ingest', async () => {
    const missing = ingest(join(folder, 'no-such-file.md'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/kb:ingest failed/);
    const none = ingest();
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/usage: npm run kb:ingest/);
  });
});
