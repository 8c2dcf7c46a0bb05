import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { UnauthorizedError } from '@herald/auth';
import type { AuthenticatedRequest } from './authenticated-request';

/** The id of the user the BearerAuthGuard verified. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().heraldUser;
  if (!user) throw new UnauthorizedError('route without BearerAuthGuard');
  return user.userId;
});
