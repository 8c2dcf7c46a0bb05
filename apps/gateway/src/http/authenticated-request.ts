import type { VerifiedToken } from '@herald/auth';
import type { Request } from 'express';

export interface AuthenticatedRequest extends Request {
  heraldUser?: VerifiedToken;
}
