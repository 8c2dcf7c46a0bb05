import { ErrorCode, HeraldError, parseInput } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG } from '@herald/messaging';
import { signDevToken } from '@herald/auth';
import { Body, Controller, Get, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { OriginPolicy } from './origin-policy';
import { type DevConfigReply, devTokenBodySchema } from './query.schemas';

const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

/** Development sign-in for the web page: whether it is on, and a token for a user name when it is. */
@Controller('v1/dev')
export class DevTokenController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  /** Off in production (loadConfig forces it), and impossible with JWKS: we hold no signing key. */
  private get devTokens(): boolean {
    return this.config.DEV_TOKENS && !this.config.JWKS_URL;
  }

  /** `GET /v1/dev/config`: what the page needs to know before it offers a sign-in (no token needed). */
  @Get('config')
  devConfig(): DevConfigReply {
    return { devTokens: this.devTokens };
  }

  /**
   * `POST /v1/dev/token { userId }`: 404 when dev tokens are off; 403 for a page of any other
   * origin than the gateway's own, CORS_ORIGINS or not (no other site signs in its visitors).
   * The token carries no role.
   */
  @Post('token')
  @HttpCode(200)
  async issue(@Body() body: unknown, @Headers() headers: IncomingHttpHeaders): Promise<{ token: string }> {
    if (!this.devTokens) throw new HeraldError(ErrorCode.NOT_FOUND, 'Not found.');
    if (!OriginPolicy.sameOrigin(headers))
      throw new HeraldError(ErrorCode.FORBIDDEN, 'Development tokens are only for the page this gateway serves.');
    const { userId } = parseInput(devTokenBodySchema, body);
    const token = await signDevToken(userId, this.config.JWT_SECRET, {
      ttlSeconds: DEV_TOKEN_TTL_SECONDS,
      issuer: this.config.JWT_ISSUER,
      audience: this.config.JWT_AUDIENCE,
    });
    return { token };
  }
}
