import { ErrorCode } from '@herald/contracts';
import type { RequestHandler } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { sendHttpError } from './http-error.filter';

/**
 * Which web pages may call the gateway (PROTOCOL.md §1, §6; SECURITY.md). A request without an
 * `Origin` header is not a browser's cross-origin call (curl, servers, native apps) and passes:
 * the token is what authenticates. A browser's request passes when it comes from the gateway's
 * own origin (the bundled page) or from an origin of CORS_ORIGINS; `*` there allows every
 * origin, and must be asked for. Everything else is refused, for Socket.IO and HTTP alike.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly allowed: ReadonlySet<string>;

  constructor(corsOrigins: string | undefined) {
    const entries = (corsOrigins ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    this.any = entries.includes('*');
    this.allowed = new Set(entries.filter((o) => o !== '*').map(normaliseOrigin));
  }

  /** The origins listed in CORS_ORIGINS (normalised), or `*`. */
  get listed(): '*' | string[] {
    return this.any ? '*' : [...this.allowed];
  }

  /** Whether the request's page is the gateway's own (its `Origin` names the `Host` it was sent to). */
  static sameOrigin(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin;
    if (origin === undefined) return true;
    try {
      return new URL(origin).host === headers.host;
    } catch {
      return false;
    }
  }

  allows(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin;
    if (origin === undefined || this.any || OriginPolicy.sameOrigin(headers)) return true;
    return this.allowed.has(normaliseOrigin(origin));
  }

  /** Express middleware: 403 FORBIDDEN for a browser page the policy does not allow. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      if (this.allows(req.headers)) return next();
      sendHttpError(res, 403, { code: ErrorCode.FORBIDDEN, message: 'This origin may not call Herald (CORS_ORIGINS).' });
    };
  }
}

/** `https://Example.com:443/` → `https://example.com`; a value that is not a URL stays as it is (and matches nothing real). */
function normaliseOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}
