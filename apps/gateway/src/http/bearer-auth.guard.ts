import { TokenVerifier, UnauthorizedError } from '@herald/auth';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ALLOW_QUERY_TOKEN } from './allow-query-token.decorator';
import type { AuthenticatedRequest } from './authenticated-request';

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** `Authorization: Bearer <jwt>`, verified like the socket handshake; anything else is 401. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = this.tokenOf(req, this.reflector.get<boolean>(ALLOW_QUERY_TOKEN, context.getHandler()) === true);
    if (token === undefined) throw new UnauthorizedError('no bearer token');
    req.heraldUser = await this.verifier.verify(token);
    return true;
  }

  private tokenOf(req: AuthenticatedRequest, allowQuery: boolean): unknown {
    const header = req.headers.authorization;
    if (header !== undefined) return BEARER_RE.exec(header)?.[1];
    return allowQuery ? req.query.token : undefined;
  }
}
