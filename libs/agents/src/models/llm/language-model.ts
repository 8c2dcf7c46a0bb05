import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LlmProviderName } from '@herald/config';
import { APICallError, type LanguageModel } from 'ai';
import { ATTEMPT_TIMEOUT } from './llm-error';

export interface LanguageModelOptions {
  provider: LlmProviderName;
  /** The endpoint: required for `openai-compatible`; for `openai` and `anthropic`, their own API when unset. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** One HTTP attempt, from the request to the last byte of the answer. */
  timeoutMs: number;
}

/** The AI SDK model for the configured provider; every HTTP attempt is bounded by `timeoutMs`. */
export function createLanguageModel(opts: LanguageModelOptions): LanguageModel {
  const fetch = timeoutFetch(opts.timeoutMs);
  // Without trailing slashes; (?<!\/) tries the run once, not again from each of its slashes.
  const baseURL = opts.baseUrl?.replace(/(?<!\/)\/+$/, '');
  switch (opts.provider) {
    case 'openai-compatible':
      if (!baseURL) throw new Error('the openai-compatible provider needs a base URL (LLM_BASE_URL)');
      // includeUsage: streamed answers end with the token counts (stream_options.include_usage).
      return createOpenAICompatible({ name: 'llm', baseURL, apiKey: opts.apiKey, includeUsage: true, fetch }).chatModel(opts.model);
    case 'openai':
      return createOpenAI({ apiKey: opts.apiKey, ...(baseURL ? { baseURL } : {}), fetch })(opts.model);
    case 'anthropic':
      return createAnthropic({ apiKey: opts.apiKey, ...(baseURL ? { baseURL } : {}), fetch })(opts.model);
  }
}

/**
 * `fetch` with a deadline per attempt, covering the response body too (the stream is cut
 * when it passes). A deadline passed before the response came is a retryable APICallError,
 * so the AI SDK's own retries (maxRetries) try again; one passed while the answer streams
 * ends that stream with a TimeoutError (never retried: text may have been handed on).
 */
export function timeoutFetch(timeoutMs: number, inner: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      return await inner(input, { ...init, signal });
    } catch (err) {
      if (!deadline.aborted || init?.signal?.aborted) throw err;
      throw new APICallError({
        message: `no response within ${timeoutMs} ms`,
        url: String(input instanceof Request ? input.url : input),
        requestBodyValues: undefined,
        isRetryable: true,
        data: ATTEMPT_TIMEOUT,
        cause: err,
      });
    }
  };
}
