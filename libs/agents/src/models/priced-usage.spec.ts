import { LocalEngine } from './local/local-engine';
import { pricedUsage } from './priced-usage';

describe('pricedUsage', () => {
  it('prices prompt and completion tokens per million, only when a price is set', () => {
    expect(pricedUsage(1000, 500)).toEqual({ promptTokens: 1000, completionTokens: 500 });
    expect(pricedUsage(1000, 500, { promptPerMTok: 3, completionPerMTok: 15 })).toEqual({
      promptTokens: 1000,
      completionTokens: 500,
      costUsd: 0.0105,
    });
    expect(pricedUsage(1_000_000, 7, { completionPerMTok: 1 })).toEqual({
      promptTokens: 1_000_000,
      completionTokens: 7,
      costUsd: 0.000007,
    });
  });

  it('prices the local engine’s estimated tokens like a model’s', async () => {
    const engine = new LocalEngine({ prices: { promptPerMTok: 1_000_000, completionPerMTok: 2_000_000 } });
    const signal = new AbortController().signal;
    const { usage } = await engine.complete({ messages: [{ role: 'user', content: 'What is NATS?' }], signal });
    expect(usage.promptTokens).toBeGreaterThan(0);
    expect(usage.completionTokens).toBeGreaterThan(0);
    expect(usage.costUsd).toBeCloseTo(usage.promptTokens + 2 * usage.completionTokens, 6);
    expect((await new LocalEngine().complete({ messages: [{ role: 'user', content: 'hi' }], signal })).usage.costUsd).toBeUndefined();
  });
});
