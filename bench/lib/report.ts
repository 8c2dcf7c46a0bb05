import type { CrashResult } from '../workloads/crash.workload';
import type { MemoryResult } from '../workloads/memory.workload';
import type { RatesResult, RatesWindow } from '../workloads/rates.workload';
import type { RelayResult } from '../workloads/relay.workload';
import type { RunsResult } from '../workloads/runs.workload';
import type { TargetName } from '../targets/target';
import { fmt, type LatencySummary } from './histogram';
import { describeMachine, type MachineInfo } from './machine';
import type { BenchOptions } from './options';

export interface TargetResults {
  description: string;
  memory?: MemoryResult;
  relay: RelayResult[];
  runs?: RunsResult;
  rates?: RatesResult;
  crash?: CrashResult;
  error?: string;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo;
  options: BenchOptions;
  targets: Partial<Record<TargetName, TargetResults>>;
}

const NAMES: Record<TargetName, string> = {
  herald: 'Herald',
  direct: 'direct (1)',
  bare: 'bare relay (2)',
  langgraph: 'LangGraph server (3)',
  socketio: 'Socket.IO + Redis Streams (4)',
};

const ratio = (a: number | undefined, b: number | undefined) => (a && b && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–');
const lat = (s?: LatencySummary) => (s ? `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)} / ${fmt(s.max)}` : '–');
const check = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? 'met' : '**missed**');

/** Herald's CPU per run without the gateways' cost of relaying the run's events (estimated from the relay workload). */
function cpuPerRunWithoutRelay(results: BenchResults): { total: number; withoutRelay: number } | undefined {
  const herald = results.targets.herald;
  const half = herald?.runs?.half;
  if (!half) return undefined;
  const total = Object.values(half.cpuMsPerRunNetOfIdle ?? half.cpuMsPerRun).reduce((a, b) => a + b, 0);
  const relayHalf = herald.relay.find((x) => x.half)?.half;
  if (!relayHalf) return { total, withoutRelay: NaN };
  const gatewayMicrosPerEvent = Object.entries(relayHalf.cpuMicrosPerEvent)
    .filter(([name]) => name.startsWith('gateway'))
    .reduce((a, [, v]) => a + v, 0);
  return { total, withoutRelay: total - (gatewayMicrosPerEvent * half.eventsPerRun) / 1000 };
}

/** The relay populations of a run: those of the first system that measured any (a system that failed has none). */
function relayPopulations(r: BenchResults): RelayResult[] {
  const t = r.targets;
  return [t.herald, t.direct, t.bare, t.socketio].find((x) => x?.relay.length)?.relay ?? [];
}

