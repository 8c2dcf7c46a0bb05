import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@herald/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

/**
 * The gateway's Prometheus metrics, in its application's registry (ServiceMetrics: Node's
 * default metrics and the broker connections are there too; two gateways in one process,
 * as in tests, do not share counters).
 */
@Injectable()
export class GatewayMetrics {
  readonly connectedSockets: Gauge;
  readonly sseStreams: Gauge;
  readonly subscribedUsers: Gauge;
  readonly eventsRelayed: Counter<'type'>;
  /** Event `ts` (when it was published) to its emission on this gateway. */
  readonly relayLatency: Histogram;
  readonly eventsReplayed: Counter;
  readonly chatSend: Counter<'outcome'>;
  /** Per-user limits that refused something: `connections`, `replays`, `reads`. */
  readonly limitRefusals: Counter<'limit'>;

  constructor(private readonly service: ServiceMetrics) {
    const registers = [service.registry];
    this.connectedSockets = new Gauge({
      name: 'herald_gateway_connected_sockets',
      help: 'Socket.IO connections open on this instance',
      registers,
    });
    this.sseStreams = new Gauge({ name: 'herald_gateway_sse_streams', help: 'GET /v1/events streams open on this instance', registers });
    this.subscribedUsers = new Gauge({
      name: 'herald_gateway_subscribed_users',
      help: 'Users with a live-event subscription on this instance',
      registers,
    });
    this.eventsRelayed = new Counter({
      name: 'herald_gateway_events_relayed_total',
      help: 'Live events received from NATS and emitted to a user, by event type',
      labelNames: ['type'],
      registers,
    });
    this.relayLatency = new Histogram({
      name: 'herald_gateway_relay_latency_seconds',
      help: 'From an event’s ts (its publication) to its emission to the user’s sockets on this gateway',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.eventsReplayed = new Counter({
      name: 'herald_gateway_events_replayed_total',
      help: 'Events re-delivered by events:resume',
      registers,
    });
    this.chatSend = new Counter({
      name: 'herald_gateway_chat_send_total',
      help: 'chat:send and POST /v1/conversations/:id/messages, by outcome (accepted, duplicate or an error code)',
      labelNames: ['outcome'],
      registers,
    });
    this.limitRefusals = new Counter({
      name: 'herald_gateway_limit_refusals_total',
      help: 'Requests refused by a per-user limit (connections: MAX_CONNECTIONS_PER_USER, replays: MAX_CONCURRENT_REPLAYS_PER_USER, reads: READ_RATE_LIMIT_PER_MINUTE)',
      labelNames: ['limit'],
      registers,
    });
  }

  text(): Promise<string> {
    return this.service.registry.metrics();
  }

  get contentType(): string {
    return this.service.registry.contentType;
  }
}
