/**
 * The peers' packages (issue 12: Socket.IO's Redis Streams adapter, the LangGraph Agent
 * Server and its SDK) live in bench/peers, a package of its own that scripts/bench.sh
 * installs on first use: Herald's own install, build and tests never need them. They are
 * loaded from there by name, with the few types the bench uses declared here.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ServerOptions } from 'socket.io';
import { ROOT } from '../../test/support/cluster';

const PEERS_DIR = join(ROOT, 'bench', 'peers');

/** Loads a package of bench/peers (CommonJS or, with Node ≥ 20.19's require of ES modules, ESM). */
export function loadPeer<T>(name: string): T {
  if (!existsSync(join(PEERS_DIR, 'node_modules')))
    throw new Error(`bench/peers is not installed: run \`npm install --prefix bench/peers\` (npm run bench does it)`);
  return createRequire(join(PEERS_DIR, 'package.json'))(name) as T;
}

/** node-redis, as the Redis Streams adapter takes it. */
export interface RedisModule {
  createClient(opts: { url: string }): RedisClient;
}
export interface RedisClient {
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  del(key: string): Promise<unknown>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

interface RedisStreamsAdapterModule {
  createAdapter(client: RedisClient, opts?: { streamName?: string; maxLen?: number }): unknown;
}

/** A node-redis client and the Redis Streams adapter over it (its defaults; one stream per bench run). */
export async function redisStreamsAdapter(
  redisUrl: string,
  streamName: string,
): Promise<{ client: RedisClient; adapter: ServerOptions['adapter'] }> {
  const client = loadPeer<RedisModule>('redis').createClient({ url: redisUrl });
  client.on('error', () => undefined); // it reconnects by itself; what is lost shows in the counts
  await client.connect();
  const adapter = loadPeer<RedisStreamsAdapterModule>('@socket.io/redis-streams-adapter').createAdapter(client, { streamName });
  return { client, adapter: adapter as ServerOptions['adapter'] };
}

/** The few pieces of @langchain/langgraph the bench's graph uses. */
export interface LangGraphModule {
  START: string;
  END: string;
  /** `Annotation<T>()`: a channel keeping the last value written (T is the value's type). */
  Annotation: (<_T>() => unknown) & { Root<S extends Record<string, unknown>>(fields: S): { State: unknown } };
  StateGraph: new (state: unknown) => LangGraphBuilder;
}
interface LangGraphBuilder {
  addNode(name: string, node: (state: never, config: { writer?: (chunk: unknown) => void }) => Promise<unknown>): LangGraphBuilder;
  addEdge(from: string, to: string): LangGraphBuilder;
  addConditionalEdges(from: string, route: (state: never) => string, ends: string[]): LangGraphBuilder;
  compile(): unknown;
}

/** The LangGraph Agent Server, in memory, in this process (@langchain/langgraph-api/server). */
export interface LangGraphApiServerModule {
  startServer(options: {
    port: number;
    nWorkers: number;
    host: string;
    cwd: string;
    graphs: Record<string, string>;
  }): Promise<{ host: string; cleanup: () => Promise<void> }>;
}

/** A part of an SDK stream (`runs.stream`, `runs.joinStream`). */
export interface LangGraphStreamPart {
  id?: string;
  event: string;
  data: unknown;
}
export interface LangGraphSdkModule {
  Client: new (opts: { apiUrl: string; timeoutMs?: number; defaultHeaders?: Record<string, string> }) => LangGraphSdkClient;
}
export interface LangGraphSdkClient {
  runs: {
    stream(
      threadId: string,
      assistantId: string,
      payload: {
        input: unknown;
        streamMode: string[];
        streamResumable?: boolean;
        onDisconnect?: 'cancel' | 'continue';
        ifNotExists?: 'create' | 'reject';
      },
    ): AsyncIterable<LangGraphStreamPart>;
    joinStream(threadId: string, runId: string, opts: { lastEventId?: string; streamMode?: string[] }): AsyncIterable<LangGraphStreamPart>;
  };
}

/** `langgraph dev`'s default `--n-jobs-per-worker`. */
export const LANGGRAPH_WORKERS = 10;
/**
 * What the server's process needs: no tracing to LangSmith, no analytics, errors only (its
 * start-up version check imports package.json files without an import attribute, which
 * plain Node refuses, and warns that every version is 0.0.0).
 */
export const LANGGRAPH_ENV = {
  LANGSMITH_TRACING: 'false',
  LANGCHAIN_TRACING_V2: 'false',
  LANGSMITH_API_KEY: '',
  LANGGRAPH_CLI_NO_ANALYTICS: '1',
  LOG_LEVEL: 'error',
};
