import type {
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
} from '../models/model-provider';

/** A ModelProvider that adds up the usage of every call made through it (one per step). */
export class MeteredModel implements ModelProvider {
  private promptTokens = 0;
  private completionTokens = 0;
  private costUsd: number | undefined;
  private calls = 0;

  /** The inner model's tool loop, metered; absent when the inner model has none (the local engine). */
  readonly runTools?: (request: ToolLoopRequest) => Promise<ToolLoopResult>;

  constructor(private readonly inner: ModelProvider) {
    if (inner.runTools) {
      const runTools = inner.runTools.bind(inner);
      this.runTools = async (request) => {
        const result = await runTools(request);
        this.add(result.usage);
        return result;
      };
    }
  }

  get name(): string {
    return this.inner.name;
  }

  get deterministic(): boolean {
    return this.inner.deterministic;
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const result = await this.inner.complete(request);
    this.add(result.usage);
    return result;
  }

  async classifyIntent(request: IntentRequest): Promise<IntentResult> {
    const result = await this.inner.classifyIntent(request);
    this.add(result.usage);
    return result;
  }

  async generateSql(request: SqlRequest): Promise<SqlResult> {
    const result = await this.inner.generateSql(request);
    this.add(result.usage);
    return result;
  }

  /** The total so far, or undefined if the model was not called. */
  usage(): ModelUsage | undefined {
    if (this.calls === 0) return undefined;
    return {
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      ...(this.costUsd !== undefined ? { costUsd: this.costUsd } : {}),
    };
  }

  private add(usage: ModelUsage) {
    this.calls++;
    this.promptTokens += usage.promptTokens;
    this.completionTokens += usage.completionTokens;
    if (usage.costUsd !== undefined) this.costUsd = (this.costUsd ?? 0) + usage.costUsd;
  }
}
