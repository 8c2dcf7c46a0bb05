import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAsyncApi } from './build-asyncapi';
import { buildOpenApi } from './build-openapi';

export const API_DOCS_DIR = join(__dirname, '..', '..', 'docs', 'api');

/** The generated documents, by file name under docs/api. */
export function renderApiDocs(): Record<string, object> {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return { 'asyncapi.json': buildAsyncApi(version), 'openapi.json': buildOpenApi(version) };
}
