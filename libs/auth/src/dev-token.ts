import { SignJWT } from 'jose';
import { isValidUserId, MAX_USER_ID_LENGTH } from './user-id';

export interface DevTokenOptions {
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  /** A `role` claim, e.g. `admin` for `POST /v1/knowledge`. */
  role?: string;
}

/** Signs an HS256 token for `userId`, for development and tests (never for production). */
export async function signDevToken(userId: string, secret: string, opts: DevTokenOptions): Promise<string> {
  if (!isValidUserId(userId)) throw new Error(`userId must be 1 to ${MAX_USER_ID_LENGTH} characters`);
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0) throw new Error('ttlSeconds must be a positive integer');
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(opts.role ? { role: opts.role } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + opts.ttlSeconds);
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
