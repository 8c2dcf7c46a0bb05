import { benchScript } from '../lib/bench-paths';
import type { ClientFleet } from '../lib/client-fleet';
import { fmt } from '../lib/histogram';
import { BenchChild } from '../lib/ipc';
import type { BenchOptions } from '../lib/options';
import { sleep, waitFor } from '../lib/pacer';
import type { Target } from '../targets/target';

export interface CrashResult {
  users: number;
  rate: number;
  seconds: number;
  /** The server SIGKILLed, and when (ms after the first event was sent). */
  killed: string;
  killedAtMs: number;
  /** Events the system took in (Herald: JetStream-acknowledged; the peer: emitted). */
  expected: number;
  /** Distinct events the clients delivered once everything settled (Herald's clients after their resume). */
  received: number;
  lost: number;
  /** Disconnections the clients saw (those of the killed server, and any second drop). */
  dropped: number;
  /** Clients not online at the end (still reconnecting or resuming). */
  notOnline: number;
  /** The Socket.IO peer: reconnections whose session was recovered (connection state recovery), and those that got a new one. */
  reconnections?: { recovered: number; fresh: number };
  /** Seconds after the last send until every event had arrived (NaN: not within the bound). */
  settleSeconds: number;
}

/** How long the clients get, after the last send, to reconnect, resume and receive the rest. */
const SETTLE_BOUND_MS = 60_000;
let crashes = 0;

/**
 * The crash case: the users connect through a balancer (bench/agents/balancer.ts) in front
 * of the target's two servers; events flow at `crashRate` for `crashMs`; 40 % of the way in,
 * one server is SIGKILLed. Its clients reconnect through the balancer to the other one
 * (Herald's client then resumes from its last event id; the Socket.IO peer's asks for
 * connection state recovery). What never arrives is lost. Stops the target's server: last.
 */
export async function runCrash(
  target: Target,
  fleet: ClientFleet,
  users: string[],
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<CrashResult> {
  if (!target.killOne) throw new Error(`${target.name} has no crash case`);
  const balancer = new BenchChild('balancer', benchScript('bench/agents/balancer.js'));
  try {
    const backends = target.urls.map((u) => ({ host: new URL(u).hostname, port: Number(new URL(u).port) }));
    const { port } = await balancer.call<{ port: number }>('start', { backends });
    await fleet.disconnect();
    log(`crash: connecting ${users.length} users through a balancer over ${backends.length} servers…`);
    await fleet.connect(users, [`http://127.0.0.1:${port}`], target.clientResume);
    const tag = `crash${++crashes}`;
    await fleet.relayWindow(tag);
    const startedAt = Date.now();
    const producing = target.produce(users, opts.crashRate, opts.crashMs, tag);
    await sleep(opts.crashMs * 0.4);
    const killedAtMs = Date.now() - startedAt;
    const killed = await target.killOne();
    log(`crash: ${killed} SIGKILLed ${killedAtMs} ms in, at ${opts.crashRate} events/s`);
    const outcome = await producing;
    const sentAt = Date.now();
    const settled = await waitFor(async () => (await fleet.relayStats()).received >= outcome.delivered, SETTLE_BOUND_MS, 100);
    const settleSeconds = settled ? (Date.now() - sentAt) / 1000 : NaN;
    const stats = await fleet.relayStats();
    const result: CrashResult = {
      users: users.length,
      rate: opts.crashRate,
      seconds: opts.crashMs / 1000,
      killed,
      killedAtMs,
      expected: outcome.delivered,
      received: stats.received,
      lost: Math.max(0, outcome.delivered - stats.received),
      dropped: stats.dropped,
      notOnline: stats.notOnline,
      settleSeconds,
      reconnections: await target.reconnections?.(),
    };
    log(
      `crash: ${result.received}/${result.expected} delivered, ${result.lost} lost; ${result.dropped} disconnections, ${result.notOnline} clients not online at the end${result.reconnections ? ` (sessions recovered ${result.reconnections.recovered}, new ${result.reconnections.fresh})` : ''}; ` +
        `${settled ? `all in ${fmt(settleSeconds, 1)} s after the last send` : `still missing after ${SETTLE_BOUND_MS / 1000} s`}`,
    );
    return result;
  } finally {
    await fleet.disconnect().catch(() => undefined);
    await balancer.stop();
  }
}
