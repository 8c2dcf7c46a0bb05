import { ServiceMetrics } from '@herald/observability';
import { DatabaseMetrics } from './database-metrics.service';

describe('DatabaseMetrics', () => {
  it('counts database errors by operation and kind: connection (unreachable, dropped) or query', async () => {
    const service = new ServiceMetrics();
    const metrics = new DatabaseMetrics(service);
    metrics.failed('admitRun', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    metrics.failed('admitRun', new Error('Connection terminated unexpectedly'));
    metrics.failed('write_events', Object.assign(new Error('deadlock detected'), { driverError: { code: '40P01' } }));
    const text = await service.text();
    expect(text).toMatch(/^# HELP herald_db_errors_total /m);
    expect(text).toMatch(/^herald_db_errors_total\{operation="admitRun",kind="connection"\} 2$/m);
    expect(text).toMatch(/^herald_db_errors_total\{operation="write_events",kind="query"\} 1$/m);
    expect(text).not.toMatch(/operation="admitRun",kind="query"/);
  });
});
