import { ConfigError, loadConfig } from '@herald/config';
import { signDevToken } from './dev-token';

const DEFAULT_DEV_TOKEN_TTL_SECONDS = 3600;

const USAGE = 'usage: npm run token -- <userId> [--ttl <seconds>] [--role <role>]';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

type ParsedArgs = { userId: string; ttlSeconds: number; role?: string } | { error: string };

export function parseTokenArgs(argv: readonly string[]): ParsedArgs {
  let userId: string | undefined;
  let ttlSeconds = DEFAULT_DEV_TOKEN_TTL_SECONDS;
  let role: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--role') {
      role = argv[++i];
      if (!role || !/^[\w:-]{1,64}$/.test(role)) return { error: '--role needs a role name (letters, digits, _ : -)' };
    } else if (arg === '--ttl') {
      const value = argv[++i];
      if (value === undefined || !/^[1-9]\d{0,9}$/.test(value)) return { error: '--ttl needs a positive number of seconds' };
      ttlSeconds = Number(value);
    } else if (arg.startsWith('--ttl=')) {
      return parseTokenArgs([...argv.slice(0, i), '--ttl', arg.slice('--ttl='.length), ...argv.slice(i + 1)]);
    } else if (userId === undefined) {
      userId = arg;
    } else {
      return { error: `unexpected argument "${arg}"` };
    }
  }
  if (!userId) return { error: 'a user id is required' };
  return { userId, ttlSeconds, ...(role ? { role } : {}) };
}

/**
 * `npm run token -- <userId> [--ttl <seconds>] [--role <role>]`: prints a development token on stdout and
 * nothing else. NODE_ENV defaults to development here. Refuses in production, when JWKS_URL is
 * set (those tokens come from the identity provider), a lifetime over JWT_MAX_TTL_SECONDS, and a
 * role with the public development secret. Returns the process exit code.
 */
export async function runTokenCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const args = parseTokenArgs(argv);
  if ('error' in args) {
    io.err(`${args.error}\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    // A development command: an unset NODE_ENV means development here, not production.
    config = loadConfig({ NODE_ENV: 'development', ...env });
  } catch (err) {
    io.err(err instanceof ConfigError ? err.message : String(err));
    return 1;
  }
  if (config.NODE_ENV === 'production') {
    io.err('Refusing to sign a development token with NODE_ENV=production.');
    return 1;
  }
  if (args.ttlSeconds > config.JWT_MAX_TTL_SECONDS) {
    io.err(`--ttl may not exceed JWT_MAX_TTL_SECONDS (${config.JWT_MAX_TTL_SECONDS}): Herald would refuse the token.`);
    return 1;
  }
  if (args.role && config.usingDevSecret) {
    io.err('--role needs a real JWT_SECRET: tokens signed with the public development secret carry no role.');
    return 1;
  }
  if (config.JWKS_URL) {
    io.err('JWKS_URL is set: tokens must come from your identity provider; this command can only sign HS256 tokens with JWT_SECRET.');
    return 1;
  }
  try {
    const token = await signDevToken(args.userId, config.JWT_SECRET, {
      ttlSeconds: args.ttlSeconds,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      role: args.role,
    });
    io.out(token);
    return 0;
  } catch (err) {
    io.err(err instanceof Error ? err.message : String(err));
    return 1;
  }
}
