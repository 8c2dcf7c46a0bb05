import { INTENTS, type Intent } from '@herald/contracts';
import type {
  ChatMessage,
  CompletionRequest,
  CompletionResult,
  IntentRequest,
  IntentResult,
  ModelProvider,
  ModelUsage,
  SqlRequest,
  SqlResult,
} from '../model-provider';
import { LlmError } from './llm-error';
import { sseData } from './sse-lines';

export interface OpenAiCompatibleOptions {
  /** e.g. `https://api.openai.com/v1`; requests go to `<baseUrl>/chat/completions`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** One attempt, from the request to the last byte. */
  timeoutMs: number;
  /** Retries after a 429, a 5xx, a timeout or a network error (never once tokens were handed on). */
  maxRetries: number;
  /** USD per million tokens; costUsd is reported when given. */
  prices?: { promptPerMTok?: number; completionPerMTok?: number };
  /** First backoff; doubles each retry (Retry-After wins when the endpoint sends one); see retryDelayMs. */
  backoffMs?: number;
}

interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

interface ChatRequest {
  messages: ChatMessage[];
  signal: AbortSignal;
  onToken?: CompletionRequest['onToken'];
  maxTokens?: number;
  /** Forces a call of this tool; its parsed arguments are returned. */
  tool?: ToolSpec;
}

interface ChatResponse {
  text: string;
  toolArguments?: unknown;
  usage: ModelUsage;
}

/** The longest wait between two attempts, whatever the backoff or the endpoint's Retry-After says. */
export const MAX_RETRY_DELAY_MS = 10_000;

const INTENT_TOOL: ToolSpec = {
  name: 'classify_intent',
  description: 'Classify what the last user message asks for.',
  parameters: {
    type: 'object',
    properties: {
      intent: { type: 'string', enum: [...INTENTS] },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      reasoning: { type: 'string', description: 'One or two sentences for the user: why this intent.' },
    },
    required: ['intent', 'confidence', 'reasoning'],
  },
};

const SQL_TOOL: ToolSpec = {
  name: 'write_sql',
  description: 'Write one PostgreSQL SELECT statement answering the question over the given tables, or ask for a clarification.',
  parameters: {
    type: 'object',
    properties: {
      sql: { type: 'string', description: 'One SELECT statement; omit when a clarification is needed.' },
      title: { type: 'string', description: 'What the result shows, in a few words.' },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      reasoning: { type: 'string' },
      clarification: {
        type: 'object',
        properties: { question: { type: 'string' }, choices: { type: 'array', items: { type: 'string' } } },
      },
    },
    required: ['title', 'confidence', 'reasoning'],
  },
};

/**
 * Any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server):
 * streamed completions, forced tool calls for intent and SQL, a timeout per attempt, retries
 * with exponential backoff on 429/5xx, cancellation through the abort signal, usage and cost.
 */
export class OpenAiCompatibleProvider implements ModelProvider {
  readonly name: string;
  readonly deterministic = false;
  private readonly url: string;

