import type { Logger } from '@herald/observability';
import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { toHttpError } from './http-error';

/** Every HTTP error as `{ error: { code, message } }`, with `Retry-After` on 429. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const { status, body } = toHttpError(exception);
    if (status >= 500 && body.code === 'INTERNAL') {
      this.logger.error({ err: exception, method: req.method, path: req.path }, 'unhandled HTTP error');
    }
    if (res.headersSent) return;
    sendHttpError(res, status, body);
  }
}

export function sendHttpError(res: Response, status: number, body: { code: string; message: string; retryAfterMs?: number }): void {
  if (body.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(body.retryAfterMs / 1000))));
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  res.status(status).json({ error: body });
}
