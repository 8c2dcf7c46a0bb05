import type { Config } from '@herald/contracts';
import { LocalEngine } from './local/local-engine';
import type { ModelProvider } from './model-provider';
import { OpenAiCompatibleProvider } from './openai/openai-compatible-provider';

type ModelConfig = Pick<
  Config,
  | 'LOCAL_ENGINE_TOKEN_DELAY_MS'
  | 'LLM_BASE_URL'
  | 'LLM_API_KEY'
  | 'LLM_MODEL'
  | 'LLM_TIMEOUT_MS'
  | 'LLM_MAX_RETRIES'
  | 'LLM_PROMPT_PRICE_PER_MTOK'
  | 'LLM_COMPLETION_PRICE_PER_MTOK'
>;

/** The model the configuration asks for: an OpenAI-compatible endpoint when LLM_BASE_URL is set, else the local engine. */
export function createModelProvider(config: ModelConfig): ModelProvider {
  if (!config.LLM_BASE_URL) return new LocalEngine({ tokenDelayMs: config.LOCAL_ENGINE_TOKEN_DELAY_MS });
  return new OpenAiCompatibleProvider({
    baseUrl: config.LLM_BASE_URL,
    apiKey: config.LLM_API_KEY,
    model: config.LLM_MODEL,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    prices: { promptPerMTok: config.LLM_PROMPT_PRICE_PER_MTOK, completionPerMTok: config.LLM_COMPLETION_PRICE_PER_MTOK },
  });
}
