import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_EVENTS, EVENT_TYPES, PERSISTENCE_RPC, SERVER_EVENTS } from '@herald/contracts';
import { loadConfig } from '@herald/config';
import { createLogger } from '@herald/observability';
import { type DynamicModule, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { AppModule } from '../../apps/gateway/src/app.module';
import { API_DOCS_DIR, renderApiDocs } from '../../tools/api-docs/render-api-docs';

type ModuleRef = Type | DynamicModule | { forwardRef: () => Type };

/** The controllers of a Nest module and of everything it imports, from the decorators' metadata. */
function controllersOf(ref: ModuleRef, seen = new Set<unknown>()): Type[] {
  const mod = 'forwardRef' in ref ? ref.forwardRef() : ref;
  const cls = 'module' in mod ? mod.module : mod;
  const dynamic = 'module' in mod ? mod : undefined;
  if (seen.has(mod)) return [];
  seen.add(mod);
  const meta = <T>(key: string): T[] => Reflect.getMetadata(key, cls) ?? [];
  const imports = [...meta<ModuleRef>(MODULE_METADATA.IMPORTS), ...((dynamic?.imports ?? []) as ModuleRef[])];
  const controllers = [...meta<Type>(MODULE_METADATA.CONTROLLERS), ...(dynamic?.controllers ?? [])];
  return [...controllers, ...imports.flatMap((i) => controllersOf(i, seen))];
}

/** `GET /v1/runs/{runId}`, … for every handler of the gateway's controllers (OpenAPI's path syntax). */
function gatewayRoutes(): string[] {
  const app = AppModule.forRoot({ config: loadConfig({}, { tokens: false }), logger: createLogger('api-docs-spec', 'silent') });
  const paths = (value: string | string[] | undefined) => (Array.isArray(value) ? value : [value ?? '']);
  return controllersOf(app).flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
      const handler = Object.getOwnPropertyDescriptor(controller.prototype, name)?.value; // not getters
      if (name === 'constructor' || typeof handler !== 'function') return [];
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) return [];
      return paths(Reflect.getMetadata(PATH_METADATA, controller)).flatMap((base) =>
        paths(Reflect.getMetadata(PATH_METADATA, handler)).map((sub) => {
          const path = [base, sub].flatMap((p) => p.split('/')).filter(Boolean);
          return `${RequestMethod[method]} /${path.map((p) => p.replace(/^:(\w+)$/, '{$1}')).join('/')}`;
        }),
      );
    }),
  );
}

/** docs/api is generated from libs/contracts: it must be what a fresh generation gives. */
describe('docs/api (AsyncAPI and OpenAPI)', () => {
  const docs = renderApiDocs();

  it.each(Object.keys(docs))('%s is up to date (run `npm run docs:api` after changing libs/contracts)', (file) => {
    const committed = JSON.parse(readFileSync(join(API_DOCS_DIR, file), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(docs[file])));
  });

  it('documents every socket event, every event type and every NATS request/reply', () => {
    const asyncapi = docs['asyncapi.json'] as { channels: Record<string, { address: string; messages: Record<string, unknown> }> };
    for (const name of [...Object.values(CLIENT_EVENTS), ...Object.values(SERVER_EVENTS)]) {
      expect({ name, address: asyncapi.channels[name]?.address }).toEqual({ name, address: name });
    }
    expect(Object.keys(asyncapi.channels['agent:event'].messages).sort()).toEqual([...EVENT_TYPES].sort());
    const addresses = Object.values(asyncapi.channels).map((c) => c.address);
    for (const op of Object.values(PERSISTENCE_RPC)) expect(addresses).toContain(`{namespace}.rpc.persistence.${op}`);
    expect(addresses).toContain('{namespace}.evt.{user}.{conversation}.{run}');
  });

  it('documents every HTTP route the gateway serves, and no other', () => {
    const openapi = docs['openapi.json'] as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const controllers = gatewayRoutes();
    // The decorators were read: the routes of PROTOCOL.md §6 are there; /metrics is not a controller's (METRICS_PORT).
    expect(controllers).toEqual(expect.arrayContaining(['GET /v1/conversations', 'POST /v1/runs/{runId}/respond', 'GET /health/ready']));
    expect(controllers).not.toContain('GET /metrics');
    const served = [...controllers, 'GET /metrics'];
    expect(new Set(served).size).toBe(served.length);
    expect(documented.sort()).toEqual(served.sort());
  });
});
