import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HealthChecks } from './health-checks.service';

@Module({ imports: [TerminusModule.forRoot({ logger: false })], providers: [HealthChecks] })
class HealthModule {}

describe('HealthChecks', () => {
  let app: INestApplicationContext;
  let checks: HealthChecks;

  beforeEach(async () => {
    app = await NestFactory.createApplicationContext(HealthModule, { logger: false });
    checks = app.get(HealthChecks);
  });

  afterEach(() => app.close());

  it('is ready when every dependency answers, with each one’s latency', async () => {
    checks.register('nats', () => Promise.resolve());
    checks.register('redis', () => Promise.resolve('PONG'));
    expect(await checks.check()).toEqual({
      status: 'ready',
      checks: { nats: { ok: true, latencyMs: expect.any(Number) }, redis: { ok: true, latencyMs: expect.any(Number) } },
    });
  });

  it('is unavailable when one fails or hangs, saying which and never why', async () => {
    checks.register('nats', () => Promise.resolve());
    checks.register('postgres', () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:5432')));
    checks.register('redis', () => new Promise(() => undefined));
    const readiness = await checks.check();
    expect(readiness).toEqual({
      status: 'unavailable',
      checks: { nats: { ok: true, latencyMs: expect.any(Number) }, postgres: { ok: false }, redis: { ok: false } },
    });
    expect(JSON.stringify(readiness)).not.toMatch(/ECONNREFUSED|answer/);
  }, 10_000);

  it('says draining once the service is going away, even with every dependency up', async () => {
    checks.register('nats', () => Promise.resolve());
    checks.drain();
    expect(await checks.check()).toMatchObject({ status: 'draining', checks: { nats: { ok: true } } });
  });
});
