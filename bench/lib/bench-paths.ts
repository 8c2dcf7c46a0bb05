import { join } from 'node:path';

/** Where the compiled bench scripts are (bench/dist mirrors the repository from its root). */
const BENCH_DIST = join(__dirname, '..', '..');

export function benchScript(relative: string): string {
  return join(BENCH_DIST, relative);
}
