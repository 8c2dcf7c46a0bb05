import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../http/authenticated-request';
import { ReadRateLimiter } from './read-rate-limiter.service';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Counts every authenticated read under /v1 (after BearerAuthGuard, before the handler): 304
 * answers too, and an SSE stream once, when it opens. Unauthenticated requests and Socket.IO
 * handshakes never reach it.
 */
@Injectable()
export class ReadRateLimitInterceptor implements NestInterceptor {
  constructor(private readonly reads: ReadRateLimiter) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
      if (READ_METHODS.has(req.method) && req.heraldUser && req.path.startsWith('/v1/')) await this.reads.consume(req.heraldUser.userId);
    }
    return next.handle();
  }
}
