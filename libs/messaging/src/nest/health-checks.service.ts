import { Inject, Injectable, Optional, ServiceUnavailableException } from '@nestjs/common';
import { type HealthCheckResult, HealthCheckService, type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { Logger } from '@herald/observability';
import { withTimeout } from '../timeout';
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
 * their dependency's probe; `/health/ready` runs them all as Terminus health indicators, each
 * bounded in time, and answers in Herald's own shape (`status` and `checks`, which the probes
 * of deploy/ and the docs read) rather than Terminus's `info`/`error`/`details`.
 */
@Injectable()
export class HealthChecks {
  private readonly probes = new Map<string, () => Promise<unknown>>();
  private draining = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
  ) {}

  register(name: string, probe: () => Promise<unknown>): void {
    this.probes.set(name, probe);
  }

  /**
   * From now on the service is going away: ready answers `draining`. Called as modules stop
   * (onModuleDestroy), before Terminus's own shutdown hook would say `shutting_down`.
   */
  drain(): void {
    this.draining = true;
  }

  async check(): Promise<Readiness> {
    const result = await this.health
      .check(
        [...this.probes].map(
          ([name, probe]) =>
            () =>
              this.run(name, probe),
        ),
      )
      // Terminus answers anything but `ok` with a 503 exception carrying the same result.
      .catch((err: unknown) => {
        if (err instanceof ServiceUnavailableException) return err.getResponse() as HealthCheckResult;
        throw err;
      });
    const checks = Object.fromEntries(
      Object.entries(result.details).map(([name, detail]) => [
        name,
        detail.status === 'up' ? { ok: true, latencyMs: detail.latencyMs as number } : { ok: false },
      ]),
    );
    const status = this.draining || result.status === 'shutting_down' ? 'draining' : result.status === 'ok' ? 'ready' : 'unavailable';
    return { status, checks };
  }

  private async run(name: string, probe: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(name);
    const started = performance.now();
    try {
      await withTimeout(probe(), CHECK_TIMEOUT_MS, name);
      return indicator.up({ latencyMs: Math.round(performance.now() - started) });
    } catch (err) {
      this.logger?.warn({ dependency: name, err: err instanceof Error ? err.message : String(err) }, `readiness: ${name} is down`);
      return indicator.down();
    }
  }
}
