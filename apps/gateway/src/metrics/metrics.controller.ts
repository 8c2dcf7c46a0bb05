import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayMetrics } from './gateway-metrics.service';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    res.type(this.metrics.contentType).send(await this.metrics.text());
  }
}
