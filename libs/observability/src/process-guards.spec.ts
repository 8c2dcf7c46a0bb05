import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { ServiceMetrics } from './service-metrics.service';
import { installProcessGuards } from './process-guards';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger('guards-test', 'info', stream), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

async function unhandledCount(metrics: ServiceMetrics, kind: string): Promise<number> {
  const metric = await metrics.unhandledErrors.get();
  return metric.values.find((v) => v.labels.kind === kind)?.value ?? -1;
}

describe('installProcessGuards', () => {
  it('logs and counts an unhandled rejection, and does not end the process', async () => {
    const proc = new EventEmitter();
    const exit = jest.fn();
    const { logger, lines } = capture();
    const metrics = new ServiceMetrics();
    try {
      installProcessGuards(logger, { proc, exit });
      expect(await unhandledCount(metrics, 'unhandled_rejection')).toBe(0);
      proc.emit('unhandledRejection', new Error('reply too large'));
      proc.emit('unhandledRejection', 'a string reason');
      await flush();
      expect(exit).not.toHaveBeenCalled();
      expect(await unhandledCount(metrics, 'unhandled_rejection')).toBe(2);
      expect(lines[0]).toMatchObject({ level: 50, kind: 'unhandled_rejection', err: { message: 'reply too large' } });
      expect(String(lines[0].msg)).toContain('unhandled promise rejection');
    } finally {
      metrics.onModuleDestroy();
    }
  });

  it('logs and counts an uncaught exception, then exits with code 1', async () => {
    const proc = new EventEmitter();
    const exit = jest.fn();
    const { logger, lines } = capture();
    const metrics = new ServiceMetrics();
    try {
      installProcessGuards(logger, { proc, exit });
      proc.emit('uncaughtException', new TypeError('boom'));
      await flush();
      expect(exit).toHaveBeenCalledWith(1);
      expect(await unhandledCount(metrics, 'uncaught_exception')).toBe(1);
      expect(lines[0]).toMatchObject({ level: 60, kind: 'uncaught_exception', err: { type: 'TypeError', message: 'boom' } });
    } finally {
      metrics.onModuleDestroy();
    }
  });

  it('installs its handlers once per process, and a stopped registry counts no more', async () => {
    const proc = new EventEmitter();
    const { logger } = capture();
    installProcessGuards(logger, { proc, exit: jest.fn() });
    installProcessGuards(logger, { proc, exit: jest.fn() });
    expect(proc.listenerCount('unhandledRejection')).toBe(1);
    expect(proc.listenerCount('uncaughtException')).toBe(1);
    const metrics = new ServiceMetrics();
    metrics.onModuleDestroy();
    proc.emit('unhandledRejection', new Error('late'));
    expect(await unhandledCount(metrics, 'unhandled_rejection')).toBe(0);
    expect(await metrics.text()).toContain('herald_unhandled_errors_total{kind="unhandled_rejection"} 0');
  });
});
