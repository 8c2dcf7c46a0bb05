import { HealthChecks, type Readiness } from '@herald/messaging';
import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';

@Controller('health')
export class HealthController {
  constructor(private readonly checks: HealthChecks) {}

  /** 200 while the process serves HTTP. */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when NATS, Redis and Postgres answer, else 503; the body says which failed. */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const readiness = await this.checks.check();
    res.status(readiness.status === 'ready' ? 200 : 503);
    return readiness;
  }
}
