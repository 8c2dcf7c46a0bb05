import { scheduleAt } from './schedule-at';

describe('scheduleAt', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fires at the given time, not before', () => {
    const fn = jest.fn();
    scheduleAt(Date.now() + 1000, fn);
    jest.advanceTimersByTime(999);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('fires at once for a past time', () => {
    const fn = jest.fn();
    scheduleAt(Date.now() - 5, fn);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waits past the 24.8-day setTimeout limit instead of firing at once', () => {
    const fn = jest.fn();
    const thirtyDays = 30 * 86_400_000;
    scheduleAt(Date.now() + thirtyDays, fn);
    jest.advanceTimersByTime(2 ** 31);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(thirtyDays - 2 ** 31);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled', () => {
    const fn = jest.fn();
    const cancel = scheduleAt(Date.now() + 1000, fn);
    cancel();
    jest.advanceTimersByTime(2000);
    expect(fn).not.toHaveBeenCalled();
  });
});
