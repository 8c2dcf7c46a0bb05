import type { ProduceRequest, ProduceResult, ProducerInit } from '../agents/relay-producer';
import { benchScript } from '../lib/bench-paths';
import { BenchChild } from '../lib/ipc';
import type { ProduceOutcome } from './target';

/**
 * Relay producer processes for one set of users: the users are split among them (each
 * user always published by the same producer, so one user's events keep their order), and
 * so is every rate.
 */
export class ProducerPool {
  private constructor(private readonly children: BenchChild[]) {}

  static async start(init: Omit<ProducerInit, 'users'>, users: string[], opts: { producers: number }): Promise<ProducerPool> {
    const children: BenchChild[] = [];
    try {
      for (let i = 0; i < opts.producers; i++) {
        const child = new BenchChild(`producer-${i}`, benchScript('bench/agents/relay-producer.js'));
        children.push(child);
        await child.call('init', { ...init, users: users.filter((_, u) => u % opts.producers === i) } satisfies ProducerInit, 30_000);
      }
    } catch (err) {
      await Promise.all(children.map((c) => c.stop()));
      throw err;
    }
    return new ProducerPool(children);
  }

  get pids() {
    return this.children.map((c) => ({ name: c.name, pid: c.pid }));
  }

  async produce(rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    const results = await Promise.all(
      this.children.map((c) =>
        c.call<ProduceResult>(
          'produce',
          { rate: rate / this.children.length, durationMs, tag } satisfies ProduceRequest,
          durationMs + 30_000,
        ),
      ),
    );
    return results.reduce((a, r) => ({ sent: a.sent + r.sent, delivered: a.delivered + r.delivered, failed: a.failed + r.failed }), {
      sent: 0,
      delivered: 0,
      failed: 0,
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
  }
}
