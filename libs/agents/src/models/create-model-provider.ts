import type { Config } from '@herald/contracts';
import { LocalEngine } from './local/local-engine';
import type { ModelProvider } from './model-provider';

/** The model the configuration asks for. Today: the local engine (an OpenAI-compatible provider comes next). */
export function createModelProvider(config: Pick<Config, 'LOCAL_ENGINE_TOKEN_DELAY_MS'>): ModelProvider {
  return new LocalEngine({ tokenDelayMs: config.LOCAL_ENGINE_TOKEN_DELAY_MS });
}
