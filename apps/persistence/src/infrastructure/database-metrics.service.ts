import { Injectable } from '@nestjs/common';
import { isDatabaseUnavailable } from '@herald/db';
import { ServiceMetrics } from '@herald/observability';
import { Counter } from 'prom-client';

/** What a database error was: the database could not be reached (or dropped the connection), or a statement failed. */
type DatabaseErrorKind = 'connection' | 'query';

function databaseErrorKind(err: unknown): DatabaseErrorKind {
  return isDatabaseUnavailable(err) ? 'connection' : 'query';
}

/**
 * Persistence's database errors, by operation (an RPC operation, `write_events` for the event
 * writer, `pool` for a pooled connection that broke while idle) and kind.
 */
@Injectable()
export class DatabaseMetrics {
  readonly errors: Counter<'operation' | 'kind'>;

  constructor(metrics: ServiceMetrics) {
    this.errors = new Counter({
      name: 'herald_db_errors_total',
      help: 'Database errors in persistence, by operation and kind (connection: unreachable or dropped; query: a statement failed)',
      labelNames: ['operation', 'kind'],
      registers: [metrics.registry],
    });
  }

  failed(operation: string, err: unknown): void {
    this.errors.inc({ operation, kind: databaseErrorKind(err) });
  }
}
