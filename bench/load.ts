/**
 * A short load run of the whole pipeline (npm run bench): N connected users over two
 * gateways send R runs at a fixed rate (open loop: slow answers do not slow the sender),
 * with the local engine and no token delay. Measures the chat:send ack latency, the time
 * from chat:send to orchestration_started and to the terminal event, and the relay latency
 * (event ts → client receipt) of every event. Every event of every run must arrive.
 *
 *   npm run bench -- [--users 100] [--runs 200] [--rate 20]
 */
import { cpus, totalmem } from 'node:os';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeraldClient } from '@herald/client';
import type { AgentEvent } from '@herald/contracts';
import { Cluster, ROOT, sleep } from '../test/e2e/support/cluster';
import { fmt, summarize } from './stats';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const USERS = arg('users', 100);
const RUNS = arg('runs', 200);
const RATE = arg('rate', 20); // runs per second

interface RunRecord {
  sentAt: number;
  ackAt?: number;
  startedAt?: number;
  endedAt?: number;
  terminal?: string;
  error?: string;
  seen?: Pick<RunRecord, 'startedAt' | 'endedAt' | 'terminal'>;
}

async function main() {
  console.log(`starting Herald (4 services, 2 gateways)…`);
  const cluster = await Cluster.start({
    gateways: 2,
    env: { RATE_LIMIT_PER_MINUTE: '100000', LOCAL_ENGINE_TOKEN_DELAY_MS: '0', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '64' },
  });
  const clients: HeraldClient[] = [];
  const runs = new Map<string, RunRecord>();
  const seenByRun = new Map<string, Pick<RunRecord, 'startedAt' | 'endedAt' | 'terminal'>>();
  const relay: number[] = [];
  let events = 0;
  try {
    for (let i = 0; i < USERS; i++) {
      const client = await cluster.client(`bench-user-${i}`, i % 2);
      client.onEvent((e: AgentEvent) => {
        const now = Date.now();
        events++;
        relay.push(now - Date.parse(e.ts));
        // An event may arrive before its run's ack: keep what is seen per run id.
        const seen = seenByRun.get(e.runId) ?? {};
        seenByRun.set(e.runId, seen);
        if (e.type === 'orchestration_started') seen.startedAt ??= now;
        if (e.type === 'orchestration_completed' || e.type === 'run_cancelled' || e.type === 'error') {
          seen.endedAt = now;
          seen.terminal = e.type;
        }
      });
      clients.push(client);
    }
    // Warm-up: one run per gateway.
    await (await clients[0].ask('warm up')).done();
    await (await clients[1].ask('warm up')).done();
    relay.length = 0;
    events = 0;

    console.log(`${USERS} users connected; sending ${RUNS} runs at ${RATE}/s…`);
    const questions = ['What is JetStream?', 'How does resume work?', 'Hello!', 'What does the gateway do?', 'How are events stored?'];
    const t0 = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const client = clients[i % clients.length];
      const record: RunRecord = { sentAt: Date.now() };
      pending.push(
        client.send(questions[i % questions.length], { stream: true }).then(
          (ack) => {
            record.ackAt = Date.now();
            runs.set(ack.runId, record);
            seenByRun.set(ack.runId, seenByRun.get(ack.runId) ?? {});
            record.seen = seenByRun.get(ack.runId);
          },
          (err) => {
            record.error = String(err.message ?? err);
          },
        ),
      );
    }
    await Promise.all(pending);
    const deadline = Date.now() + 60_000;
    while ([...runs.values()].some((r) => !r.seen?.terminal) && Date.now() < deadline) await sleep(50);
    const elapsed = (Date.now() - t0) / 1000;

    const all = [...runs.values()].map((r) => ({ ...r, ...r.seen }));
    const completed = all.filter((r) => r.terminal === 'orchestration_completed').length;
    const ack = summarize(all.map((r) => r.ackAt! - r.sentAt));
    const started = summarize(all.filter((r) => r.startedAt).map((r) => r.startedAt! - r.sentAt));
    const total = summarize(all.filter((r) => r.endedAt).map((r) => r.endedAt! - r.sentAt));
    const rel = summarize(relay);
    const rows = [
      ['chat:send ack', ack],
      ['chat:send → orchestration_started', started],
      ['chat:send → terminal event', total],
      ['relay (event ts → client)', rel],
    ] as const;
    const table = [
      '| measure | n | p50 ms | p95 ms | p99 ms | max ms |',
      '|---|---|---|---|---|---|',
      ...rows.map(([name, s]) => `| ${name} | ${s.n} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.max)} |`),
    ].join('\n');
    const summary = [
      `## Load run, ${new Date().toISOString()}`,
      '',
      `Command: \`npm run bench -- --users ${USERS} --runs ${RUNS} --rate ${RATE}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; everything (NATS, Postgres, Redis, 4 services with 2 gateways, the load generator) on this one machine.`,
      '',
      `${USERS} connected users, ${RUNS} runs sent at ${RATE}/s (open loop), streamed answers, local engine without token delay.`,
      `Runs accepted: ${runs.size}/${RUNS}; completed: ${completed}; refused: ${all.length - runs.size + (RUNS - all.length)}; errors: ${all.filter((r) => r.error).length}. Events delivered: ${events} in ${elapsed.toFixed(1)} s.`,
      '',
      table,
      '',
    ].join('\n');
    console.log(`\n${summary}`);
    const file = join(ROOT, 'bench', 'RESULTS.md');
    if (!existsSync(file))
      writeFileSync(file, '# Benchmark results\n\nNewest runs last. Each section names the command that produced it.\n\n');
    appendFileSync(file, `${summary}\n`);
    if (completed !== RUNS) process.exitCode = 1;
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
