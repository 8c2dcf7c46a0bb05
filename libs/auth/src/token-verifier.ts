import type { Config } from '@herald/contracts';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import { UnauthorizedError } from './unauthorized.error';
import { isValidUserId, MAX_USER_ID_LENGTH } from './user-id';

/** Longer strings are refused before any parsing: no JWT Herald accepts is this big. */
export const MAX_TOKEN_LENGTH = 8192;

export const HS_ALGORITHMS = ['HS256'];
export const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export interface VerifiedToken {
  userId: string;
  /** When the token expires, in epoch milliseconds (`exp` × 1000). */
  expiresAt: number;
  claims: JWTPayload;
}

export type TokenVerifierConfig = Pick<Config, 'JWT_SECRET' | 'JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>;

export type TokenVerifierOptions =
  | { mode: 'secret'; secret: string; issuer?: string; audience?: string }
  | { mode: 'jwks'; jwksUrl: string; issuer?: string; audience?: string; jwksTimeoutMs?: number };

/**
 * Verifies Herald's bearer tokens (PROTOCOL.md §1): HS256 with a shared secret, or, when a
 * JWKS URL is configured, RS256/ES256 with the keys it publishes (and then never HS256, so a
 * token signed with a public key as an HMAC secret is refused). `alg: none` is never allowed,
 * `exp` is required, `nbf` is honoured, `iss`/`aud` are checked when configured.
 */
export class TokenVerifier {
  private readonly verifyJwt: (token: string, options: JWTVerifyOptions) => Promise<JWTVerifyResult>;
  private readonly algorithms: string[];

  constructor(private readonly opts: TokenVerifierOptions) {
    if (opts.mode === 'jwks') {
      const keySet = createRemoteJWKSet(new URL(opts.jwksUrl), {
        timeoutDuration: opts.jwksTimeoutMs ?? 5000,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      this.verifyJwt = (token, options) => jwtVerify(token, keySet, options);
      this.algorithms = JWKS_ALGORITHMS;
    } else {
      const secret = new TextEncoder().encode(opts.secret);
      this.verifyJwt = (token, options) => jwtVerify(token, secret, options);
      this.algorithms = HS_ALGORITHMS;
    }
  }

  static fromConfig(config: TokenVerifierConfig): TokenVerifier {
    const claims = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
    return config.JWKS_URL
      ? new TokenVerifier({ mode: 'jwks', jwksUrl: config.JWKS_URL, ...claims })
      : new TokenVerifier({ mode: 'secret', secret: config.JWT_SECRET, ...claims });
  }

  get mode(): TokenVerifierOptions['mode'] {
    return this.opts.mode;
  }

  /** Resolves with the user and expiry, or rejects with an UnauthorizedError. */
  async verify(token: unknown): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) throw new UnauthorizedError('no token');
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthorizedError('token too long');

    let payload: JWTPayload;
    try {
      const result = await this.verifyJwt(token, {
        algorithms: this.algorithms,
        requiredClaims: ['exp'],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
      });
      payload = result.payload;
    } catch (err) {
      throw new UnauthorizedError(describeJoseError(err));
    }

    if (!isValidUserId(payload.sub)) {
      throw new UnauthorizedError(`sub must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`);
    }
    return { userId: payload.sub, expiresAt: (payload.exp as number) * 1000, claims: payload };
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JOSEError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : 'verification failed';
}
