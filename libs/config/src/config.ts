import { z } from 'zod';
import { NAMESPACE_RE, WEBHOOK_MAX_URLS, webhookSecretProblem, webhookUrlProblem } from '@herald/contracts';

export const DEV_JWT_SECRET = 'herald-dev-secret-change-me-0123456789';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(min).max(max).default(def);
/** Whether a URL's hostname is a loopback address or `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
/** Whether `value` parses as a URL whose protocol (`nats:`, `redis:`, …) matches. */
function isUrlOf(value: string, protocols: RegExp): boolean {
  try {
    return protocols.test(new URL(value).protocol);
  } catch {
    return false;
  }
}
const url = (def: string, protocols: RegExp) =>
  z
    .string()
    .default(def)
    .refine((v) => isUrlOf(v, protocols), `must be a URL (${protocols.source})`);
/** Unset (or empty) is unset; a value of only blanks is a mistake, not a way to switch a check off. */
const optionalString = z.string().trim().min(1, 'must not be blank').optional();
const optionalBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes')
  .optional();
/** One or more NATS servers, comma-separated: nats:// or tls:// URLs. */
const natsUrls = (def: string) =>
  z
    .string()
    .default(def)
    .refine(
      (v) => v.split(',').every((part) => isUrlOf(part.trim(), /^(?:nats|tls):$/)),
      'must be one or more nats:// or tls:// URLs, comma-separated',
    );

