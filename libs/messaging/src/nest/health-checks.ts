import { Injectable } from '@nestjs/common';

export interface DependencyCheck {
  ok: boolean;
  latencyMs?: number;
  error?: string;
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

  register(name: string, probe: () => Promise<unknown>): void {
    this.probes.set(name, probe);
  }

  /** From now on the service is going away: ready answers `draining`. */
  drain(): void {
    this.draining = true;
  }

  async check(): Promise<Readiness> {
    const entries = await Promise.all([...this.probes].map(async ([name, probe]) => [name, await run(probe)] as const));
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, c]) => c.ok);
    return { status: this.draining ? 'draining' : ok ? 'ready' : 'unavailable', checks };
  }
}

async function run(probe: () => Promise<unknown>): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
