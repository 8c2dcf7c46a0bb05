import { TokenVerifier } from '@herald/auth';
import { ErrorCode } from '@herald/contracts';
import { json, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { sendHttpError } from './http-error.filter';

const JSON_BODY_LIMIT = '64kb';
/** `POST /v1/knowledge` carries whole documents. */
const KNOWLEDGE_PATH = '/v1/knowledge';
const KNOWLEDGE_BODY_LIMIT = '1mb';
/**
 * Routes whose bodies may be that large: knowledge documents, and the AG-UI and AI SDK
 * clients, which resend a thread's whole history (tool outputs included) with every message.
 */
const LARGE_BODY_PATHS: ReadonlySet<string> = new Set([KNOWLEDGE_PATH, '/v1/agui', '/v1/ai-sdk/chat']);
/** A request without a valid bearer token (the dev-token route, or one about to be 401) is read this far, no further. */
const UNAUTHENTICATED_BODY_LIMIT = '4kb';
const UNAUTHENTICATED_BODY_BYTES = 4 * 1024;

const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Requests whose bearer token was verified before their body was read. */
const authenticated = new WeakSet<Request>();

const limitOf = (req: Request) =>
  !authenticated.has(req) ? UNAUTHENTICATED_BODY_LIMIT : LARGE_BODY_PATHS.has(req.path) ? KNOWLEDGE_BODY_LIMIT : JSON_BODY_LIMIT;

function tooLarge(req: Request, res: Response): void {
  if (res.headersSent) return;
  // Unauthenticated, the rest of the body is never read: the connection closes once the answer is out.
  if (!authenticated.has(req)) res.setHeader('Connection', 'close');
  sendHttpError(res, 413, { code: ErrorCode.INVALID_INPUT, message: `The body is larger than ${limitOf(req)}.` });
}

/**
 * Ahead of the parsers: a request with a body has its `Authorization: Bearer` token verified
 * first (the BearerAuthGuard checks it again for the route). Without a valid one, the body
 * may be UNAUTHENTICATED_BODY_LIMIT at most: a larger Content-Length is answered 413 before
 * a byte of the body is read, and a chunked body is cut (413) as soon as it grows past it.
 * (An authenticated body over its limit is still read off before its 413, as before: its
 * client gets the answer rather than a reset connection.)
 */
function verifyBeforeReading(verifier: TokenVerifier): RequestHandler {
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) return next();
    const token = BEARER_RE.exec(req.headers.authorization ?? '')?.[1];
    const verified = token === undefined ? Promise.reject(new Error('no bearer token')) : verifier.verify(token);
    verified.then(
      () => {
        authenticated.add(req);
        next();
      },
      () => {
        if (!chunked && Number(length) > UNAUTHENTICATED_BODY_BYTES) return tooLarge(req, res);
        if (chunked) {
          let received = 0;
          const count = (chunk: Buffer) => {
            received += chunk.length;
            if (received <= UNAUTHENTICATED_BODY_BYTES) return;
            req.off('data', count);
            tooLarge(req, res);
          };
          req.on('data', count);
        }
        next();
      },
    );
  };
}

/**
 * Parses JSON bodies; a body that cannot be parsed is 400 INVALID_INPUT (413 when too large).
 * Only a request with a verified bearer token gets the full limits (64 KiB, 1 MiB on LARGE_BODY_PATHS:
 * knowledge documents); any other is held to UNAUTHENTICATED_BODY_LIMIT before it is read.
 */
export function jsonBody(verifier: TokenVerifier): [RequestHandler, RequestHandler, RequestHandler, ErrorRequestHandler] {
  const knowledge = json({ limit: KNOWLEDGE_BODY_LIMIT });
  const general = json({ limit: JSON_BODY_LIMIT });
  const small = json({ limit: UNAUTHENTICATED_BODY_LIMIT });
  const forLargeBodies: RequestHandler = (req, res, next) =>
    authenticated.has(req) && LARGE_BODY_PATHS.has(req.path) ? knowledge(req, res, next) : next();
  const byAuthentication: RequestHandler = (req, res, next) => (authenticated.has(req) ? general(req, res, next) : small(req, res, next));
  // Only the body readers above come before this handler: a 4xx from them is the body's fault. A
  // Content-Encoding the body does not match (gzip that is not gzip) fails in zlib: 400 without a type.
  const onError: ErrorRequestHandler = (err: { type?: string; status?: number }, req, res, next) => {
    if (typeof err?.status !== 'number' || err.status < 400 || err.status >= 500) return next(err);
    if (res.headersSent) return; // already answered 413 (a chunked body cut short)
    const isTooLarge = err.type === 'entity.too.large';
    if (isTooLarge) return tooLarge(req, res);
    const message =
      err.type === 'entity.parse.failed' ? 'The body is not valid JSON.' : 'The body cannot be read (its Content-Encoding or charset).';
    sendHttpError(res, 400, { code: ErrorCode.INVALID_INPUT, message });
  };
  // A body the knowledge parser has read is not parsed again by the general one.
  return [verifyBeforeReading(verifier), forLargeBodies, byAuthentication, onError];
}
