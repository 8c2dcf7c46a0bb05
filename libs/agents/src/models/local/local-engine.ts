import type {
  ChatMessage,
  CompletionRequest,
  CompletionResult,
  IntentRequest,
  IntentResult,
  ModelProvider,
  SqlRequest,
  SqlResult,
} from '../model-provider';
import { composeDataAnswer } from './data-answer';
import { sqlFromQuestion } from './sql-templates';
import { composeAnswer } from './answer-composer';
import { chitchatReply, notFoundReply } from './chitchat-replies';
import { analyzeIntent } from './intent-classifier';
import { streamTokens } from './token-stream';
import { type ModelPrices, pricedUsage } from '../priced-usage';
import { countTokens } from './tokenize';

export interface LocalEngineOptions {
  /** Pause before each generated token (LOCAL_ENGINE_TOKEN_DELAY_MS). */
  tokenDelayMs?: number;
  /** LLM_PROMPT_PRICE_PER_MTOK / LLM_COMPLETION_PRICE_PER_MTOK: the estimated tokens are priced like a model's. */
  prices?: ModelPrices;
}

/**
 * The default model: no network, no downloaded weights, deterministic. Intent comes from a
 * Naive Bayes classifier trained at load on the labelled phrasings of intent-data/; an answer
 * is composed from the grounding documents with citations, or is a canned reply to small
 * talk; SQL comes from templates; generation is streamed token by token at a configurable pace.
 */
export class LocalEngine implements ModelProvider {
  readonly name = 'local';
  readonly deterministic = true;
  private readonly tokenDelayMs: number;
  private readonly prices: ModelPrices;

  constructor(opts: LocalEngineOptions = {}) {
    this.tokenDelayMs = Math.max(0, opts.tokenDelayMs ?? 0);
    this.prices = opts.prices ?? {};
  }

  async classifyIntent({ text, signal }: IntentRequest): Promise<IntentResult> {
    signal.throwIfAborted();
    const { intent, confidence, reasoning } = analyzeIntent(text);
    return { intent, confidence, reasoning, usage: pricedUsage(countTokens(text), 1, this.prices) };
  }

  /**
   * Templates: the classifier tells a figure from a vague request and from a question about the
   * dataset's own tables; fixed word lists pick the metric, grouping, filters, top N or tables.
   */
  async generateSql({ question, signal }: SqlRequest): Promise<SqlResult> {
    signal.throwIfAborted();
    const plan = sqlFromQuestion(question, analyzeIntent(question).dataKind);
    return { ...plan, usage: pricedUsage(countTokens(question), plan.sql ? countTokens(plan.sql) : 1, this.prices) };
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    request.signal.throwIfAborted();
    const text = this.compose(request);
    await streamTokens(text, { signal: request.signal, delayMs: this.tokenDelayMs, onToken: request.onToken });
    const prompt = [request.system ?? '', ...request.messages.map((m) => m.content), ...(request.documents ?? []).map((d) => d.content)];
    return {
      text,
      model: this.name,
      usage: pricedUsage(countTokens(prompt.join(' ')), countTokens(text), this.prices),
    };
  }

  private compose({ messages, documents = [], data }: CompletionRequest): string {
    const userTurns = messages.filter((m) => m.role === 'user');
    const query = userTurns[userTurns.length - 1]?.content ?? '';
    const previousQuery = userTurns[userTurns.length - 2]?.content ?? '';
    if (data) {
      const figures = composeDataAnswer(data);
      return documents.length > 0
        ? `${figures}\n\n**From the documentation**\n\n${composeAnswer(query, documents, previousQuery)}`
        : figures;
    }
    if (documents.length > 0) return composeAnswer(query, documents, previousQuery);

    const turn = countAssistantTurns(messages);
    const analysis = analyzeIntent(query);
    return analysis.intent === 'chitchat' ? chitchatReply(query, analysis.social ?? 'other', turn) : notFoundReply(query, turn);
  }
}

function countAssistantTurns(messages: readonly ChatMessage[]): number {
  return messages.filter((m) => m.role === 'assistant').length;
}
