import type { ProducerInit } from '../agents/relay-producer';
import { ProducerPool } from './producer-pool';
import type { ProduceOutcome } from './target';

/** The producer pool of the current set of users, started again when the users change. */
export class RelayProducers {
  private pool?: ProducerPool;
  private users: string[] = [];

  constructor(
    private readonly init: Omit<ProducerInit, 'users'>,
    private readonly producers: number,
  ) {}

  get pids() {
    return this.pool?.pids ?? [];
  }

  async produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    if (!this.pool || users.length !== this.users.length || users.some((u, i) => u !== this.users[i])) {
      await this.pool?.stop();
      this.pool = undefined;
      this.pool = await ProducerPool.start(this.init, users, { producers: this.producers });
      this.users = users;
    }
    return this.pool.produce(rate, durationMs, tag);
  }

  async stop(): Promise<void> {
    await this.pool?.stop();
    this.pool = undefined;
  }
}
