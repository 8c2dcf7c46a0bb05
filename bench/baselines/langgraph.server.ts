/**
 * Peer (3) of issue 12: the LangGraph JS Agent Server (`@langchain/langgraph-api`, what
 * `langgraph dev` runs) started in this process, in memory (its ops and checkpoints kept in
 * memory, flushed to a temporary folder), bound to loopback, tracing and telemetry off,
 * serving bench/baselines/langgraph.graph.ts as the assistant `herald`, with the CLI's
 * default of 10 run workers. The knowledge base is the bench's Postgres database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/cluster';
import { serveParent } from '../lib/ipc';
import { LANGGRAPH_WORKERS, type LangGraphApiServerModule, loadPeer } from '../lib/peers';

let cwd: string | undefined;
let cleanup: (() => Promise<void>) | undefined;

serveParent(
  {
    start: async ({ databaseUrl }: { databaseUrl: string }) => {
      process.env.BENCH_KB_URL = databaseUrl;
      cwd = mkdtempSync(join(tmpdir(), 'bench-langgraph-'));
      const port = await freePort();
      const { startServer } = loadPeer<LangGraphApiServerModule>('@langchain/langgraph-api/server');
      const server = await startServer({
        port,
        nWorkers: LANGGRAPH_WORKERS,
        host: '127.0.0.1',
        cwd,
        graphs: { herald: `${join(__dirname, 'langgraph.graph.js')}:graph` },
      });
      cleanup = server.cleanup;
      return { port };
    },
  },
  async () => {
    await cleanup?.().catch(() => undefined);
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  },
);
