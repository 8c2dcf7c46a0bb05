import { HeraldError } from '@herald/contracts';
import { MethodNotAllowedException, NotFoundException } from '@nestjs/common';
import { toHttpError } from './http-error';

describe('toHttpError', () => {
  it('maps HeraldErrors through HTTP_STATUS and keeps retryAfterMs', () => {
    expect(toHttpError(new HeraldError('RATE_LIMITED', 'slow down', 1500))).toEqual({
      status: 429,
      body: { code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 1500 },
    });
    expect(toHttpError(new HeraldError('UNAVAILABLE', 'down')).status).toBe(503);
  });

  it('maps Nest HTTP exceptions to codes without their internal messages', () => {
    expect(toHttpError(new NotFoundException('Cannot GET /secret'))).toEqual({
      status: 404,
      body: { code: 'NOT_FOUND', message: 'Not found.' },
    });
    expect(toHttpError(new MethodNotAllowedException()).body.code).toBe('INVALID_INPUT');
  });

  it('never leaks an unexpected error', () => {
    const result = toHttpError(new Error('connection string postgres://secret'));
    expect(result.status).toBe(500);
    expect(result.body.code).toBe('INTERNAL');
    expect(result.body.message).not.toMatch(/postgres/);
  });
});
