import { type Config, DEV_JWT_SECRET } from '@herald/config';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import { UnauthorizedError } from './unauthorized.error';
import { isValidUserId, USER_ID_RULE } from './user-id';

/** Longer strings are refused before any parsing: no JWT Herald accepts is this big. */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * A signed JWT in compact serialization: three base64url segments. jose decodes a segment
 * leniently (Node's base64url skips other characters), so without this `<jwt>,`, `<jwt>!!` or
 * `<jwt>==` would pass as `<jwt>`: one token, many spellings.
 */
const COMPACT_JWS_RE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

export const HS_ALGORITHMS = ['HS256'];
export const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export interface VerifiedToken {
  userId: string;
  /** When the token expires, in epoch milliseconds (`exp` × 1000). */
  expiresAt: number;
  claims: JWTPayload;
}

export type TokenVerifierConfig = Pick<Config, 'JWT_SECRET' | 'JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE'> &
  Partial<Pick<Config, 'JWT_MAX_TTL_SECONDS' | 'JWT_CLOCK_TOLERANCE_SECONDS'>>;

/** PROTOCOL.md §1's defaults: a day at most between `iat` and `exp`, 30 s of clock skew. */
export const DEFAULT_MAX_TTL_SECONDS = 86_400;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

interface ClaimRules {
  issuer?: string;
  audience?: string;
  /** `exp - iat` may not exceed this (default 86400). */
  maxTtlSeconds?: number;
  /** Skew allowed on `exp`, `nbf` and a future `iat` (default 30). */
  clockToleranceSeconds?: number;
}

/** Claims that grant rights: never honoured on a token anyone could have signed. */
const ROLE_CLAIMS = ['role', 'roles'] as const;

export type TokenVerifierOptions =
  ({ mode: 'secret'; secret: string } & ClaimRules) | ({ mode: 'jwks'; jwksUrl: string; jwksTimeoutMs?: number } & ClaimRules);

/**
 * Verifies Herald's bearer tokens (PROTOCOL.md §1): HS256 with a shared secret, or, when a
 * JWKS URL is configured, RS256/ES256 with the keys it publishes (and then never HS256, so a
 * token signed with a public key as an HMAC secret is refused). `alg: none` is never allowed,
 * `exp` and `iat` are required, `exp - iat` is at most the maximum lifetime, `iat` is not in
 * the future, `nbf` is honoured (all within the clock tolerance), `iss`/`aud` are checked when
 * configured (loadConfig requires both with a JWKS), and `sub` must be a valid user id.
 */
export class TokenVerifier {
  private readonly verifyJwt: (token: string, options: JWTVerifyOptions) => Promise<JWTVerifyResult>;
  private readonly algorithms: string[];

  /** True when the secret is the public development one: its tokens prove a name, never a role. */
  private readonly publicSecret: boolean;

  constructor(private readonly opts: TokenVerifierOptions) {
    this.publicSecret = opts.mode === 'secret' && opts.secret === DEV_JWT_SECRET;
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
    const claims: ClaimRules = {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      maxTtlSeconds: config.JWT_MAX_TTL_SECONDS,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    };
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
    if (!COMPACT_JWS_RE.test(token)) throw new UnauthorizedError('not a signed JWT (three base64url segments)');

    const tolerance = this.opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    const maxTtl = this.opts.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
    let payload: JWTPayload;
    try {
      const result = await this.verifyJwt(token, {
        algorithms: this.algorithms,
        requiredClaims: ['exp', 'iat'],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: tolerance,
      });
      payload = result.payload;
    } catch (err) {
      throw new UnauthorizedError(describeJoseError(err));
    }

    // jose checks that both are numbers; the window between them is Herald's rule.
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (iat > Date.now() / 1000 + tolerance) throw new UnauthorizedError('iat is in the future');
    if (exp - iat > maxTtl) throw new UnauthorizedError(`the token lives longer than ${maxTtl} s (exp - iat)`);
    if (!isValidUserId(payload.sub)) throw new UnauthorizedError(`sub must be ${USER_ID_RULE}`);
    if (this.publicSecret) for (const claim of ROLE_CLAIMS) delete payload[claim];
    return { userId: payload.sub, expiresAt: exp * 1000, claims: payload };
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JOSEError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : 'verification failed';
}
