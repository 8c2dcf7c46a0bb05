import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES, PERSISTENCE_RPC } from '@herald/contracts';
import { API_DOCS_DIR, renderApiDocs } from '../../tools/api-docs/render-api-docs';

/** docs/api is generated from libs/contracts: it must be what a fresh generation gives. */
describe('docs/api (AsyncAPI and OpenAPI)', () => {
  const docs = renderApiDocs();

  it.each(Object.keys(docs))('%s is up to date (run `npm run docs:api` after changing libs/contracts)', (file) => {
    const committed = JSON.parse(readFileSync(join(API_DOCS_DIR, file), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(docs[file])));
  });

  it('documents every socket event, every event type and every NATS request/reply', () => {
    const asyncapi = docs['asyncapi.json'] as { channels: Record<string, { address: string; messages: Record<string, unknown> }> };
    for (const name of ['agent:event', 'session:ready', 'session:expired', 'chat:send', 'run:cancel', 'run:respond', 'events:resume']) {
      expect(asyncapi.channels[name]).toBeDefined();
    }
    expect(Object.keys(asyncapi.channels['agent:event'].messages).sort()).toEqual([...EVENT_TYPES].sort());
    const addresses = Object.values(asyncapi.channels).map((c) => c.address);
    for (const op of Object.values(PERSISTENCE_RPC)) expect(addresses).toContain(`{namespace}.rpc.persistence.${op}`);
    expect(addresses).toContain('{namespace}.evt.{user}.{conversation}.{run}');
  });

  it('documents every HTTP route of PROTOCOL.md §6', () => {
    const openapi = docs['openapi.json'] as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'GET /v1/conversations',
        'GET /v1/conversations/{id}/messages',
        'POST /v1/conversations/{id}/messages',
        'GET /v1/runs/{runId}',
        'POST /v1/runs/{runId}/cancel',
        'POST /v1/runs/{runId}/respond',
        'GET /v1/events',
        'POST /v1/dev/token',
        'POST /v1/knowledge',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
      ].sort(),
    );
  });
});