/** The RESULTS.md section of a run. */
export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const t = r.targets;
  out.push(`## Side-by-side benchmark, ${r.startedAt}${r.options.quick ? ' (quick)' : ''}`, '');
  out.push(`Command: \`${r.command}\` on ${describeMachine(r.machine)}; finished ${r.finishedAt}.`);
  out.push(
    `Everything on this one machine: NATS, Postgres, Redis, the systems under test, and the load generator ` +
      `(${r.options.clientHosts} client-host processes of libs/client HeraldClients; ${r.options.producers} relay producer processes). ` +
      `Open loop. A step passes when every event arrives and p99 < ${r.options.p99LimitMs} ms (runs: every run completes, and the p99 of ` +
      `both time to \`orchestration_started\` and relay latency are under it); a failed step is retried ${r.options.confirmations} times and passes on a majority. ` +
      `Latencies at half of each system's own highest passing rate, median of ${r.options.repeats} runs after a warm-up, in ms as p50 / p95 / p99 / max. ` +
      `Relay latency is event \`ts\` to client receipt (1 ms resolution). Steps last ${r.options.stepMs / 1000} s.`,
    '',
  );
  out.push(
    'Systems: **Herald** (2 gateways, orchestrator, worker, persistence as real processes; relay events published by producer processes with the EventPublisher to JetStream, as the worker does); ' +
      '**direct (1)**, one Socket.IO process running the same agents in-process and emitting the same events; ' +
      "**bare relay (2)**, producer processes → core NATS → one Node process that parses and emits to the user's room.",
    '',
  );

  for (const [i, res] of relayPopulations(r).entries()) {
    out.push(`### Relay, ${res.users} connected users`, '');
    out.push('| system | highest passing rate (events/s) | delivered events/s | vs direct | vs bare | half rate | relay latency ms |');
    out.push('|---|---|---|---|---|---|---|');
    for (const name of ['herald', 'direct', 'bare', 'socketio'] as const) {
      const x = t[name]?.relay.find((y) => y.users === res.users);
      if (!x) continue;
      out.push(
        `| ${NAMES[name]} | ${x.maxRate} | ${Math.round(x.maxDeliveredPerSecond)} | ${ratio(x.maxDeliveredPerSecond, t.direct?.relay[i]?.maxDeliveredPerSecond)} | ` +
          `${ratio(x.maxDeliveredPerSecond, t.bare?.relay[i]?.maxDeliveredPerSecond)} | ${x.half?.rate ?? '–'} | ${lat(x.half?.relay)} |`,
      );
    }
    const common = commonStepCpu(r, i);
    if (common)
      out.push(
        '',
        `CPU µs per delivered event at ${common.rate} events/s, the highest step every system ran (load generator excluded): ${common.lines.join('; ')}.`,
      );
    const hp = t.herald?.relay[i];
    if (hp?.half?.persistence || hp?.persistenceAtMax) {
      const p = hp.half?.persistence;
      out.push(
        '',
        `Persistence (Herald's event log) at the half rate (${hp.half?.rate}/s): ${fmt(p?.rowsPerSecondDuringSend ?? NaN, 0)} rows/s while sending, ` +
          `every row stored ${fmt(p?.catchUpSeconds ?? NaN, 2)} s after the last send (${fmt(p?.rowsPerSecondToCatchUp ?? NaN, 0)} rows/s overall); ` +
          `at the highest passing step (${hp.maxRate}/s): ${fmt(hp.persistenceAtMax?.rowsPerSecondDuringSend ?? NaN, 0)} rows/s while sending.`,
      );
    }
    if (hp?.backlogDrain) {
      const d = hp.backlogDrain;
      out.push(
        '',
        `Persistence draining a backlog of ${d.backlog} events (stopped while they were published, then started) while the relay ran at the half rate: ` +
          `${fmt(d.rowsPerSecond, 0)} rows/s over ${fmt(d.seconds, 1)} s; the relay meanwhile: ${d.relayWindows} windows, p99 ${fmt(d.relay.p99)} ms, ${d.relayPassed ? 'every window passed' : 'a window failed'}.`,
      );
    }
    if (hp?.half) {
      const cpu = Object.entries(hp.half.cpuMicrosPerEvent)
        .filter(([, v]) => v > 0.05)
        .map(([n, v]) => `${n} ${fmt(v)}`)
        .join(', ');
      out.push('', `Herald CPU µs per delivered event at the half rate: ${cpu}.`);
    }
    out.push('');
  }

  if (t.herald?.runs || t.direct?.runs) {
    out.push('### Runs (chat:send at a fixed rate, whole pipeline, streamed answers)', '');
    out.push(
      '| system | highest passing rate (runs/s) | vs direct | half rate | ack ms | to orchestration_started ms | to terminal event ms | relay ms | events/run | CPU ms/run |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const name of ['herald', 'direct'] as const) {
      const x = t[name]?.runs;
      if (!x) continue;
      const cpu = x.half ? Object.values(x.half.cpuMsPerRun).reduce((a, b) => a + b, 0) : NaN;
      out.push(
        `| ${NAMES[name]} | ${x.maxRate} | ${ratio(x.maxRunsPerSecond, t.direct?.runs?.maxRunsPerSecond)} | ${x.half?.rate ?? '–'} | ${lat(x.half?.ack)} | ` +
          `${lat(x.half?.started)} | ${lat(x.half?.terminal)} | ${lat(x.half?.relay)} | ${fmt(x.half?.eventsPerRun ?? NaN)} | ${fmt(cpu, 2)} |`,
      );
    }
    const hr = t.herald?.runs?.half;
    if (hr) {
      const by = (m: Record<string, number> | undefined) =>
        Object.entries(m ?? {})
          .map(([n, v]) => `${n} ${fmt(v, 2)}`)
          .join(', ');
      out.push('', `Herald CPU ms per run by service at the half rate: ${by(hr.cpuMsPerRun)}.`);
      out.push(
        `Less what each service spends idle (${by(t.herald?.runs?.idleCpuMsPerSecond)} ms per second) over the window: ${by(hr.cpuMsPerRunNetOfIdle)}.`,
      );
      const split = cpuPerRunWithoutRelay(r);
      if (split)
        out.push(
          `Sum, net of idle: ${fmt(split.total, 2)} ms; without the gateways' relay of the run's events (their µs per event × events per run): ${fmt(split.withoutRelay, 2)} ms.`,
        );
    }
    out.push('');
  }

  if (t.herald?.memory || t.direct?.memory || t.bare?.memory) {
    out.push('### Memory per idle connection', '');
    out.push('| system | process | connections | RSS before → after (MiB) | KiB per connection | vs direct |');
    out.push('|---|---|---|---|---|---|');
    for (const name of ['herald', 'direct', 'bare'] as const) {
      const m = t[name]?.memory;
      if (!m) continue;
      out.push(
        `| ${NAMES[name]} | ${m.process} | ${m.connections} | ${fmt(m.rssBeforeMiB, 0)} → ${fmt(m.rssAfterMiB, 0)} | ${fmt(m.bytesPerConnection / 1024)} | ${ratio(m.bytesPerConnection, t.direct?.memory?.bytesPerConnection)} |`,
      );
    }
    out.push('');
  }

  const h = t.herald;
  if (h) {
    const split = cpuPerRunWithoutRelay(r);
    // The event log's sustained rate: a backlog drained while the relay kept passing, else the
    // rate it kept up with at the relay's highest passing step.
    const drains = h.relay.map((x) => x.backlogDrain).filter((d) => d?.relayPassed && Number.isFinite(d.rowsPerSecond));
    const persistence = drains.length
      ? Math.min(...drains.map((d) => d!.rowsPerSecond))
      : h.relay.reduce((a, x) => Math.max(a, x.persistenceAtMax?.rowsPerSecondDuringSend ?? 0), 0);
    out.push('### Issue 6 targets (Herald)', '');
    out.push('| target | measured | |', '|---|---|---|');
    for (const [i, x] of h.relay.entries()) {
      const direct = t.direct?.relay[i]?.maxDeliveredPerSecond;
      const known = Boolean(direct && x.maxDeliveredPerSecond);
      out.push(
        `| relay ≥ 0.5 of direct (${x.users} users) | ${ratio(x.maxDeliveredPerSecond, direct)} | ${known ? check(x.maxDeliveredPerSecond >= 0.5 * direct!) : '–'} |`,
      );
    }
    for (const x of h.relay)
      out.push(
        `| relay p99 < 10 ms at half rate (${x.users} users) | ${fmt(x.half?.relay.p99 ?? NaN)} ms | ${x.half ? check(x.half.relay.p99 < 10) : '–'} |`,
      );
    if (h.runs?.half)
      out.push(
        `| orchestration_started p99 < 25 ms at half rate | ${fmt(h.runs.half.started.p99)} ms | ${check(h.runs.half.started.p99 < 25)} |`,
      );
    if (split)
      out.push(
        `| ≤ 2 ms CPU per run, relay excluded | ${fmt(split.withoutRelay, 2)} ms | ${Number.isFinite(split.withoutRelay) ? check(split.withoutRelay <= 2) : '–'} |`,
      );
    if (h.memory)
      out.push(
        `| < 20 KB per idle connection | ${fmt(h.memory.bytesPerConnection / 1000)} KB | ${check(h.memory.bytesPerConnection < 20_000)} |`,
      );
    if (h.relay.length)
      out.push(
        `| ≥ 20,000 events/s into Postgres while the relay passes | ${fmt(persistence, 0)} rows/s | ${check(persistence >= 20_000)} |`,
      );
    out.push('');
  }

  out.push(...renderPeers(r));

  out.push('<details><summary>Steps</summary>', '');
  for (const [name, x] of Object.entries(t)) {
    if (x?.error) out.push(`- ${name}: **error** ${x.error}`);
    for (const rl of x?.relay ?? [])
      out.push(
        `- ${name} relay ${rl.users} users: ${rl.steps.map((s) => `${s.rate} ${s.pass ? '✓' : '✗'}(p99 ${s.attempts.map((a) => `${fmt(a.relay.p99, 0)}${a.received < a.expected ? ` lost ${a.expected - a.received}` : ''}`).join(',')})`).join(' ')}`,
      );
    for (const w of x?.rates?.windows ?? [])
      out.push(
        `- ${name} runs at ${w.rate}/s: completed ${w.completed}/${w.sent}${Object.keys(w.refused).length ? ` refused ${JSON.stringify(w.refused)}` : ''}${Object.keys(w.otherTerminal).length ? ` other ${JSON.stringify(w.otherTerminal)}` : ''}, ` +
          `first event ${lat(w.firstEvent)}, terminal ${lat(w.terminal)} ms, ${fmt(w.eventsPerRun)} events/run, load generator ${fmt(w.loadCpuMsPerRun, 1)} ms/run`,
      );
    if (x?.runs)
      out.push(
        `- ${name} runs: ${x.runs.steps.map((s) => `${s.rate} ${s.pass ? '✓' : '✗'}(started p99 ${s.attempts.map((a) => `${fmt(a.started.p99, 0)}${a.completed < a.sent ? ` done ${a.completed}/${a.sent}` : ''}`).join(',')})`).join(' ')}`,
      );
  }
  out.push('', '</details>', '');
  return out.join('\n');
}

