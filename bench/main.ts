/**
 * `npm run bench`: Herald side by side with two baselines (issue 6) and two peers (issue 12)
 * on this machine.
 *
 * For each system (direct in-process baseline, bare NATS relay baseline, Herald):
 *  - memory: RSS per idle connection (5,000 sockets);
 *  - relay: events of many runs for 200 and 1,000 connected users, stepped up in rate until
 *    a step fails, then measured at half the highest passing rate;
 *  - runs: chat:send at a fixed rate through the whole pipeline, stepped up the same way,
 *    with the CPU each process spends per run;
 *  - rates (Herald, the LangGraph Agent Server): runs at the same fixed rates, time to the
 *    first event and CPU per run of every process each system needs (infrastructure included);
 *  - crash (Herald, Socket.IO with the Redis Streams adapter): one of two servers SIGKILLed
 *    mid-stream, events lost counted.
 * Results are appended to bench/RESULTS.md and written to bench/results/<time>.json.
 *
 *   npm run bench -- --help
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/support/cluster';
import { benchUsers, ClientFleet } from './lib/client-fleet';
import { killAllChildren } from './lib/ipc';
import { KbDatabase } from './lib/kb-database';
import { machineInfo, probeSpeed } from './lib/machine';
import { type BenchOptions, parseOptions } from './lib/options';
import { type BenchResults, renderMarkdown, type TargetResults } from './lib/report';
import { BareRelayTarget, DirectTarget } from './targets/baseline.targets';
import { HeraldTarget } from './targets/herald.target';
import { LangGraphTarget, SocketIoPeerTarget } from './targets/peer.targets';
import type { Target, TargetName } from './targets/target';
import { runCrash } from './workloads/crash.workload';
import { runMemory } from './workloads/memory.workload';
import { runRates } from './workloads/rates.workload';
import { drainBacklog, runRelay } from './workloads/relay.workload';
import { runRuns } from './workloads/runs.workload';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** The whole bench is bounded: it never hangs, whatever goes wrong. */
const DEADLINE_MS = { quick: 10 * 60_000, full: 20 * 60_000 };

const started = Date.now();
const log = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

/** What must be undone however the bench ends. */
const cleanups: Array<() => Promise<void>> = [];
/** Set on Ctrl-C: no new target starts, the running one is stopped. */
let aborted = false;
async function cleanUp(): Promise<void> {
  for (const undo of cleanups.splice(0).reverse()) {
    await Promise.race([undo(), new Promise((r) => setTimeout(r, 30_000))]).catch((err) => console.error('cleanup:', err));
  }
  killAllChildren();
}

async function startTarget(name: TargetName, opts: BenchOptions, kb: () => KbDatabase): Promise<Target> {
  if (name === 'herald')
    return HeraldTarget.start({
      producers: opts.producers,
      profileDir: opts.profile ? join(ROOT, 'test-output', 'bench-profiles') : undefined,
    });
  if (name === 'direct') return DirectTarget.start(kb().url);
  if (name === 'socketio') return SocketIoPeerTarget.start({ producers: opts.producers });
  if (name === 'langgraph') return LangGraphTarget.start(kb().url);
  return BareRelayTarget.start({ natsUrl: NATS_URL, namespace: `benchbare${randomBytes(4).toString('hex')}`, producers: opts.producers });
}

/** Exactly these users connected: adds the missing ones, or starts over with fewer. */
async function population(fleet: ClientFleet, target: Target, count: number): Promise<string[]> {
  const users = benchUsers(count);
  if (fleet.size > count) await fleet.disconnect();
  if (fleet.size < count) {
    log(`connecting ${count - fleet.size} users…`);
    await fleet.connect(users.slice(fleet.size), target.urls, target.clientResume);
  }
  return users;
}

/** The LangGraph peer's runs: its own fleet of SDK clients (bench/agents/langgraph-client.ts). */
async function langGraphRates(target: Target, opts: BenchOptions) {
  const driver = await ClientFleet.start(opts.clientHosts, 'bench/agents/langgraph-client.js', 'langgraph-client');
  try {
    await driver.init({ url: target.urls[0] });
    return await runRates(target, driver, opts, log);
  } finally {
    await driver.stop();
  }
}

