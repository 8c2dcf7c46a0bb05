import { SERVER_EVENTS } from '@herald/contracts';
import { type Config } from '@herald/config';
import { TokenVerifier } from '@herald/auth';
import { CONFIG, LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, type OnModuleDestroy } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { HeraldServer, HeraldSocket } from '../common/herald-socket.types';
import { LiveDeliveryService } from '../delivery/live-delivery.service';
import { ConnectionLimiter } from '../limits/connection-limiter.service';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { ClientEventHandlers } from './client-event-handlers.service';
import { Deadlines } from '../common/deadlines';
import { connectionLimitMiddleware, releaseConnectionSlot } from './connection-limit.middleware';
import { socketAuthMiddleware } from './socket-auth.middleware';

/**
 * The Socket.IO edge. A handshake without a valid token is refused (auth middleware); a
 * connected socket joins its user's live delivery, then gets `session:ready`; its client
 * events go to their handlers; it is told `session:expired` and closed when its token expires.
 */
@WebSocketGateway()
export class EventsGateway
  implements OnGatewayInit<HeraldServer>, OnGatewayConnection<HeraldSocket>, OnGatewayDisconnect<HeraldSocket>, OnModuleDestroy
{
  @WebSocketServer() private readonly server: HeraldServer;
  private draining = false;
  /** Each socket is told `session:expired` and closed when its token expires. */
  private readonly expiries = new Deadlines<HeraldSocket>((socket) => this.expire(socket));

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly delivery: LiveDeliveryService,
    private readonly handlers: ClientEventHandlers,
    private readonly connections: ConnectionLimiter,
    private readonly metrics: GatewayMetrics,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  afterInit(server: HeraldServer): void {
    server.use(socketAuthMiddleware(this.verifier, this.logger, () => this.draining));
    // After auth: one of the user's MAX_CONNECTIONS_PER_USER slots, or connect_error TOO_MANY_CONNECTIONS.
    server.use(connectionLimitMiddleware(this.connections, this.logger));
    this.delivery.bindServer(server);
  }

  handleConnection(socket: HeraldSocket): void {
    this.metrics.connectedSockets.inc();
    // A token that expired during the handshake ends the socket right after this turn,
    // once Nest has bound its disconnect handler.
    this.expiries.add(socket, socket.data.expiresAt);
    this.handlers.bind(socket);
    void this.delivery.attach(socket).then((attached) => {
      if (!attached) return;
      socket.emit(SERVER_EVENTS.sessionReady, {
        userId: socket.data.userId,
        serverTime: new Date().toISOString(),
        instanceId: this.config.INSTANCE_ID,
      });
    });
  }

  handleDisconnect(socket: HeraldSocket): void {
    this.metrics.connectedSockets.dec();
    releaseConnectionSlot(this.connections, socket);
    this.expiries.delete(socket);
    this.delivery.detach(socket.id);
  }

  /** Shutting down: refuse new handshakes, and drop open connections so clients reconnect elsewhere. */
  onModuleDestroy(): void {
    this.draining = true;
    this.expiries.clear();
    const sockets = [...this.server.of('/').sockets.values()];
    this.logger.info({ sockets: sockets.length }, 'closing socket connections for shutdown');
    for (const socket of sockets) socket.conn.close();
  }

  private expire(socket: HeraldSocket): void {
    socket.emit(SERVER_EVENTS.sessionExpired, { reason: 'token_expired' });
    socket.disconnect(true);
  }
}