/** The processes of the load generator, left out of a system's CPU. */
const isLoadGenerator = (name: string) => name.startsWith('client-host') || name.startsWith('producer');
/** The shared infrastructure's processes (reported on their own, not in the services' figures). */
const isInfrastructure = (name: string) => ['nats-server', 'redis-server', 'postgres'].includes(name);

/** CPU per delivered event of every system at the highest relay step they all ran (population `i`). */
function commonStepCpu(r: BenchResults, i: number): { rate: number; lines: string[] } | undefined {
  const users = relayPopulations(r)[i]?.users;
  const relayOf = (n: TargetName) => r.targets[n]?.relay.find((x) => x.users === users);
  const systems = (['herald', 'direct', 'bare', 'socketio'] as const).filter((n) => relayOf(n));
  if (systems.length < 2) return undefined;
  const rates = systems.map((n) => new Set(relayOf(n)!.steps.map((s) => s.rate)));
  const rate = Math.max(...[...rates[0]].filter((x) => rates.every((set) => set.has(x))));
  if (!Number.isFinite(rate)) return undefined;
  const lines = systems.map((n) => {
    const attempt = relayOf(n)!.steps.find((s) => s.rate === rate)!.attempts[0];
    const parts = Object.entries(attempt.cpu ?? {})
      .filter(([name]) => !isLoadGenerator(name) && !isInfrastructure(name))
      .map(([name, s]) => [name, (s * 1e6) / Math.max(1, attempt.received)] as const);
    const total = parts.reduce((a, [, v]) => a + v, 0);
    const detail = parts.length > 1 ? ` (${parts.map(([name, v]) => `${name} ${fmt(v, 0)}`).join(', ')})` : '';
    return `${NAMES[n]} ${fmt(total, 0)}${detail}`;
  });
  return { rate, lines };
}

