import { type Config, ErrorCode, HeraldError, parseInput } from '@herald/contracts';
import { CONFIG } from '@herald/messaging';
import { signDevToken } from '@herald/auth';
import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { devTokenBodySchema } from './query.schemas';

export const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

/** `POST /v1/dev/token { userId }`: a token for the demo page, only when DEV_TOKENS is on. */
@Controller('v1/dev/token')
export class DevTokenController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  @Post()
  @HttpCode(200)
  async issue(@Body() body: unknown): Promise<{ token: string }> {
    // Off in production (loadConfig forces it), and impossible with JWKS: we hold no signing key.
    if (!this.config.DEV_TOKENS || this.config.JWKS_URL) throw new HeraldError(ErrorCode.NOT_FOUND, 'Not found.');
    const { userId } = parseInput(devTokenBodySchema, body);
    const token = await signDevToken(userId, this.config.JWT_SECRET, {
      ttlSeconds: DEV_TOKEN_TTL_SECONDS,
      issuer: this.config.JWT_ISSUER,
      audience: this.config.JWT_AUDIENCE,
    });
    return { token };
  }
}