async function benchTarget(target: Target, fleet: ClientFleet, opts: BenchOptions): Promise<TargetResults> {
  const results: TargetResults = { description: target.description, relay: [] };
  const peer = target.name === 'socketio' || target.name === 'langgraph';
  if (target.name === 'langgraph') {
    if (opts.workloads.includes('rates')) results.rates = await langGraphRates(target, opts);
    return results;
  }
  if (opts.workloads.includes('memory') && !peer) results.memory = await runMemory(target, fleet, opts.idleConnections, log);
  const [firstRelay, ...moreRelay] = [...(peer ? opts.peerRelayUsers : opts.relayUsers)].sort((a, b) => a - b);
  if (opts.workloads.includes('relay') && firstRelay)
    results.relay.push(await runRelay(target, fleet, await population(fleet, target, firstRelay), opts, log));
  if (opts.workloads.includes('runs') && target.runsAgents) {
    await population(fleet, target, opts.runsUsers);
    results.runs = await runRuns(target, fleet, opts, log);
  }
  if (opts.workloads.includes('rates') && target instanceof HeraldTarget) {
    await population(fleet, target, opts.runsUsers);
    results.rates = await runRates(target, fleet, opts, log);
  }
  if (opts.workloads.includes('relay'))
    for (const users of moreRelay) results.relay.push(await runRelay(target, fleet, await population(fleet, target, users), opts, log));
  // Last, since it stops and replaces persistence: the event log drains a backlog while the
  // relay runs at the first population's half rate.
  const first = results.relay[0];
  if (target instanceof HeraldTarget && opts.backlog > 0 && first?.half)
    first.backlogDrain = await drainBacklog(target, fleet, await population(fleet, target, first.users), first.half.rate, opts, log);
  // Last: it kills one of the target's servers.
  if (opts.workloads.includes('crash') && target.killOne)
    results.crash = await runCrash(target, fleet, benchUsers(Math.min(...opts.peerRelayUsers)), opts, log);
  return results;
}

function writeResults(results: BenchResults): void {
  const section = renderMarkdown(results);
  console.log(`\n${section}`);
  if (!results.options.record) return;
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${results.startedAt.replace(/[:.]/g, '-')}${results.options.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const md = join(ROOT, 'bench', 'RESULTS.md');
  if (!existsSync(md)) writeFileSync(md, '# Benchmark results\n\nNewest runs last. Each section names the command that produced it.\n\n');
  appendFileSync(md, `${section}\n`);
  log(`results: ${file} and bench/RESULTS.md`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    machine: machineInfo(),
    options: opts,
    targets: {},
  };
  results.machine.speedAtStart = await probeSpeed();
  log(
    `speed probe: CPU loop ${results.machine.speedAtStart.cpuLoopMs} ms, loopback round trip ${results.machine.speedAtStart.loopbackRoundTripUs} µs`,
  );
  const watchdog = setTimeout(
    () => {
      console.error(`bench: over ${(opts.quick ? DEADLINE_MS.quick : DEADLINE_MS.full) / 60_000} minutes; stopping`);
      // What was measured so far is still written, marked as cut short.
      results.finishedAt = `${new Date().toISOString()} (cut short by the ${(opts.quick ? DEADLINE_MS.quick : DEADLINE_MS.full) / 60_000}-minute bound)`;
      writeResults(results);
      void cleanUp().finally(() => process.exit(1));
    },
    opts.quick ? DEADLINE_MS.quick : DEADLINE_MS.full,
  );
  watchdog.unref();

  let kb: KbDatabase | undefined;
  const kbDatabase = () => {
    if (!kb) {
      const created = KbDatabase.create();
      cleanups.push(() => created.drop());
      kb = created;
    }
    return kb;
  };
  const fleet = await ClientFleet.start(opts.clientHosts);
  cleanups.push(() => fleet.stop());
  let failed = false;
  for (const name of opts.targets) {
    if (aborted) break;
    log(`${name}: starting`);
    let target: Target | undefined;
    try {
      target = await startTarget(name, opts, kbDatabase);
      const stop = target.stop.bind(target);
      cleanups.push(stop);
      if (aborted) throw new Error('interrupted');
      results.targets[name] = await benchTarget(target, fleet, opts);
    } catch (err) {
      failed = true;
      console.error(`${name}:`, err);
      results.targets[name] = { description: target?.description ?? name, relay: [], error: String((err as Error).message ?? err) };
    } finally {
      await fleet.disconnect().catch(() => undefined);
      if (target) {
        log(`${name}: stopping`);
        const undo = cleanups.pop();
        await undo?.().catch((err) => console.error(`${name}: stop failed`, err));
      }
    }
  }
  results.finishedAt = new Date().toISOString();
  if (!aborted) results.machine.speedAtEnd = await probeSpeed();
  if (aborted) {
    process.exitCode = 130;
    return;
  }
  writeResults(results);
  log(`done in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (failed) process.exitCode = 1;
}

/**
 * Ctrl-C: the bench's own helper processes are killed at once, which fails the window in
 * progress; the main loop then stops the target it started (a cluster being started is
 * stopped as soon as it is up) and exits. A second Ctrl-C, or 60 s, forces the exit.
 */
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (aborted) {
      killAllChildren();
      process.exit(130);
    }
    aborted = true;
    console.error(`bench: ${signal}; stopping everything it started`);
    killAllChildren();
    setTimeout(() => void cleanUp().finally(() => process.exit(130)), 60_000).unref();
  });
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void cleanUp().finally(() => process.exit()));
