import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_DOCS_DIR, renderApiDocs } from './render-api-docs';

/** `npm run docs:api`: writes docs/api/*.json from libs/contracts. */
mkdirSync(API_DOCS_DIR, { recursive: true });
for (const [file, doc] of Object.entries(renderApiDocs())) {
  writeFileSync(join(API_DOCS_DIR, file), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`docs:api: docs/api/${file}`);
}