  constructor(private readonly opts: OpenAiCompatibleOptions) {
    this.name = opts.model;
    this.url = `${opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const system = [request.system, documentsPrompt(request.documents ?? [])].filter(Boolean).join('\n\n');
    const messages: ChatMessage[] = [...(system ? [{ role: 'system' as const, content: system }] : []), ...request.messages];
    const res = await this.chat({ messages, signal: request.signal, onToken: request.onToken, maxTokens: request.maxTokens });
    return { text: res.text, usage: res.usage, model: this.opts.model };
  }

  async classifyIntent({ text, history = [], signal }: IntentRequest): Promise<IntentResult> {
    const res = await this.chat({
      messages: [
        {
          role: 'system',
          content:
            'Classify the last user message: chitchat (small talk), question (about Herald and its documentation), ' +
            'data (figures from the sales dataset: revenue, units, orders, customers, products), report (a written report).',
        },
        ...history.map((m) => ({ role: m.role, content: m.content }) as ChatMessage),
        { role: 'user', content: text },
      ],
      tool: INTENT_TOOL,
      signal,
    });
    const args = res.toolArguments as { intent?: unknown; confidence?: unknown; reasoning?: unknown };
    const intent: Intent = INTENTS.includes(args?.intent as Intent) ? (args.intent as Intent) : 'question';
    return {
      intent,
      confidence: clamp(Number(args?.confidence ?? 0.5)),
      reasoning: String(args?.reasoning ?? 'Classified by the model.'),
      usage: res.usage,
    };
  }

  async generateSql({ question, schema, attempts = [], signal }: SqlRequest): Promise<SqlResult> {
    const retries = attempts.map((a, i) => `Attempt ${i + 1}: ${a.sql}\nRefused: ${a.error}`).join('\n\n');
    const res = await this.chat({
      messages: [
        {
          role: 'system',
          content: `Write one read-only PostgreSQL SELECT over these tables only (always schema-qualified):\n${schema}\nNo comments, no semicolons. Ask a clarification when the question is ambiguous.`,
        },
        { role: 'user', content: retries ? `${question}\n\nFix the query; earlier tries were refused:\n${retries}` : question },
      ],
      tool: SQL_TOOL,
      signal,
    });
    const a = (res.toolArguments ?? {}) as Record<string, unknown>;
    const clarification = a.clarification as { question?: unknown; choices?: unknown } | undefined;
    return {
      ...(typeof a.sql === 'string' && a.sql.trim() ? { sql: a.sql.trim() } : {}),
      title: typeof a.title === 'string' ? a.title : 'Query',
      confidence: clamp(Number(a.confidence ?? 0.5)),
      reasoning: typeof a.reasoning === 'string' ? a.reasoning : 'Written by the model.',
      ...(clarification && typeof clarification.question === 'string'
        ? {
            clarification: {
              question: clarification.question,
              ...(Array.isArray(clarification.choices) ? { choices: clarification.choices.map(String) } : {}),
            },
          }
        : {}),
      usage: res.usage,
    };
  }

  /** One chat completion, retried while nothing has been handed to the caller yet. */
  private async chat(request: ChatRequest): Promise<ChatResponse> {
    let emitted = false;
    const onToken = request.onToken
      ? async (chunk: Parameters<NonNullable<CompletionRequest['onToken']>>[0]) => {
          emitted = true;
          await request.onToken!(chunk);
        }
      : undefined;
    for (let attempt = 0; ; attempt++) {
      request.signal.throwIfAborted();
      try {
        return await this.attempt({ ...request, onToken });
      } catch (err) {
        request.signal.throwIfAborted();
        const error = err instanceof LlmError ? err : new LlmError('The language model could not be reached.', true, String(err));
        if (!error.retryable || emitted || attempt >= this.opts.maxRetries) throw error;
        await sleep(retryDelayMs(attempt, this.opts.backoffMs ?? 500, error.retryAfter), request.signal);
      }
    }
  }

  private async attempt({ messages, signal, onToken, maxTokens, tool }: ChatRequest): Promise<ChatResponse> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const stream = !!onToken;
    const body = {
      model: this.opts.model,
      messages,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      ...(maxTokens ? { max_tokens: maxTokens } : {}),
      ...(tool ? { tools: [{ type: 'function', function: tool }], tool_choice: { type: 'function', function: { name: tool.name } } } : {}),
    };
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) },
        body: JSON.stringify(body),
        signal: combined,
      });
      if (!res.ok) throw await statusError(res);
      const parsed = stream && res.body ? await readStream(res.body, onToken!) : readJson(await res.json());
      const toolArguments = tool ? parseArguments(parsed.toolArguments) : undefined;
      return { text: parsed.text, usage: this.cost(parsed.usage, messages, parsed.text), ...(tool ? { toolArguments } : {}) };
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted)
        throw new LlmError('The language model took too long to answer.', true, `timeout after ${this.opts.timeoutMs} ms`);
      throw err;
    }
  }

  private cost(
    usage: { prompt_tokens?: number; completion_tokens?: number } | undefined,
    messages: ChatMessage[],
    text: string,
  ): ModelUsage {
    const promptTokens = usage?.prompt_tokens ?? estimateTokens(messages.map((m) => m.content).join(' '));
    const completionTokens = usage?.completion_tokens ?? estimateTokens(text);
    const { promptPerMTok, completionPerMTok } = this.opts.prices ?? {};
    const priced = promptPerMTok !== undefined || completionPerMTok !== undefined;
    const costUsd = ((promptPerMTok ?? 0) * promptTokens + (completionPerMTok ?? 0) * completionTokens) / 1_000_000;
    return { promptTokens, completionTokens, ...(priced ? { costUsd: Math.round(costUsd * 1e8) / 1e8 } : {}) };
  }
}

interface Parsed {
  text: string;
  toolArguments?: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

async function readStream(body: ReadableStream<Uint8Array>, onToken: NonNullable<CompletionRequest['onToken']>): Promise<Parsed> {
  let text = '';
  let args = '';
  let usage: Parsed['usage'];
  let index = 0;
  let done = false;
  for await (const data of sseData(body)) {
    if (data === '[DONE]') {
      done = true;
      break;
    }
    let chunk: {
      choices?: Array<{ delta?: { content?: string; tool_calls?: Array<{ function?: { arguments?: string } }> } }>;
      usage?: Parsed['usage'];
      error?: unknown;
    };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new LlmError('The language model sent a malformed stream.', true, data.slice(0, 200));
    }
    if (chunk.error) throw new LlmError('The language model failed while answering.', true, JSON.stringify(chunk.error).slice(0, 500));
    if (chunk.usage) usage = chunk.usage;
    const delta = chunk.choices?.[0]?.delta;
    for (const call of delta?.tool_calls ?? []) args += call.function?.arguments ?? '';
    if (delta?.content) {
      text += delta.content;
      await onToken({ delta: delta.content, index: index++ });
    }
  }
  if (!done) throw new LlmError('The language model stopped in the middle of its answer.', true, 'stream ended without [DONE]');
  return { text, usage, ...(args ? { toolArguments: args } : {}) };
}

function readJson(json: unknown): Parsed {
  const body = json as {
    choices?: Array<{ message?: { content?: string | null; tool_calls?: Array<{ function?: { arguments?: string } }> } }>;
    usage?: Parsed['usage'];
  };
  const message = body.choices?.[0]?.message;
  if (!message) throw new LlmError('The language model sent an empty answer.', true, JSON.stringify(json).slice(0, 200));
  const args = message.tool_calls?.[0]?.function?.arguments;
  return { text: message.content ?? '', usage: body.usage, ...(args ? { toolArguments: args } : {}) };
}

function parseArguments(args: string | undefined): unknown {
  if (!args) throw new LlmError('The language model did not call the expected tool.', true);
  try {
    return JSON.parse(args);
  } catch {
    throw new LlmError('The language model sent malformed tool arguments.', true, args.slice(0, 200));
  }
}

async function statusError(res: Response): Promise<LlmError> {
  const detail = `${res.status} ${(await res.text().catch(() => '')).slice(0, 500)}`;
  const retryable = res.status === 429 || res.status >= 500;
  return new LlmError(
    res.status === 429
      ? 'The language model is busy right now.'
      : retryable
        ? 'The language model failed.'
        : 'The language model refused the request.',
    retryable,
    detail,
    res.headers.get('retry-after') ?? undefined,
  );
}

/**
 * How long to wait before retry `attempt` (0 for the first retry): the endpoint's
 * Retry-After when it asks for a wait (delay-seconds or an HTTP date), else `backoffMs`
 * doubling with each retry; never more than MAX_RETRY_DELAY_MS. No jitter: one run's
 * retries are sequential, and a Retry-After is already the server's own spreading.
 */
export function retryDelayMs(attempt: number, backoffMs: number, retryAfter?: string, now = Date.now()): number {
  const header = retryAfter?.trim();
  const asked = !header ? NaN : /^\d+(\.\d+)?$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  const delay = asked > 0 ? asked : backoffMs * 2 ** attempt;
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, delay));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

function documentsPrompt(docs: NonNullable<CompletionRequest['documents']>): string {
  return docs.map((d, i) => `[${i + 1}] ${d.title}\n${d.content}`).join('\n\n');
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function clamp(n: number): number {
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0.5;
}
