import { ErrorCode } from '@herald/contracts';
import { json, type ErrorRequestHandler, type RequestHandler } from 'express';
import { sendHttpError } from './http-error.filter';

export const JSON_BODY_LIMIT = '64kb';

/** Parses JSON bodies; a body that cannot be parsed is 400 INVALID_INPUT (413 when too large). */
export function jsonBody(): [RequestHandler, ErrorRequestHandler] {
  const onError: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
    if (typeof err?.type !== 'string' || typeof err.status !== 'number') return next(err);
    const tooLarge = err.type === 'entity.too.large';
    sendHttpError(res, tooLarge ? 413 : 400, {
      code: ErrorCode.INVALID_INPUT,
      message: tooLarge ? `The body is larger than ${JSON_BODY_LIMIT}.` : 'The body is not valid JSON.',
    });
  };
  return [json({ limit: JSON_BODY_LIMIT }), onError];
}
