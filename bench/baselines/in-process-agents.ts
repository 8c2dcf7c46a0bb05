/**
 * Herald's agents run in-process, as the direct baseline and the LangGraph peer run them
 * (libs/agents: the built-in agents, runAgent, the local engine, the knowledge base in
 * Postgres through PgKnowledgeBase), each step with the worker's own event sink (same delta
 * coalescing, same progress) over a publisher that hands each event on instead of
 * publishing it to JetStream. The supervisor's flow is split in its three steps so a graph
 * can run them as its nodes.
 */
import { AgentRegistry, builtInAgents, LocalEngine, PgKnowledgeBase, runAgent, type AgentResources } from '@herald/agents';
import { AGENT, type AgentJob, type EventData, type EventType, type StoredEvent, type TraceLevel } from '@herald/contracts';
import type { PublishOptions, RunScope } from '@herald/messaging';
import type { Logger } from '@herald/observability';
import { Pool } from 'pg';
import { JobEventSink } from '../../apps/worker/src/jobs/job-event-sink';
import { IdClock } from '../lib/relay-event';

const PROGRESS = { started: 0.02, triage: [0.05, 0.15], knowledge: [0.15, 0.5], reporting: [0.5, 0.97] } as const;
const quietLogger = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;

export interface InProcessRun extends RunScope {
  messageId: string;
  question: string;
  traceLevel: TraceLevel;
  stream: boolean;
}

/** What one run's steps hand on to the next. */
export interface FlowState {
  startedAt: number;
  step: number;
  findings: Record<string, unknown>;
  plan: string[];
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
}

/** Where a run's events go: each gets the next id and is handed to `emit`. */
export type EmitEvent = (userId: string, event: StoredEvent & { id: string }) => void;

/** EventPublisher's interface over `emit`. */
function publisherOf(ids: IdClock, emit: EmitEvent) {
  return {
    async publish<T extends EventType>(
      scope: RunScope,
      type: T,
      data: EventData<T>,
      opts: Omit<PublishOptions, 'msgId'> & { msgId?: string },
    ): Promise<number> {
      const id = ids.next();
      emit(scope.userId, {
        id,
        type,
        runId: scope.runId,
        conversationId: scope.conversationId,
        ts: new Date().toISOString(),
        progress: Math.round(opts.progress * 1000) / 1000,
        data,
        ...(opts.trace ? { trace: opts.trace } : {}),
      } as StoredEvent & { id: string });
      return Number(id);
    },
  };
}

export class InProcessAgents {
  private readonly pool: Pool;
  private readonly resources: AgentResources;
  private readonly engine = new LocalEngine({ tokenDelayMs: 0 });
  private readonly registry = new AgentRegistry(builtInAgents);
  private readonly ids = new IdClock();

  constructor(databaseUrl: string) {
    this.pool = new Pool({ connectionString: databaseUrl, options: '-c default_transaction_read_only=on', max: 10 });
    this.pool.on('error', () => undefined);
    this.resources = { knowledgeBase: new PgKnowledgeBase(this.pool), agents: this.registry };
  }

  newFlow(run: InProcessRun): FlowState {
    return {
      startedAt: Date.now(),
      step: 0,
      findings: { question: run.question, intent: 'question', passages: [] },
      plan: [],
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    };
  }

  /** `orchestration_started`, then the triage step: the intent and the plan. */
  async triage(run: InProcessRun, flow: FlowState, emit: EmitEvent): Promise<FlowState> {
    await publisherOf(this.ids, emit).publish(run, 'orchestration_started', {}, { progress: PROGRESS.started });
    const { output, next } = await this.runStep(run, flow, AGENT.triage, PROGRESS.triage, emit);
    const findings = { ...next.findings, intent: typeof output.intent === 'string' ? output.intent : 'question' };
    return { ...next, findings, plan: Array.isArray(output.plan) ? (output.plan as string[]) : [] };
  }

  /** The knowledge step (its tool call searches the knowledge base), when the plan has it. */
  async knowledge(run: InProcessRun, flow: FlowState, emit: EmitEvent): Promise<FlowState> {
    const { output, next } = await this.runStep(run, flow, AGENT.knowledge, PROGRESS.knowledge, emit);
    return { ...next, findings: { ...next.findings, passages: Array.isArray(output.passages) ? output.passages : [] } };
  }

  /** The reporting step (the streamed answer), then `orchestration_completed`. */
  async reporting(run: InProcessRun, flow: FlowState, emit: EmitEvent): Promise<FlowState> {
    const range = flow.plan.includes(AGENT.knowledge) ? PROGRESS.reporting : ([PROGRESS.triage[1], PROGRESS.reporting[1]] as const);
    const { next } = await this.runStep(run, flow, AGENT.reporting, range, emit);
    const usage = { ...next.usage, totalTokens: next.usage.promptTokens + next.usage.completionTokens };
    await publisherOf(this.ids, emit).publish(
      run,
      'orchestration_completed',
      { durationMs: Date.now() - flow.startedAt, usage },
      { progress: 1 },
    );
    return { ...next, usage };
  }

  /** The supervisor's flow: triage → knowledge (when planned) → reporting; an `error` event if a step fails. */
  async execute(run: InProcessRun, emit: EmitEvent): Promise<void> {
    try {
      let flow = await this.triage(run, this.newFlow(run), emit);
      if (flow.plan.includes(AGENT.knowledge)) flow = await this.knowledge(run, flow, emit);
      await this.reporting(run, flow, emit);
    } catch {
      await publisherOf(this.ids, emit).publish(
        run,
        'error',
        { code: 'INTERNAL', message: 'The assistant ran into a problem.', retryable: true },
        { progress: 1 },
      );
    }
  }

  private async runStep(
    run: InProcessRun,
    flow: FlowState,
    agent: string,
    [from, to]: readonly [number, number],
    emit: EmitEvent,
  ): Promise<{ output: Record<string, unknown>; next: FlowState }> {
    const signal = new AbortController().signal;
    const job: AgentJob = {
      runId: run.runId,
      userId: run.userId,
      conversationId: run.conversationId,
      messageId: run.messageId,
      agent,
      step: flow.step,
      input: { ...flow.findings },
      history: [],
      traceLevel: run.traceLevel,
      stream: run.stream,
      progress: { from, to },
    };
    const sink = new JobEventSink(publisherOf(this.ids, emit), job, signal, quietLogger, true);
    try {
      const result = await runAgent(this.registry.get(agent)!, {
        step: { runId: run.runId, conversationId: run.conversationId, messageId: run.messageId, step: job.step, stream: run.stream },
        input: job.input,
        history: [],
        traceLevel: run.traceLevel,
        sink,
        model: this.engine,
        resources: this.resources,
        signal,
      });
      const usage = {
        ...flow.usage,
        promptTokens: flow.usage.promptTokens + (result.usage?.promptTokens ?? 0),
        completionTokens: flow.usage.completionTokens + (result.usage?.completionTokens ?? 0),
      };
      return { output: result.output, next: { ...flow, step: flow.step + 1, usage } };
    } finally {
      await sink.settled();
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
