import { PERSISTENCE_RPC } from '@herald/contracts';
import { HealthChecks, RpcClient } from '@herald/messaging';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';

const PING_TIMEOUT_MS = 1500;

/**
 * The gateway reaches Postgres only through persistence: its readiness asks persistence to
 * ping the database (NATS and Redis are registered by MessagingModule). Stopping turns
 * readiness to `draining` at once, so load balancers stop sending new connections.
 */
@Injectable()
export class PersistenceProbe implements OnModuleDestroy {
  constructor(
    private readonly checks: HealthChecks,
    rpc: RpcClient,
  ) {
    checks.register('postgres', () => rpc.call(PERSISTENCE_RPC.ping, {}, { timeoutMs: PING_TIMEOUT_MS }));
  }

  onModuleDestroy(): void {
    this.checks.drain();
  }
}