/** WEBHOOK_URLS: one or more http(s) URLs, comma-separated, each checked (webhookUrlProblem). */
const webhookUrls = z.string().transform((text, ctx) => {
  const urls = text.split(',').map((part) => part.trim());
  urls.forEach((url, i) => {
    const problem = webhookUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${problem}` });
  });
  if (urls.length > WEBHOOK_MAX_URLS) ctx.addIssue({ code: 'custom', message: `lists more than ${WEBHOOK_MAX_URLS} URLs` });
  if (new Set(urls).size !== urls.length) ctx.addIssue({ code: 'custom', message: 'lists a URL twice' });
  return urls;
});

/**
 * Every environment variable Herald reads, validated once at start. Each app reads the
 * whole schema, so a misconfigured deployment fails the same way everywhere.
 */
/** MCP_SERVERS: a server's name, the first part of its tools' names (`<server>.<tool>`). */
export const MCP_SERVER_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const mcpCommon = {
  name: z.string().regex(MCP_SERVER_NAME_RE, `must match ${MCP_SERVER_NAME_RE.source}`),
  /**
   * `auto` (default): a tool not annotated `readOnlyHint: true` waits for the user's approval
   * (approval_requested); `always`: every tool does; `never`: none does.
   */
  approval: z.enum(['auto', 'always', 'never']).default('auto'),
  /** One request to the server (connect, list, call; progress notifications restart it). */
  timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
};
/** One MCP server of MCP_SERVERS: a command the worker runs (stdio), or a Streamable HTTP endpoint. */
export const mcpServerSchema = z.union([
  z.strictObject({
    ...mcpCommon,
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** Added to a minimal environment (PATH, HOME, …): the worker's own secrets never reach the server. */
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().min(1).optional(),
  }),
  z.strictObject({
    ...mcpCommon,
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    headers: z.record(z.string(), z.string()).default({}),
  }),
]);
export type McpServerConfig = z.infer<typeof mcpServerSchema>;

const mcpServers = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON: a list of servers' });
      return z.NEVER;
    }
  })
  .pipe(z.array(mcpServerSchema, { error: 'must be a list of servers, each { name, command, args?, env? } or { name, url, headers? }' }))
  .refine((servers) => new Set(servers.map((s) => s.name)).size === servers.length, 'must not name two servers alike');

/** The model providers LLM_PROVIDER may name. */
export const LLM_PROVIDERS = ['openai-compatible', 'openai', 'anthropic'] as const;
export type LlmProviderName = (typeof LLM_PROVIDERS)[number];

const configObject = z.object({
  /**
   * Unset is production: Herald fails closed. `development` (what `npm start` sets) is the only
   * mode that runs without JWT_SECRET or JWKS_URL, on loopback, with the public development secret.
   */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  HERALD_NAMESPACE: z
    .string()
    .default('herald')
    .refine((v) => NAMESPACE_RE.test(v), `must match ${NAMESPACE_RE.source}`),
  INSTANCE_ID: optionalString,
  PORT: int(3000, 0, 65535),
  /** The gateway's listen address; default 127.0.0.1 in development, every interface otherwise. */
  HOST: optionalString,
  /** Web origins allowed to call the gateway from a browser (Socket.IO and HTTP), comma-separated; default: only the page's own origin. */
  CORS_ORIGINS: optionalString,
  /** /health/* and /metrics of the services without an HTTP API (0: any free port). */
  HEALTH_PORT: int(0, 0, 65535),
  /** The gateway's /metrics, kept off the public port (0: any free port). */
  METRICS_PORT: int(9464, 0, 65535),
  NATS_URL: natsUrls('nats://127.0.0.1:4222'),
  /** NATS credentials: a user and password (deploy/nats/nats-server.conf has one user per service), a token, or a .creds file. */
  NATS_USER: optionalString,
  NATS_PASSWORD: optionalString,
  NATS_TOKEN: optionalString,
  NATS_CREDS: optionalString,
  REDIS_URL: url('redis://127.0.0.1:6379', /^rediss?:$/),
  DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/herald', /^postgres(?:ql)?:$/),
  JWT_SECRET: optionalString,
  JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  /** The longest lifetime (`exp - iat`) of a token Herald accepts. */
  JWT_MAX_TTL_SECONDS: int(86_400, 60, 366 * 86_400),
  /** Clock skew allowed on `exp`, `nbf` and `iat`. */
  JWT_CLOCK_TOLERANCE_SECONDS: int(30, 0, 600),
  /** Default: on only while the development secret is in use; always off in production. */
  DEV_TOKENS: optionalBool,
  RATE_LIMIT_PER_MINUTE: int(10, 1, 1_000_000),
  /** Socket.IO connections and SSE streams of one user, across all gateway instances. */
  MAX_CONNECTIONS_PER_USER: int(20, 1, 100_000),
  /** Authenticated HTTP GETs under /v1 of one user per minute, across all gateway instances. */
  READ_RATE_LIMIT_PER_MINUTE: int(600, 1, 1_000_000),
  /** Events one `events:resume` call replays at most (then `more: true`). */
  REPLAY_MAX_EVENTS: int(10_000, 1, 1_000_000),
  /** Replays (events:resume, SSE, protocol resumes) of one user at once, across all gateway instances. */
  MAX_CONCURRENT_REPLAYS_PER_USER: int(4, 1, 1000),
  MAX_MESSAGE_CHARS: int(8000, 1, 1_000_000),
  EVENT_RETENTION_HOURS: int(24, 1, 24 * 365),
  /** The gateway's SSE comment heartbeat (PROTOCOL.md §6 promises one at least every 15 s). */
  SSE_HEARTBEAT_MS: int(10_000, 100, 15_000),
  LOCAL_ENGINE_TOKEN_DELAY_MS: int(0, 0, 10_000),
  /**
   * The learning loop (README "Feedback"): how far users' ratings may move a passage's search
   * score, as a share of it (0.5: between half and one and a half times; 0: ratings change no ranking).
   */
  FEEDBACK_RANKING_MAX_BOOST: z.coerce.number({ error: 'must be a number' }).min(0).max(0.9).default(0.5),
  /** Prior votes of the smoothing: how many votes a passage needs before its ratings move it halfway to the bound. */
  FEEDBACK_RANKING_PRIOR_VOTES: z.coerce.number({ error: 'must be a number' }).min(0.1).max(1000).default(1),
  WORKER_CONCURRENCY: int(16, 1, 1000),
  RUN_STEP_TIMEOUT_MS: int(120_000, 100, 3_600_000),
  /**
   * Steps a plan puts in one stage (agents of the same plan order) run as parallel jobs; `false`
   * runs them one after the other (to compare, or where workers are scarce). Default true.
   */
  RUN_PARALLEL_STEPS: optionalBool.default(true),
  /** JetStream replicas of Herald's streams (3 on a three-node NATS cluster). */
  NATS_STREAM_REPLICAS: int(1, 1, 5),
  /** How long a run request stays with an orchestrator that stopped renewing it (a crashed one). */
  RUNS_ACK_WAIT_MS: int(30_000, 1000, 3_600_000),
  /** BullMQ: a worker's lock on a job; a crashed worker's job is taken over once it lapses. */
  WORKER_LOCK_DURATION_MS: int(30_000, 1000, 3_600_000),
  /** BullMQ: how often workers look for stalled jobs (those whose lock lapsed). */
  WORKER_STALLED_INTERVAL_MS: int(30_000, 500, 3_600_000),
  /** The data agent's read-only connection to the demo dataset; default: DATABASE_URL as user herald_demo_reader. */
  DATA_DATABASE_URL: z
    .string()
    .refine((v) => {
      try {
        return /^postgres(?:ql)?:$/.test(new URL(v).protocol);
      } catch {
        return false;
      }
    }, 'must be a URL (^postgres(ql)?:$)')
    .optional(),
  /** How long a run waits for the user's answer to a clarification or an approval (per step, all waits together). */
  HUMAN_RESPONSE_TIMEOUT_MS: int(300_000, 100, 24 * 3_600_000),
  /**
   * Which model provider library the agents use (the Vercel AI SDK's): `openai-compatible` (any
   * chat completions endpoint at LLM_BASE_URL: vLLM, Ollama, llama.cpp server, OpenAI…), `openai`
   * or `anthropic` (their own APIs; LLM_BASE_URL optional). Unset: `openai-compatible` when
   * LLM_BASE_URL is set, else the local engine.
   */
  LLM_PROVIDER: z.enum(LLM_PROVIDERS).optional(),
  /** An OpenAI-compatible chat completions endpoint, e.g. https://api.openai.com/v1; unset: the local engine. */
  LLM_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  LLM_API_KEY: optionalString,
  LLM_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  /** One attempt of a model call (connect to last token). */
  LLM_TIMEOUT_MS: int(60_000, 100, 600_000),
  /** Retries of a model call answered 429 or 5xx (or cut off), with exponential backoff. */
  LLM_MAX_RETRIES: int(2, 0, 10),
  /** Model calls (steps) of one agent's tool-calling loop: the model picks tools, sees their results, and answers. */
  LLM_MAX_STEPS: int(6, 1, 50),
  /** The price table: USD per million prompt / completion tokens; costUsd is reported when set. */
  LLM_PROMPT_PRICE_PER_MTOK: z.coerce.number({ error: 'must be a number' }).nonnegative().optional(),
  LLM_COMPLETION_PRICE_PER_MTOK: z.coerce.number({ error: 'must be a number' }).nonnegative().optional(),
  /**
   * Daily quotas per user (UTC day, across all gateways; PROTOCOL.md §10): tokens (prompt +
   * completion) and cost in USD. Unset: no quota. Once the day's total reaches one, new runs
   * are refused with QUOTA_EXCEEDED until the next UTC midnight.
   */
  QUOTA_DAILY_TOKENS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .optional(),
  QUOTA_DAILY_COST_USD: z.coerce.number({ error: 'must be a number' }).positive('must be greater than 0').max(1e12).optional(),
  /**
   * The MCP servers whose tools the agents' models may call (`<server>.<tool>`), as JSON: a list
   * of `{ "name", "command", "args", "env" }` (stdio, run by the worker) or `{ "name", "url",
   * "headers" }` (Streamable HTTP), each with `"approval": "auto" | "always" | "never"` and
   * `"timeoutMs"`. Only used with a model (LLM_PROVIDER).
   */
  MCP_SERVERS: mcpServers.optional(),
  /** Webhooks (PROTOCOL.md §10): the URLs that receive run.completed, run.failed and run.cancelled, comma-separated; unset: none. */
  WEBHOOK_URLS: webhookUrls.optional(),
  /** The Standard Webhooks signing secret (whsec_ and base64); required with WEBHOOK_URLS. */
  WEBHOOK_SECRET: z
    .string()
    .superRefine((v, ctx) => {
      const problem = webhookSecretProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Deliver to loopback, private, link-local and unique-local addresses too (default false: refused). */
  WEBHOOK_ALLOW_PRIVATE: optionalBool,
  /** OpenTelemetry: the OTLP/HTTP base URL spans go to (`/v1/traces` is appended); unset: no spans are exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The names of every environment variable Herald reads. */
export const CONFIG_KEYS: readonly string[] = Object.keys(configObject.shape);

export const configSchema = configObject.superRefine((c, ctx) => {
  if (c.JWKS_URL && (!c.JWT_ISSUER || !c.JWT_AUDIENCE)) {
    ctx.addIssue({
      code: 'custom',
      path: [c.JWT_ISSUER ? 'JWT_AUDIENCE' : 'JWT_ISSUER'],
      message: 'is required with JWKS_URL (a key set is usually shared by many applications)',
    });
  }
  if (c.JWKS_URL && new URL(c.JWKS_URL).protocol !== 'https:' && !isLoopbackHost(new URL(c.JWKS_URL).hostname)) {
    ctx.addIssue({ code: 'custom', path: ['JWKS_URL'], message: 'must be https (http only on loopback)' });
  }
  if (c.JWT_SECRET && c.JWT_SECRET.length < 32) {
    ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be at least 32 characters' });
  }
  if (c.LLM_PROVIDER === 'openai-compatible' && !c.LLM_BASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['LLM_BASE_URL'], message: 'is required with LLM_PROVIDER=openai-compatible' });
  }
  if ((c.LLM_PROVIDER === 'openai' || c.LLM_PROVIDER === 'anthropic') && !c.LLM_API_KEY) {
    ctx.addIssue({ code: 'custom', path: ['LLM_API_KEY'], message: `is required with LLM_PROVIDER=${c.LLM_PROVIDER}` });
  }
  if (c.WEBHOOK_URLS && !c.WEBHOOK_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['WEBHOOK_SECRET'],
      message: 'is required with WEBHOOK_URLS (whsec_ and base64, e.g. whsec_$(openssl rand -base64 32))',
    });
  }
  // NATS credentials: a user with its password, a token, or a creds file; one of them.
  if (c.NATS_USER && !c.NATS_PASSWORD) {
    ctx.addIssue({ code: 'custom', path: ['NATS_PASSWORD'], message: 'is required with NATS_USER' });
  }
  if (c.NATS_PASSWORD && !c.NATS_USER) {
    ctx.addIssue({ code: 'custom', path: ['NATS_USER'], message: 'is required with NATS_PASSWORD' });
  }
  const natsMethods = [
    c.NATS_USER || c.NATS_PASSWORD ? 'NATS_USER' : '',
    c.NATS_TOKEN ? 'NATS_TOKEN' : '',
    c.NATS_CREDS ? 'NATS_CREDS' : '',
  ];
  if (natsMethods.filter(Boolean).length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [natsMethods.filter(Boolean)[1]],
      message: 'set only one way to authenticate to NATS: NATS_USER with NATS_PASSWORD, NATS_TOKEN, or NATS_CREDS',
    });
  }
});

export type Config = Omit<z.infer<typeof configSchema>, 'DEV_TOKENS' | 'HOST' | 'WEBHOOK_URLS' | 'WEBHOOK_ALLOW_PRIVATE'> & {
  JWT_SECRET: string;
  DEV_TOKENS: boolean;
  INSTANCE_ID: string;
  HOST: string;
  /** True when the public development secret is in use (JWT_SECRET unset, or set to it). */
  usingDevSecret: boolean;
  /** Empty when unset: no webhooks (nothing consumes or queues for them). */
  WEBHOOK_URLS: readonly string[];
  WEBHOOK_ALLOW_PRIVATE: boolean;
};

export class ConfigError extends Error {}

export interface LoadConfigOptions {
  /**
   * Whether the caller verifies or signs tokens, and so needs JWT_SECRET or JWKS_URL outside
   * development (default true: every service). The database commands (migrate, kb:ingest) do not.
   */
  tokens?: boolean;
}

/** Fail closed: only an explicit development mode runs on the public development secret. */
function secretIssues(c: z.infer<typeof configSchema>): string[] {
  if (c.NODE_ENV === 'development') return [];
  if (!c.JWT_SECRET && !c.JWKS_URL)
    return [`JWT_SECRET: is required (or set JWKS_URL) unless NODE_ENV=development; NODE_ENV is ${c.NODE_ENV}`];
  if (c.JWT_SECRET === DEV_JWT_SECRET) return ['JWT_SECRET: must not be the public development secret unless NODE_ENV=development'];
  return [];
}

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  const issues = result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (result.success && opts.tokens !== false) issues.push(...secretIssues(result.data));
  if (!result.success || issues.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${issues.map((line) => `  ${line}`).join('\n')}`);
  }
  const c = result.data;
  const JWT_SECRET = c.JWT_SECRET ?? DEV_JWT_SECRET;
  const usingDevSecret = JWT_SECRET === DEV_JWT_SECRET;
  return {
    ...c,
    JWT_SECRET,
    INSTANCE_ID: c.INSTANCE_ID ?? `${require('node:os').hostname()}-${process.pid}`,
    HOST: c.HOST ?? (c.NODE_ENV === 'development' ? '127.0.0.1' : '0.0.0.0'),
    LLM_PROVIDER: c.LLM_PROVIDER ?? (c.LLM_BASE_URL ? 'openai-compatible' : undefined),
    // Dev tokens are signed with JWT_SECRET: with a real secret they would be real tokens for anyone.
    DEV_TOKENS: c.NODE_ENV === 'production' ? false : (c.DEV_TOKENS ?? usingDevSecret),
    usingDevSecret,
    WEBHOOK_URLS: c.WEBHOOK_URLS ?? [],
    WEBHOOK_ALLOW_PRIVATE: c.WEBHOOK_ALLOW_PRIVATE ?? false,
  };
}
