import { INTENTS, type Intent } from '@herald/contracts';
import { type LlmProviderName } from '@herald/config';
import {
  generateText,
  jsonSchema,
  type LanguageModel,
  type LanguageModelUsage,
  type ModelMessage,
  stepCountIs,
  streamText,
  tool,
  type ToolSet,
} from 'ai';
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
  ToolLoopRequest,
  ToolLoopResult,
} from '../model-provider';
import { type ModelPrices, pricedUsage } from '../priced-usage';
import { createLanguageModel } from './language-model';
import { LlmError, toLlmError } from './llm-error';

export interface LlmProviderOptions {
  /** Default `openai-compatible`. */
  provider?: LlmProviderName;
  /** e.g. `https://api.openai.com/v1`; the openai-compatible provider posts to `<baseUrl>/chat/completions`. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** One HTTP attempt, from the request to the last byte. */
  timeoutMs: number;
  /**
   * Retries (the AI SDK's) of a call answered 429 or 5xx, or that got no answer in time: backoff
   * from 2 s doubling, or the endpoint's Retry-After; never once the answer has started streaming.
   */
  maxRetries: number;
  /** USD per million tokens; costUsd is reported when given. */
  prices?: ModelPrices;
  /** Model calls of a tool loop when the request does not say (LLM_MAX_STEPS; default 6). */
  maxSteps?: number;
  /** The AI SDK model to call instead of the one `provider` makes (tests, other AI SDK providers). */
  languageModel?: LanguageModel;
}

interface ForcedTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

