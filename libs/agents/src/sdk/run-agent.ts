import type { AgentJobResult, HistoryMessage, TraceLevel } from '@herald/contracts';
import type { ModelProvider } from '../models/model-provider';
import type { AgentResources, StepInfo } from './agent-context';
import type { AgentDefinition, AgentOutput } from './agent-definition';
import { AgentInputError } from './errors';
import { type HumanChannel, SILENT_HUMAN_CHANNEL } from './human-channel';
import type { EventSink } from './event-sink';
import { MeteredModel } from './metered-model';
import { StepContext } from './step-context';

export interface RunAgentOptions {
  step: StepInfo;
  /** The job's input, validated here with the agent's schema. */
  input: unknown;
  history: readonly HistoryMessage[];
  traceLevel: TraceLevel;
  sink: EventSink;
  model: ModelProvider;
  resources: AgentResources;
  signal: AbortSignal;
  /** Where the answers to ask()/approve() come from (default: nobody answers). */
  human?: HumanChannel;
  /** The step's budget for waiting on the user (HUMAN_RESPONSE_TIMEOUT_MS; default 5 minutes). */
  humanResponseTimeoutMs?: number;
}

export const DEFAULT_HUMAN_RESPONSE_TIMEOUT_MS = 300_000;

/**
 * Runs one step: validates the input (AgentInputError, nothing emitted), emits
 * `agent_started`, runs the agent, emits `agent_completed` with its duration, summary and
 * usage, and returns the job result. On abort or failure no `agent_completed` is emitted:
 * the error propagates (an abort rejects with the signal's reason).
 */
export async function runAgent<I, O extends AgentOutput>(agent: AgentDefinition<I, O>, opts: RunAgentOptions): Promise<AgentJobResult> {
  const input = parseInput(agent, opts.input);
  const model = new MeteredModel(opts.model);
  const ctx = new StepContext({
    ...opts,
    agent,
    model,
    human: opts.human ?? SILENT_HUMAN_CHANNEL,
    humanResponseTimeoutMs: opts.humanResponseTimeoutMs ?? DEFAULT_HUMAN_RESPONSE_TIMEOUT_MS,
  });
  opts.signal.throwIfAborted();

  const startedAt = performance.now();
  await ctx.started();
  const output = await agent.run(ctx, input);
  opts.signal.throwIfAborted();
  const usage = model.usage();
  await ctx.completed(performance.now() - startedAt, agent.summarize?.(output), usage);
  return {
    output,
    ...(usage ? { usage } : {}),
  };
}

function parseInput<I, O extends AgentOutput>(agent: AgentDefinition<I, O>, input: unknown): I {
  if (!agent.input) return input as I;
  const parsed = agent.input.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw new AgentInputError(agent.name, issues.join('; '));
}
