import { createLanguageModel, createModelProvider, LlmProvider, LocalEngine, type ModelProvider } from '@herald/agents';
import { loadConfig } from '@herald/config';

const DEV = { NODE_ENV: 'development' };

describe('createModelProvider and createLanguageModel', () => {
  it('is the local engine without LLM_PROVIDER and LLM_BASE_URL, LlmProvider with either', () => {
    expect(createModelProvider(loadConfig(DEV))).toBeInstanceOf(LocalEngine);
    const compatible = createModelProvider(loadConfig({ ...DEV, LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'llama3.2' }));
    expect(compatible).toBeInstanceOf(LlmProvider);
    expect(compatible).toMatchObject({ name: 'llama3.2', deterministic: false });
    expect(typeof compatible.runTools).toBe('function');
    expect(createModelProvider(loadConfig({ ...DEV, LLM_PROVIDER: 'anthropic', LLM_API_KEY: 'k', LLM_MODEL: 'claude-x' }))).toBeInstanceOf(
      LlmProvider,
    );
    expect((new LocalEngine() as ModelProvider).runTools).toBeUndefined();
  });

  it.each([
    ['openai-compatible', 'llm.chat'],
    ['openai', 'openai.responses'],
    ['anthropic', 'anthropic.messages'],
  ] as const)('LLM_PROVIDER=%s makes the AI SDK model of %s', (provider, name) => {
    const model = createLanguageModel({ provider, baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', model: 'm-1', timeoutMs: 1_000 });
    expect(model).toMatchObject({ provider: name, modelId: 'm-1' });
  });

  it('refuses openai-compatible without a base URL', () => {
    expect(() => createLanguageModel({ provider: 'openai-compatible', model: 'm', timeoutMs: 1_000 })).toThrow(/base URL/);
  });
});
