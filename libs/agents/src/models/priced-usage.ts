import type { ModelUsage } from './model-provider';

/** The price table (LLM_PROMPT_PRICE_PER_MTOK / LLM_COMPLETION_PRICE_PER_MTOK): USD per million tokens. */
export interface ModelPrices {
  promptPerMTok?: number;
  completionPerMTok?: number;
}

/**
 * A call's usage with its cost, for any model (the local engine's estimated tokens included):
 * `costUsd` only when a price is set, rounded to 1e-8 USD.
 */
export function pricedUsage(promptTokens: number, completionTokens: number, prices: ModelPrices = {}): ModelUsage {
  const { promptPerMTok, completionPerMTok } = prices;
  if (promptPerMTok === undefined && completionPerMTok === undefined) return { promptTokens, completionTokens };
  const costUsd = ((promptPerMTok ?? 0) * promptTokens + (completionPerMTok ?? 0) * completionTokens) / 1_000_000;
  return { promptTokens, completionTokens, costUsd: Math.round(costUsd * 1e8) / 1e8 };
}
