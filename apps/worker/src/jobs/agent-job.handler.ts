import { Inject, Injectable } from '@nestjs/common';
import { type AgentRegistry, type AgentResources, type AnyAgentDefinition, type ModelProvider, runAgent } from '@herald/agents';
import { type Config } from '@herald/config';
import { type AgentJob, type AgentJobResult, agentJobSchema, JOB_CANCELLED_REASON } from '@herald/contracts';
import { CONFIG, EventPublisher, LOGGER } from '@herald/messaging';
import { type Logger, SpanKind, startSpan } from '@herald/observability';
import { type Job, UnrecoverableError } from 'bullmq';
import { AGENT_REGISTRY, AGENT_RESOURCES, MODEL_PROVIDER } from '../agents/agents.tokens';
import { RunCancellations } from '../cancellation/run-cancellations.service';
import { RunRespondListener } from '../human/run-respond.listener';
import { EarlierAttempts } from './earlier-attempts.service';
import { JobEventSink } from './job-event-sink';
import { JobMetrics } from './job-metrics.service';
import { invalidJob, toJobFailure } from './job-failure';

/**
 * One sub-agent step, as the supervisor queued it: validate the job, find the agent, refuse
 * a run that is already cancelled, run the agent with its events going to the EVENTS
 * stream, and settle only once every event of the step is out.
 */
@Injectable()
export class AgentJobHandler {
  constructor(
    @Inject(AGENT_REGISTRY) private readonly agents: AgentRegistry,
    @Inject(MODEL_PROVIDER) private readonly model: ModelProvider,
    @Inject(AGENT_RESOURCES) private readonly resources: AgentResources,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cancellations: RunCancellations,
    private readonly human: RunRespondListener,
    @Inject(CONFIG) private readonly config: Config,
    private readonly earlier: EarlierAttempts,
    private readonly metrics: JobMetrics,
  ) {}

  async handle(job: Job<unknown>, stopSignal?: AbortSignal): Promise<AgentJobResult> {
    const data = parseJob(job);
    const agent = this.agents.get(data.agent);
    if (!agent) throw invalidJob(`no agent named "${data.agent}"`);
    // The job's span, a child of the supervisor's step span; the step's events carry it.
    const span = startSpan(`agent ${agent.name}`, {
      parent: data.traceparent,
      kind: SpanKind.CONSUMER,
      attributes: { runId: data.runId, conversationId: data.conversationId, agent: agent.name, step: data.step },
    });
    const traced: AgentJob = { ...data, traceparent: span.traceparent };
    const log = this.logger.child({
      jobId: job.id,
      runId: data.runId,
      conversationId: data.conversationId,
      userId: data.userId,
      traceId: span.traceId,
      step: data.step,
      agent: agent.name,
      attempt: job.attemptsMade + 1,
    });

    // Tracked before the flag is read, so a cancel arriving in between still aborts the step.
    const step = this.cancellations.track(data.runId, stopSignal);
    try {
      if (await this.cancellations.isCancelled(data.runId)) {
        log.info('run already cancelled: step refused');
        throw new UnrecoverableError(JOB_CANCELLED_REASON);
      }
      const done = this.metrics.start(agent.name);
      try {
        const result = await this.runStep(agent, traced, step.signal, log, job.attemptsStarted > 1 || traced.redriven === true);
        done('completed');
        span.endWith('completed');
        return result;
      } catch (err) {
        done(isCancellation(err) ? 'cancelled' : 'failed');
        throw err;
      }
    } catch (err) {
      if (isCancellation(err)) span.endWith('cancelled');
      else span.end(err);
      throw err;
    } finally {
      step.release();
    }
  }

  /**
   * Runs the agent; its events go out through the job's sink, all of them before this
   * settles. A retried step (an earlier attempt failed or its worker died, or a redriven job)
   * carries on after what that attempt stored: the streamed text still adds up to the answer,
   * and no event is stored twice.
   */
  private async runStep(
    agent: AnyAgentDefinition,
    data: AgentJob,
    signal: AbortSignal,
    log: Logger,
    retried: boolean,
  ): Promise<AgentJobResult> {
    const sink = new JobEventSink(this.publisher, data, signal, log, this.model.deterministic);
    if (retried) sink.carryOn(await this.earlier.of(data));
    try {
      const result = await runAgent(agent, {
        step: { runId: data.runId, conversationId: data.conversationId, messageId: data.messageId, step: data.step, stream: data.stream },
        input: data.input,
        history: data.history,
        traceLevel: data.traceLevel,
        sink,
        model: this.model,
        resources: this.resources,
        signal,
        human: this.human,
        humanResponseTimeoutMs: this.config.HUMAN_RESPONSE_TIMEOUT_MS,
      });
      await sink.flush();
      log.info({ events: sink.count }, 'step completed');
      return result;
    } catch (err) {
      const failure = toJobFailure(err, signal, sink.unrepeatable);
      if (failure.message === JOB_CANCELLED_REASON) log.info({ events: sink.count }, 'step cancelled');
      else log.warn({ err, events: sink.count, final: failure instanceof UnrecoverableError }, `step failed: ${failure.message}`);
      throw failure;
    } finally {
      await sink.settled();
    }
  }
}

function isCancellation(err: unknown): boolean {
  return err instanceof Error && err.message === JOB_CANCELLED_REASON;
}

function parseJob(job: Job<unknown>): AgentJob {
  const parsed = agentJobSchema.safeParse(job.data);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'data'}: ${i.message}`);
    throw invalidJob(`invalid job data (${issues.join('; ')})`);
  }
  return parsed.data;
}
