import type { Config } from '@herald/config';
import { LlmProvider } from './llm/llm-provider';
import { LocalEngine } from './local/local-engine';
import type { ModelProvider } from './model-provider';

type ModelConfig = Pick<
  Config,
  | 'LOCAL_ENGINE_TOKEN_DELAY_MS'
  | 'LLM_PROVIDER'
  | 'LLM_BASE_URL'
  | 'LLM_API_KEY'
  | 'LLM_MODEL'
  | 'LLM_TIMEOUT_MS'
  | 'LLM_MAX_RETRIES'
  | 'LLM_MAX_STEPS'
  | 'LLM_PROMPT_PRICE_PER_MTOK'
  | 'LLM_COMPLETION_PRICE_PER_MTOK'
>;

/**
 * The model the configuration asks for: LLM_PROVIDER's (through the AI SDK; `openai-compatible`
 * when only LLM_BASE_URL is set), else the local engine.
 */
export function createModelProvider(config: ModelConfig): ModelProvider {
  const provider = config.LLM_PROVIDER ?? (config.LLM_BASE_URL ? 'openai-compatible' : undefined);
  const prices = { promptPerMTok: config.LLM_PROMPT_PRICE_PER_MTOK, completionPerMTok: config.LLM_COMPLETION_PRICE_PER_MTOK };
  if (!provider) return new LocalEngine({ tokenDelayMs: config.LOCAL_ENGINE_TOKEN_DELAY_MS, prices });
  return new LlmProvider({
    provider,
    baseUrl: config.LLM_BASE_URL,
    apiKey: config.LLM_API_KEY,
    model: config.LLM_MODEL,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    maxSteps: config.LLM_MAX_STEPS,
    prices,
  });
}
