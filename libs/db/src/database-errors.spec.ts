import { describeDatabaseError, isDataError, isDatabaseUnavailable, isUniqueViolation } from './database-errors';

const pgError = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`pg ${code}`), { code, ...extra });

describe('database errors', () => {
  it('recognizes an unreachable or restarting database', () => {
    expect(isDatabaseUnavailable(pgError('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('57P01'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('08006'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('23505'))).toBe(false);
    expect(isDatabaseUnavailable(pgError('42P01'))).toBe(false);
  });

  it('recognizes rows the database refuses, and unique violations by constraint', () => {
    expect(isDataError(pgError('22P02'))).toBe(true);
    expect(isDataError(pgError('23514'))).toBe(true);
    expect(isDataError(pgError('42P01'))).toBe(false);
    const wrapped = Object.assign(new Error('duplicate key'), { driverError: { code: '23505', constraint: 'runs_pkey' } });
    expect(isUniqueViolation(wrapped)).toBe(true);
    expect(isUniqueViolation(wrapped, 'runs_pkey')).toBe(true);
    expect(isUniqueViolation(wrapped, 'other')).toBe(false);
  });

  it('describes an error without its query parameters', () => {
    const err = pgError('23505', { constraint: 'runs_pkey', parameters: ['private'] });
    expect(describeDatabaseError(err)).toEqual({ message: 'pg 23505', code: '23505', constraint: 'runs_pkey' });
  });
});
