/**
 * One process publishing acknowledged events to a JetStream stream, two ways: nats.js's
 * `js.publish` and Herald's JetStreamPublisher (libs/messaging), same messages, same
 * headers, `--in-flight` publishes outstanding at a time. Prints publishes per second and
 * CPU µs per publish of this process (median of three runs after a warm-up).
 *
 *   npx tsc -b bench && node bench/dist/bench/publish-micro.js [--count 30000] [--in-flight 500]
 */
import { randomBytes } from 'node:crypto';
import { JetStreamPublisher } from '@herald/messaging';
import { connect, headers, type MsgHdrs, nanos } from 'nats';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const COUNT = arg('count', 30_000);
const IN_FLIGHT = arg('in-flight', 500);

async function measure(publish: (i: number) => Promise<unknown>): Promise<{ perSecond: number; cpuMicros: number }> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  const lane = async () => {
    while (next < COUNT) await publish(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { perSecond: COUNT / seconds, cpuMicros: (used.user + used.system) / COUNT };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  const jsm = await nc.jetstreamManager();
  const tag = `pubmicro${randomBytes(4).toString('hex')}`;
  await jsm.streams.add({ name: tag.toUpperCase(), subjects: [`${tag}.>`], duplicate_window: nanos(120_000) });
  try {
    const payload = new TextEncoder().encode(
      JSON.stringify({ type: 'message_delta', ts: new Date().toISOString(), progress: 0.5, data: { delta: 'x'.repeat(200) } }),
    );
    const headersOf = (): MsgHdrs => {
      const h = headers();
      h.set('Herald-User', 'u1');
      h.set('traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
      return h;
    };
    const js = nc.jetstream();
    const herald = new JetStreamPublisher(nc);
    let run = 0;
    const ways: Record<string, (i: number) => Promise<unknown>> = {
      'js.publish': (i) => js.publish(`${tag}.e`, payload, { msgID: `${run}:${i}`, headers: headersOf(), timeout: 5000 }),
      JetStreamPublisher: (i) => herald.publish(`${tag}.e`, payload, { msgId: `${run}:${i}`, headers: headersOf(), timeoutMs: 5000 }),
    };
    console.log(`${COUNT} acknowledged publishes, ${IN_FLIGHT} in flight, Node ${process.version}`);
    console.log('| way | publishes/s | CPU µs per publish |\n|---|---|---|');
    for (const [name, publish] of Object.entries(ways)) {
      run++;
      await measure(publish); // warm-up
      const results = [];
      for (let r = 0; r < 3; r++) {
        run++;
        results.push(await measure(publish));
      }
      console.log(
        `| ${name} | ${Math.round(median(results.map((x) => x.perSecond)))} | ${median(results.map((x) => x.cpuMicros)).toFixed(1)} |`,
      );
    }
  } finally {
    await jsm.streams.delete(tag.toUpperCase()).catch(() => undefined);
    await nc.close();
  }
}

void main();
