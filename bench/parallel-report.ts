/**
 * `npm run bench:parallel`: how much time running a report's knowledge and data steps in
 * parallel saves, against the same build running them one after the other
 * (RUN_PARALLEL_STEPS=false), on this machine, with the local engine's token delay set.
 *
 * For each mode it starts the services (one gateway, orchestrator, worker and persistence,
 * as `npm start` does), sends one report to warm up, then `--runs` reports one at a time, and
 * reports the median and spread of: the whole run as the client sees it (send → terminal
 * event), and the gathering (orchestration_started → the reporting step's agent_started).
 *
 *   npm run bench:parallel -- [--runs 7] [--delay 20]
 */
import type { AgentEvent } from '@herald/contracts';
import { Cluster } from '../test/support/cluster';
import { EventCollector } from '../test/support/event-collector';

const REPORT = 'Write a report on revenue by region';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0 || value > 10_000) throw new Error(`--${name} must be an integer 0..10000`);
  return value;
}

interface Sample {
  totalMs: number;
  gatherMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function describe(values: number[]): string {
  return `median ${median(values).toFixed(0)} ms (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})`;
}

function gatherMs(events: AgentEvent[]): number {
  const started = events.find((e) => e.type === 'orchestration_started');
  const reporting = events.find((e) => e.type === 'agent_started' && e.data.agent === 'reporting');
  if (!started || !reporting) throw new Error('the run has no orchestration_started or no reporting step');
  return Date.parse(reporting.ts) - Date.parse(started.ts);
}

async function measure(parallel: boolean, runs: number, delayMs: number): Promise<Sample[]> {
  const cluster = await Cluster.start({
    env: { LOCAL_ENGINE_TOKEN_DELAY_MS: String(delayMs), RUN_PARALLEL_STEPS: String(parallel), RATE_LIMIT_PER_MINUTE: '1000' },
  });
  try {
    const client = await cluster.client(`bench-parallel-${parallel}`);
    const seen = new EventCollector(client);
    const samples: Sample[] = [];
    for (let i = 0; i <= runs; i++) {
      const sentAt = performance.now();
      const ack = await client.send(REPORT, { stream: true });
      const events = await seen.until(ack.runId, 120_000);
      const totalMs = performance.now() - sentAt;
      if (events.at(-1)?.type !== 'orchestration_completed') throw new Error(`run ${ack.runId} ended with ${events.at(-1)?.type}`);
      if (i > 0) samples.push({ totalMs, gatherMs: gatherMs(events) }); // the first warms up
    }
    return samples;
  } finally {
    await cluster.stop();
  }
}

async function main() {
  const runs = option('runs', 7);
  const delayMs = option('delay', 20);
  console.log(`report "${REPORT}", LOCAL_ENGINE_TOKEN_DELAY_MS=${delayMs}, ${runs} runs per mode after one to warm up`);
  const results: Record<string, Sample[]> = {};
  for (const parallel of [false, true]) {
    const mode = parallel ? 'parallel' : 'sequential';
    results[mode] = await measure(parallel, runs, delayMs);
    console.log(
      `${mode.padEnd(10)} run ${describe(results[mode].map((s) => s.totalMs))}; gathering ${describe(results[mode].map((s) => s.gatherMs))}`,
    );
  }
  const saved = (key: keyof Sample) => median(results.sequential.map((s) => s[key])) - median(results.parallel.map((s) => s[key]));
  const total = median(results.sequential.map((s) => s.totalMs));
  console.log(
    `saved: ${saved('totalMs').toFixed(0)} ms per report (${((100 * saved('totalMs')) / total).toFixed(1)}% of ${total.toFixed(0)} ms), ` +
      `${saved('gatherMs').toFixed(0)} ms of gathering`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
