import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** File types the knowledge base takes. */
export const INGESTIBLE_EXTENSIONS = ['.md', '.markdown', '.txt'] as const;

/** The Markdown and text files a path names: the file itself, or every such file under a folder (sorted). */
export function ingestiblePaths(target: string): string[] {
  const stat = statSync(target);
  if (stat.isFile()) {
    if (!INGESTIBLE_EXTENSIONS.includes(path.extname(target).toLowerCase() as (typeof INGESTIBLE_EXTENSIONS)[number])) {
      throw new Error(`${target}: only ${INGESTIBLE_EXTENSIONS.join(', ')} files can be ingested`);
    }
    return [path.resolve(target)];
  }
  return readdirSync(target, { recursive: true, encoding: 'utf8' })
    .filter((f) => INGESTIBLE_EXTENSIONS.includes(path.extname(f).toLowerCase() as (typeof INGESTIBLE_EXTENSIONS)[number]))
    .sort()
    .map((f) => path.resolve(target, f))
    .filter((f) => statSync(f).isFile());
}
