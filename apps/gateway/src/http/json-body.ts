import { ErrorCode } from '@herald/contracts';
import { json, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { sendHttpError } from './http-error.filter';

export const JSON_BODY_LIMIT = '64kb';
/** `POST /v1/knowledge` carries whole documents. */
export const KNOWLEDGE_PATH = '/v1/knowledge';
export const KNOWLEDGE_BODY_LIMIT = '1mb';

const limitOf = (req: Request) => (req.path === KNOWLEDGE_PATH ? KNOWLEDGE_BODY_LIMIT : JSON_BODY_LIMIT);

/** Parses JSON bodies; a body that cannot be parsed is 400 INVALID_INPUT (413 when too large). */
export function jsonBody(): [RequestHandler, RequestHandler, ErrorRequestHandler] {
  const knowledge = json({ limit: KNOWLEDGE_BODY_LIMIT });
  const forKnowledge: RequestHandler = (req, res, next) => (req.path === KNOWLEDGE_PATH ? knowledge(req, res, next) : next());
  const onError: ErrorRequestHandler = (err: { type?: string; status?: number }, req, res, next) => {
    if (typeof err?.type !== 'string' || typeof err.status !== 'number') return next(err);
    const tooLarge = err.type === 'entity.too.large';
    sendHttpError(res, tooLarge ? 413 : 400, {
      code: ErrorCode.INVALID_INPUT,
      message: tooLarge ? `The body is larger than ${limitOf(req)}.` : 'The body is not valid JSON.',
    });
  };
  // A body the knowledge parser has read is not parsed again by the general one.
  return [forKnowledge, json({ limit: JSON_BODY_LIMIT }), onError];
}
