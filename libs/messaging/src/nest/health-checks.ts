import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from '@herald/observability';
import { LOGGER } from './tokens';

/** What `/health/ready` says of one dependency: up or down, never why (the log says why). */
export interface DependencyCheck {
  ok: boolean;
  latencyMs?: number;
}

export interface Readiness {
  status: 'ready' | 'unavailable' | 'draining';
  checks: Record<string, DependencyCheck>;
}

const CHECK_TIMEOUT_MS = 1500;

/**
 * What a service needs to be ready, by name (nats, redis, postgres, …). Modules register
 * their dependency's probe; `/health/ready` runs them all, each bounded in time.
 */
@Injectable()
export class HealthChecks {
  private readonly probes = new Map<string, () => Promise<unknown>>();
  private draining = false;

  constructor(@Optional() @Inject(LOGGER) private readonly logger?: Logger) {}

  register(name: string, probe: () => Promise<unknown>): void {
    this.probes.set(name, probe);
  }

  /** From now on the service is going away: ready answers `draining`. */
  drain(): void {
    this.draining = true;
  }

  async check(): Promise<Readiness> {
    const entries = await Promise.all(
      [...this.probes].map(async ([name, probe]) => {
        const { check, error } = await run(probe);
        if (error) this.logger?.warn({ dependency: name, err: error }, `readiness: ${name} is down`);
        return [name, check] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, c]) => c.ok);
    return { status: this.draining ? 'draining' : ok ? 'ready' : 'unavailable', checks };
  }
}

async function run(probe: () => Promise<unknown>): Promise<{ check: DependencyCheck; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { check: { ok: true, latencyMs: Math.round(performance.now() - started) } };
  } catch (err) {
    return { check: { ok: false }, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
