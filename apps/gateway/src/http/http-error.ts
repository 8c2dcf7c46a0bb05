import { ErrorCode, HeraldError, HTTP_STATUS, toErrorBody, type ErrorBody } from '@herald/contracts';
import { HttpException } from '@nestjs/common';

export interface HttpError {
  status: number;
  body: ErrorBody;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.INVALID_INPUT,
  401: ErrorCode.UNAUTHORIZED,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.RUN_IN_PROGRESS,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.UNAVAILABLE,
};

const MESSAGE_BY_CODE: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'Not found.',
  INVALID_INPUT: 'The request is not valid.',
};

/** Anything thrown while serving HTTP, as a status and a client-safe body (never a stack). */
export function toHttpError(err: unknown): HttpError {
  if (HeraldError.is(err)) return { status: HTTP_STATUS[err.code], body: err.toBody() };
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL);
    const message = status < 500 ? (MESSAGE_BY_CODE[code] ?? 'The request cannot be served.') : toErrorBody(err).message;
    return { status, body: { code, message } };
  }
  return { status: 500, body: toErrorBody(err) };
}