const INTENT_TOOL: ForcedTool = {
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

const SQL_TOOL: ForcedTool = {
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

export const DEFAULT_MAX_STEPS = 6;

/**
 * A real model through the Vercel AI SDK (`ai`): an OpenAI-compatible endpoint (OpenAI, vLLM,
 * Ollama, llama.cpp server), OpenAI's or Anthropic's API. Streamed completions, the tool loop
 * (`streamText` with tools, `stopWhen: stepCountIs(n)`), forced tool calls for intent and SQL,
 * a deadline per HTTP attempt, the SDK's retries on 429/5xx, cancellation through the abort
 * signal, usage and cost. Failures are LlmErrors whose message users may read.
 */
export class LlmProvider implements ModelProvider {
  readonly name: string;
  readonly deterministic = false;
  private readonly model: LanguageModel;

  constructor(private readonly opts: LlmProviderOptions) {
    this.name = opts.model;
    this.model =
      opts.languageModel ??
      createLanguageModel({
        provider: opts.provider ?? 'openai-compatible',
        baseUrl: opts.baseUrl,
        apiKey: opts.apiKey,
        model: opts.model,
        timeoutMs: opts.timeoutMs,
      });
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    if (request.onToken) {
      const { text, usage, model } = await this.loop({ ...request, tools: [], maxSteps: 1 });
      return { text, usage, model };
    }
    const system = systemPrompt(request);
    try {
      const res = await generateText({
        model: this.model,
        ...(system ? { system } : {}),
        messages: modelMessages(request.messages),
        maxRetries: this.opts.maxRetries,
        abortSignal: request.signal,
        ...(request.maxTokens ? { maxOutputTokens: request.maxTokens } : {}),
      });
      return {
        text: res.text,
        usage: this.cost(res.usage, [system, ...request.messages.map((m) => m.content)], res.text),
        model: this.name,
      };
    } catch (err) {
      request.signal.throwIfAborted();
      throw toLlmError(err);
    }
  }

  runTools(request: ToolLoopRequest): Promise<ToolLoopResult> {
    return this.loop(request);
  }

  async classifyIntent({ text, history = [], signal }: IntentRequest): Promise<IntentResult> {
    const res = await this.forcedCall(
      INTENT_TOOL,
      'Classify the last user message: chitchat (small talk), question (about Herald and its documentation), ' +
        'data (figures from the sales dataset: revenue, units, orders, customers, products), report (a written report).',
      [...history.map((m) => ({ role: m.role, content: m.content }) as ChatMessage), { role: 'user', content: text }],
      signal,
    );
    const args = res.input as { intent?: unknown; confidence?: unknown; reasoning?: unknown };
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
    const res = await this.forcedCall(
      SQL_TOOL,
      `Write one read-only PostgreSQL SELECT over these tables only (always schema-qualified):\n${schema}\nNo comments, no semicolons. Ask a clarification when the question is ambiguous.`,
      [{ role: 'user', content: retries ? `${question}\n\nFix the query; earlier tries were refused:\n${retries}` : question }],
      signal,
    );
    const a = (res.input ?? {}) as Record<string, unknown>;
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

  /** One model call that must call `spec` (tool_choice names it): its arguments, unvalidated (the callers check them). */
  private async forcedCall(
    spec: ForcedTool,
    system: string,
    messages: ChatMessage[],
    signal: AbortSignal,
  ): Promise<{ input: unknown; usage: ModelUsage }> {
    try {
      const res = await generateText({
        model: this.model,
        system,
        messages: modelMessages(messages),
        tools: { [spec.name]: tool({ description: spec.description, inputSchema: jsonSchema<unknown>(spec.parameters) }) },
        toolChoice: { type: 'tool', toolName: spec.name },
        maxRetries: this.opts.maxRetries,
        abortSignal: signal,
      });
      const call = res.toolCalls.find((c) => c.toolName === spec.name);
      if (!call) throw new LlmError('The language model did not call the expected tool.', true, `finish: ${res.finishReason}`);
      if (call.invalid) throw new LlmError('The language model sent malformed tool arguments.', true, String(call.error).slice(0, 200));
      const text = JSON.stringify(call.input ?? {});
      return { input: call.input, usage: this.cost(res.usage, [system, ...messages.map((m) => m.content)], text) };
    } catch (err) {
      signal.throwIfAborted();
      throw toLlmError(err);
    }
  }

  /**
   * `streamText`: the text of every step streamed through onToken (steps after the first
   * that had text are set apart by a blank line), reasoning handed on block by block, the
   * tools run as the model calls them (those of one turn in parallel). The last step may
   * not call tools, so the loop always ends with an answer.
   */
  private async loop(request: ToolLoopRequest): Promise<ToolLoopResult> {
    const system = systemPrompt(request);
    const maxSteps = Math.max(1, request.maxSteps ?? this.opts.maxSteps ?? DEFAULT_MAX_STEPS);
    const tools = toolSet(request);
    const hasTools = Object.keys(tools).length > 0;
    const result = streamText({
      model: this.model,
      ...(system ? { system } : {}),
      messages: modelMessages(request.messages),
      ...(hasTools
        ? {
            tools,
            stopWhen: stepCountIs(maxSteps),
            prepareStep: ({ stepNumber }: { stepNumber: number }) => (stepNumber >= maxSteps - 1 ? { toolChoice: 'none' as const } : {}),
          }
        : {}),
      maxRetries: this.opts.maxRetries,
      abortSignal: request.signal,
      ...(request.maxTokens ? { maxOutputTokens: request.maxTokens } : {}),
      // Errors are read from the stream below; the default handler would print them.
      onError: () => undefined,
    });
    let text = '';
    let index = 0;
    let steps = 0;
    let textStep = -1;
    let usage: LanguageModelUsage | undefined;
    const reasoning = new Map<string, string>();
    try {
      for await (const part of result.fullStream) {
        switch (part.type) {
          case 'start-step':
            steps++;
            break;
          case 'text-delta': {
            if (!part.text) break;
            const gap = text && textStep !== steps && !/\s$/.test(text) ? '\n\n' : '';
            textStep = steps;
            const delta = gap + part.text;
            text += delta;
            await request.onToken?.({ delta, index: index++ });
            break;
          }
          case 'reasoning-delta':
            reasoning.set(part.id, (reasoning.get(part.id) ?? '') + part.text);
            break;
          case 'reasoning-end': {
            const thought = reasoning.get(part.id)?.trim();
            reasoning.delete(part.id);
            if (thought) await request.onReasoning?.(thought);
            break;
          }
          case 'finish':
            usage = part.totalUsage;
            break;
          case 'error':
            throw part.error;
          case 'abort':
            request.signal.throwIfAborted();
            throw new LlmError('The language model stopped answering.', true, 'stream aborted');
          // Not read here: text and reasoning come in their deltas, steps in start-step, tool calls
          // run inside streamText's loop (toolSet's execute), files and sources are no part of an answer.
          case 'start':
          case 'text-start':
          case 'text-end':
          case 'reasoning-start':
          case 'finish-step':
          case 'tool-input-start':
          case 'tool-input-delta':
          case 'tool-input-end':
          case 'tool-call':
          case 'tool-result':
          case 'tool-error':
          case 'tool-output-denied':
          case 'tool-approval-request':
          case 'source':
          case 'file':
          case 'raw':
            break;
        }
      }
    } catch (err) {
      request.signal.throwIfAborted();
      throw toLlmError(err);
    }
    request.signal.throwIfAborted();
    return {
      text,
      usage: this.cost(usage, [system, ...request.messages.map((m) => m.content)], text),
      model: this.name,
      steps,
    };
  }

  private cost(usage: LanguageModelUsage | undefined, prompt: Array<string | undefined>, text: string): ModelUsage {
    const promptTokens = usage?.inputTokens ?? estimateTokens(prompt.filter(Boolean).join(' '));
    const completionTokens = usage?.outputTokens ?? estimateTokens(text);
    return pricedUsage(promptTokens, completionTokens, this.opts.prices);
  }
}

/** The request's tools as an AI SDK tool set, each running through its ModelTool. */
function toolSet(request: ToolLoopRequest): ToolSet {
  const set: ToolSet = {};
  for (const t of request.tools) {
    if (set[t.name]) throw new Error(`two tools are named "${t.name}"`);
    set[t.name] = tool({
      description: t.description,
      inputSchema: jsonSchema<unknown>(t.inputSchema),
      execute: (input: unknown, { toolCallId, abortSignal }) => t.execute(input, { toolCallId, signal: abortSignal ?? request.signal }),
    });
  }
  return set;
}

function systemPrompt(request: CompletionRequest): string {
  return [request.system, documentsPrompt(request.documents ?? [])].filter(Boolean).join('\n\n');
}

function modelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((m) => ({ role: m.role, content: m.content }) as ModelMessage);
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
