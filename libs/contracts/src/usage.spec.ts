import { addDays, daysBetween, daySchema, nextUtcMidnight, userUsageRequestSchema, utcDay } from './usage';

describe('usage days and quotas', () => {
  it('takes the UTC day of a moment, whatever the local time zone says', () => {
    expect(utcDay(Date.parse('2026-12-01T23:59:59.999Z'))).toBe('2026-12-01');
    expect(utcDay(Date.parse('2026-12-02T00:00:00.000Z'))).toBe('2026-12-02');
    // 01:30 in UTC+2 is still the day before in UTC.
    expect(utcDay(Date.parse('2026-12-02T01:30:00+02:00'))).toBe('2026-12-01');
  });

  it('resets at the next UTC midnight, also from the last millisecond of a day and across a year', () => {
    expect(nextUtcMidnight(Date.parse('2026-12-02T10:00:00Z')).toISOString()).toBe('2026-12-03T00:00:00.000Z');
    expect(nextUtcMidnight(Date.parse('2026-12-31T23:59:59.999Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(nextUtcMidnight(Date.parse('2027-01-01T00:00:00.000Z')).toISOString()).toBe('2027-01-02T00:00:00.000Z');
  });

  it('counts and moves days across months and leap years', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-02', -29)).toBe('2026-11-03');
    expect(daysBetween('2026-11-03', '2026-12-02')).toBe(30);
    expect(daysBetween('2026-12-02', '2026-12-02')).toBe(1);
  });

  it('accepts only real calendar days as YYYY-MM-DD', () => {
    for (const ok of ['2026-12-02', '2028-02-29', '2000-01-01']) expect(daySchema.safeParse(ok).success).toBe(true);
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-12-2',
      '2026-12-02T00:00:00Z',
      '',
      'today',
      '1999-12-31',
      '+02026-12-02',
      '2026-12-0２',
    ]) {
      expect({ bad, ok: daySchema.safeParse(bad).success }).toEqual({ bad, ok: false });
    }
  });

  it('refuses a range that is reversed or longer than 366 days', () => {
    const req = (from: string, to: string) => userUsageRequestSchema.safeParse({ userId: 'u', from, to });
    expect(req('2026-01-01', '2026-12-31').success).toBe(true);
    expect(req('2025-12-31', '2026-12-31').success).toBe(true); // 366 days
    expect(req('2025-12-30', '2026-12-31').success).toBe(false);
    expect(req('2026-12-02', '2026-12-01').success).toBe(false);
    expect(userUsageRequestSchema.safeParse({ userId: 'u', from: '2026-12-01', to: '2026-12-01', extra: 1 }).success).toBe(false);
  });
});
