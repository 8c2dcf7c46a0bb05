import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';

/** How long in-flight HTTP requests (and slow downloads) may take once shutdown begins. */
const HTTP_DRAIN_MS = 2000;

/**
 * Bounds the HTTP server's close: idle keep-alive connections go at once, busy ones get
 * HTTP_DRAIN_MS to finish, then they are cut so that shutdown never hangs on a slow client.
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_MS).unref();
  }
}
