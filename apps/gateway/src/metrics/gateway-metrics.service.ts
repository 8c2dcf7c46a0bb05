import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics, in a registry of its own (two gateways in one process,
 * as in tests, must not share counters).
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly connectedSockets = new Gauge({
    name: 'herald_gateway_connected_sockets',
    help: 'Socket.IO connections open on this instance',
    registers: [this.registry],
  });

  readonly sseStreams = new Gauge({
    name: 'herald_gateway_sse_streams',
    help: 'GET /v1/events streams open on this instance',
    registers: [this.registry],
  });

  readonly subscribedUsers = new Gauge({
    name: 'herald_gateway_subscribed_users',
    help: 'Users with a live-event subscription on this instance',
    registers: [this.registry],
  });

  readonly eventsRelayed = new Counter({
    name: 'herald_gateway_events_relayed_total',
    help: 'Live events received from NATS and emitted to a user, by event type',
    labelNames: ['type'],
    registers: [this.registry],
  });

  readonly eventsReplayed = new Counter({
    name: 'herald_gateway_events_replayed_total',
    help: 'Events re-delivered by events:resume',
    registers: [this.registry],
  });

  readonly chatSend = new Counter({
    name: 'herald_gateway_chat_send_total',
    help: 'chat:send and POST /v1/conversations/:id/messages, by outcome (accepted, duplicate or an error code)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
