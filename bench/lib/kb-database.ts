import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { ROOT } from '../../test/support/cluster';

const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/herald';

/**
 * A database of the bench's own, migrated and seeded like Herald's (so it holds the same
 * knowledge base), for the in-process baseline; dropped at the end.
 */
export class KbDatabase {
  private constructor(readonly url: string) {}

  static create(): KbDatabase {
    const url = new URL(BASE_DB);
    url.pathname = `/herald_bench_${randomBytes(4).toString('hex')}`;
    const res = spawnSync(process.execPath, [join(ROOT, 'libs/db/dist/migrate.cli.js')], {
      env: { ...process.env, DATABASE_URL: url.toString(), NODE_ENV: 'test' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (res.status !== 0) throw new Error(`migrating the bench database failed: ${res.stderr || res.stdout}`);
    return new KbDatabase(url.toString());
  }

  async drop(): Promise<void> {
    const admin = new URL(this.url);
    const name = admin.pathname.slice(1);
    admin.pathname = '/postgres';
    const pg = new Client({ connectionString: admin.toString() });
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await pg.end();
  }
}