const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
const byProcess = (m: Record<string, number>, digits = 1) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([n, v]) => `${n} ${fmt(v, digits)}`)
    .join(', ');

/** Issue 12: Herald beside the LangGraph Agent Server (runs) and Socket.IO with Redis Streams (relay, crash). */
function renderPeers(r: BenchResults): string[] {
  const t = r.targets;
  const out: string[] = [];
  const h = t.herald;
  const lg = t.langgraph;
  const sio = t.socketio;
  if (!h?.rates && !lg?.rates && !h?.crash && !sio) return out;
  out.push('### Side by side with the peers (issue 12)', '');
  out.push(
    'Peers: **LangGraph server (3)**, the LangGraph JS Agent Server (`@langchain/langgraph-api`, in memory, in one process, 10 run workers, tracing off, loopback) ' +
      'running the same agents as a three-node graph (triage → knowledge with its one tool call → reporting with the streamed answer) that writes the same events to the `custom` stream mode, ' +
      'driven by `@langchain/langgraph-sdk` clients (`runs.stream`, resumable; `runs.joinStream` from the last event id if a stream breaks); ' +
      '**Socket.IO + Redis Streams (4)**, two Socket.IO 4.8 servers with `@socket.io/redis-streams-adapter` (its defaults) and `connectionStateRecovery`, ' +
      "the same clients spread over them as over Herald's two gateways, producer processes emitting the same events to the users' rooms through the adapter. " +
      'CPU per run counts every process each system needs, net of what each spends idle (measured for 5 s before): Herald its services, nats-server, redis-server and Postgres ' +
      "(the server's own processes and the backends of Herald's database); the LangGraph server its process and Postgres (the knowledge base's backends and the server's processes). " +
      'nats-server, redis-server and the Postgres server processes are shared with everything else on the machine: their figures include what others did meanwhile.',
    '',
  );
  const rates = [...new Set([...(h?.rates?.windows ?? []), ...(lg?.rates?.windows ?? [])].map((w) => w.rate))].sort((a, b) => a - b);
  if (rates.length) {
    out.push('| | Herald | LangGraph server (3) | Herald ÷ LangGraph |', '|---|---|---|---|');
    for (const rate of rates) {
      const hw = h?.rates?.windows.find((w) => w.rate === rate);
      const lw = lg?.rates?.windows.find((w) => w.rate === rate);
      const cpu = (w?: RatesWindow) => (w ? `${fmt(w.totalCpuMsPerRun, 1)} ms (${byProcess(w.cpuMsPerRunNetOfIdle)})` : '–');
      const first = (w?: RatesWindow) => (w ? `${fmt(w.firstEvent.p50)} / ${fmt(w.firstEvent.p99)} ms` : '–');
      const done = (w?: RatesWindow) => (w ? `${w.completed}/${w.sent}` : '–');
      out.push(
        `| CPU per run at ${rate} runs/s, every process, net of idle | ${cpu(hw)} | ${cpu(lw)} | ${ratio(hw?.totalCpuMsPerRun, lw?.totalCpuMsPerRun)} |`,
      );
      out.push(
        `| time to first event at ${rate} runs/s, p50 / p99 | ${first(hw)} | ${first(lw)} | ${ratio(hw?.firstEvent.p99, lw?.firstEvent.p99)} (p99) |`,
      );
      out.push(`| runs completed at ${rate} runs/s | ${done(hw)} | ${done(lw)} | |`);
    }
    const idle = (x?: TargetResults) => (x?.rates ? byProcess(x.rates.idleCpuMsPerSecond) : '–');
    out.push(`| idle CPU ms per second (subtracted) | ${idle(h)} | ${idle(lg)} | |`);
    out.push('');
  }
  const hr = h?.relay.find((x) => sio?.relay.some((y) => y.users === x.users));
  const sr = sio?.relay.find((y) => y.users === hr?.users) ?? sio?.relay[0];
  if (sr || h?.crash || sio?.crash) {
    out.push('| | Herald | Socket.IO + Redis Streams (4) | Herald ÷ Socket.IO |', '|---|---|---|---|');
    if (sr) {
      out.push(
        `| relay, ${sr.users} users: highest passing events/s | ${hr?.maxRate ?? '–'} | ${sr.maxRate} | ${ratio(hr?.maxDeliveredPerSecond, sr.maxDeliveredPerSecond)} |`,
      );
      out.push(
        `| relay latency at half rate, p50 / p99 ms | ${hr?.half ? `${fmt(hr.half.relay.p50)} / ${fmt(hr.half.relay.p99)} at ${hr.half.rate}/s` : '–'} | ` +
          `${sr.half ? `${fmt(sr.half.relay.p50)} / ${fmt(sr.half.relay.p99)} at ${sr.half.rate}/s` : '–'} | |`,
      );
      const cpu = (x?: RelayResult) =>
        x?.half ? `${fmt(sum(x.half.cpuMicrosPerEvent), 0)} (${byProcess(x.half.cpuMicrosPerEvent, 0)})` : '–';
      out.push(`| CPU µs per delivered event at half rate, the system's own processes | ${cpu(hr)} | ${cpu(sr)} | |`);
      const infra = (x?: RelayResult) =>
        x?.half?.infraMicrosPerEventNetOfIdle
          ? `${fmt(sum(x.half.infraMicrosPerEventNetOfIdle), 0)} (${byProcess(x.half.infraMicrosPerEventNetOfIdle, 0)})`
          : '–';
      out.push(`| CPU µs per delivered event at half rate, the infrastructure it needs, net of idle | ${infra(hr)} | ${infra(sr)} | |`);
    }
    const crash = (c?: CrashResult) =>
      c
        ? `**${c.lost} lost** of ${c.expected} (${c.dropped} disconnections; ` +
          `${Number.isFinite(c.settleSeconds) ? `all in ${fmt(c.settleSeconds, 1)} s after the last send` : `missing after 60 s, ${c.notOnline} clients not online`}` +
          `${c.reconnections ? `; sessions recovered ${c.reconnections.recovered}, new ${c.reconnections.fresh}` : ''})`
        : '–';
    const c = h?.crash ?? sio?.crash;
    if (c)
      out.push(
        `| crash: one of two servers SIGKILLed ${fmt(c.killedAtMs / 1000, 1)} s into ${c.seconds} s at ${c.rate} events/s, ${c.users} users through a balancer | ${crash(h?.crash)} | ${crash(sio?.crash)} | |`,
      );
    out.push('');
  }
  // Issue 12's targets, ratios within this run.
  const rows: string[] = [];
  for (const rate of rates) {
    const hw = h?.rates?.windows.find((w) => w.rate === rate);
    const lw = lg?.rates?.windows.find((w) => w.rate === rate);
    if (!hw || !lw) continue;
    rows.push(
      `| CPU per run ≤ the LangGraph server's at ${rate} runs/s | ${ratio(hw.totalCpuMsPerRun, lw.totalCpuMsPerRun)} | ${check(hw.totalCpuMsPerRun <= lw.totalCpuMsPerRun)} |`,
      `| time to first event p99 ≤ ⅓ of the LangGraph server's at ${rate} runs/s | ${ratio(hw.firstEvent.p99, lw.firstEvent.p99)} | ${check(hw.firstEvent.p99 * 3 <= lw.firstEvent.p99)} |`,
    );
  }
  if (hr && sr) {
    rows.push(
      `| relay (${sr.users} users) ≥ the Socket.IO peer's | ${ratio(hr.maxDeliveredPerSecond, sr.maxDeliveredPerSecond)} | ${check(hr.maxDeliveredPerSecond >= sr.maxDeliveredPerSecond)} |`,
    );
    rows.push(
      `| relay p99 < 20 ms at half rate (${hr.users} users) | ${fmt(hr.half?.relay.p99 ?? NaN)} ms | ${hr.half ? check(hr.half.relay.p99 < 20) : '–'} |`,
    );
  }
  if (h?.crash) rows.push(`| 0 events lost when a gateway is SIGKILLed | ${h.crash.lost} | ${check(h.crash.lost === 0)} |`);
  if (h?.memory)
    rows.push(
      `| < 16 KiB per idle connection | ${fmt(h.memory.bytesPerConnection / 1024)} KiB | ${check(h.memory.bytesPerConnection < 16 * 1024)} |`,
    );
  if (rows.length) out.push('### Issue 12 targets (Herald)', '', '| target | measured | |', '|---|---|---|', ...rows, '');
  return out;
}
