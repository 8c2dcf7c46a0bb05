import { PERSISTENCE_RPC } from '@herald/contracts';
import { NATS, PersistenceClient, REDIS, type Redis } from '@herald/messaging';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { withTimeout } from '../core/with-timeout';

const CHECK_TIMEOUT_MS = 1500;

export interface DependencyCheck {
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

export interface Readiness {
  status: 'ready' | 'unavailable' | 'draining';
  checks: { nats: DependencyCheck; redis: DependencyCheck; postgres: DependencyCheck };
}

/** Can this instance serve? NATS, Redis and (through persistence) Postgres, each bounded in time. */
@Injectable()
export class ReadinessService implements OnModuleDestroy {
  private draining = false;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly persistence: PersistenceClient,
  ) {}

  onModuleDestroy(): void {
    this.draining = true;
  }

  async check(): Promise<Readiness> {
    const [nats, redis, postgres] = await Promise.all([
      probe('nats', () => (this.nc.isClosed() ? Promise.reject(new Error('closed')) : this.nc.flush())),
      probe('redis', () => this.redis.ping()),
      probe('postgres', () => this.persistence.call(PERSISTENCE_RPC.ping, {}, CHECK_TIMEOUT_MS)),
    ]);
    const ok = nats.ok && redis.ok && postgres.ok;
    return { status: this.draining ? 'draining' : ok ? 'ready' : 'unavailable', checks: { nats, redis, postgres } };
  }
}

async function probe(what: string, fn: () => Promise<unknown>): Promise<DependencyCheck> {
  const started = performance.now();
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS, what);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
