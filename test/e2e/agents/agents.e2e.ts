import type { AgentEvent } from '@herald/contracts';
import { Cluster } from '../../support/cluster';
import { runViolations } from '../../support/invariants';
import { collectRuns } from '../../support/run-collector';
import { setTimeout as sleep } from 'node:timers/promises';

const RESPONSE_TIMEOUT_MS = 6_000;

/** The run's steps' agents in plan order (by stepId: a parallel stage's steps may start in any order). */
const agentsOf = (events: AgentEvent[]) =>
  events
    .flatMap((e) => (e.type === 'agent_started' ? [e.data] : []))
    .sort((a, b) => Number(a.stepId) - Number(b.stepId))
    .map((d) => d.agent);

describe('the built-in agents end to end (local engine)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 1, env: { HUMAN_RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS) } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it.each([
    ['Hello there!', 'chitchat', ['triage', 'reporting']],
    ['What is NATS JetStream?', 'question', ['triage', 'knowledge', 'reporting']],
    ['What was the revenue by region in 2025?', 'data', ['triage', 'data', 'reporting']],
    ['Write a report on revenue by region', 'report', ['triage', 'knowledge', 'data', 'reporting']],
  ])('%s → %s, with its plan, streaming deltas that add up to the message', async (question, intent, agents) => {
    const client = await cluster.client(`intent-${intent}`);
    const seen = collectRuns(client);
    const ack = await client.send(question, { stream: true });
    const events = await seen.until(ack.runId);
    expect(runViolations(events, { stream: true })).toEqual([]);
    expect(events.at(-1)?.type).toBe('orchestration_completed');
    expect(agentsOf(events)).toEqual(agents);
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.metadata.intent).toBe(intent);
    const deltas = events.flatMap((e) => (e.type === 'message_delta' ? [e.data.delta] : []));
    expect(deltas.join('')).toBe(message.data.content);
    if (intent === 'data' || intent === 'report') {
      expect(message.data.metadata.table).toMatchObject({ columns: ['region', 'value'], rowCount: 4, truncated: false });
      expect(message.data.content).toContain('| region | value |');
    }
    if (intent === 'question') expect(message.data.metadata.sources.length).toBeGreaterThan(0);
  });

  it('a clarification answered over the socket: the run waits (status waiting), then goes on', async () => {
    const client = await cluster.client('clarify');
    const seen = collectRuns(client);
    const ack = await client.send('sales by category please');
    const asked = await seen.untilType(ack.runId, 'clarification_requested');
    expect(asked.data).toMatchObject({
      question: expect.stringMatching(/revenue \(USD\) or units sold/),
      choices: ['revenue', 'units sold'],
    });
    let status = '';
    for (let i = 0; i < 100 && status !== 'waiting'; i++, await sleep(50)) {
      status = ((await (await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'clarify' })).json()) as { status: string }).status;
    }
    expect(status).toBe('waiting');
    await client.respond(ack.runId, asked.data.requestId, 'Units sold');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.content).toContain('Units sold by category');
    // Persistence writes the event log in batches: the snapshot follows the live events shortly.
    for (let i = 0; i < 100 && status !== 'completed'; i++, await sleep(50)) {
      status = ((await (await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'clarify' })).json()) as { status: string }).status;
    }
    expect(status).toBe('completed');
  });

  it('cancelling a run that waits for the user ends it at once with run_cancelled; nothing is stored', async () => {
    const client = await cluster.client('waiting-cancel');
    const seen = collectRuns(client);
    const ack = await client.send('sales by category please');
    await seen.untilType(ack.runId, 'clarification_requested');
    const cancelledAt = Date.now();
    await expect(client.cancel(ack.runId)).resolves.toMatchObject({});
    const events = await seen.until(ack.runId);
    expect(Date.now() - cancelledAt).toBeLessThan(RESPONSE_TIMEOUT_MS); // not the question's timeout
    expect(events.at(-1)?.type).toBe('run_cancelled');
    expect(runViolations(events)).toEqual([]);
    await sleep(300);
    expect(seen.of(ack.runId)).toHaveLength(events.length);
    const stored = await (await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'waiting-cancel' })).json();
    expect(stored.messages).toEqual([]);
    await expect(client.cancel(ack.runId)).resolves.toMatchObject({ alreadyFinished: true });
  });

  it('an approval granted exports the result; one refused ends that path politely', async () => {
    const client = await cluster.client('approver');
    const seen = collectRuns(client);
    for (const approved of [true, false]) {
      const ack = await client.send('Export the revenue by region as CSV');
      const asked = await seen.untilType(ack.runId, 'approval_requested');
      expect(asked.data).toMatchObject({ action: expect.stringMatching(/^Export 4 rows as /), details: { format: 'csv', rows: 4 } });
      await client.respond(ack.runId, asked.data.requestId, { approved });
      const events = await seen.until(ack.runId);
      expect(runViolations(events)).toEqual([]);
      expect(events.at(-1)?.type).toBe('orchestration_completed');
      const message = events.find((e) => e.type === 'message');
      if (message?.type !== 'message') throw new Error('no message');
      const tools = events.flatMap((e) => (e.type === 'tool_executing' ? [e.data.tool] : []));
      if (approved) {
        expect(tools).toContain('export_csv');
        expect(message.data.metadata.export).toMatchObject({ format: 'csv', content: expect.stringMatching(/^region,value\r\n/) });
      } else {
        expect(tools).not.toContain('export_csv');
        expect(message.data.metadata.export).toBeUndefined();
        expect(message.data.content).toContain('You declined the export');
      }
    }
  });

  it('an unanswered question times out into error TIMEOUT', async () => {
    const client = await cluster.client('silent');
    const seen = collectRuns(client);
    const ack = await client.send('how did sales go?');
    await seen.untilType(ack.runId, 'clarification_requested');
    const events = await seen.until(ack.runId, RESPONSE_TIMEOUT_MS + 30_000);
    expect(runViolations(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      type: 'error',
      data: { code: 'TIMEOUT', retryable: true, message: expect.stringMatching(/No answer came in time/) },
    });
    expect(JSON.stringify(events.at(-1)!.data)).not.toMatch(/at \w+ \(|\.ts:\d+/);
  });

  it.each(['none', 'summary', 'full'] as const)('trace level %s', async (traceLevel) => {
    const client = await cluster.client(`trace-${traceLevel}`);
    const seen = collectRuns(client);
    const ack = await client.send('What was the revenue by region in 2025?', { traceLevel });
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    const traced = events.filter((e) => e.trace);
    if (traceLevel === 'none') expect(traced).toEqual([]);
    if (traceLevel === 'summary') {
      expect(new Set(traced.map((e) => e.type))).toEqual(new Set(['agent_completed', 'tool_completed', 'orchestration_completed']));
      for (const e of traced) expect(Object.keys(e.trace!).every((k) => ['latencyMs', 'tokens', 'costUsd'].includes(k))).toBe(true);
    }
    if (traceLevel === 'full') {
      const thinking = events.find((e) => e.type === 'agent_thinking' && e.trace?.sql);
      expect(thinking?.trace).toMatchObject({ sql: expect.stringMatching(/^SELECT/), confidence: expect.any(Number) });
      const query = events.find((e) => e.type === 'tool_completed' && e.data.tool === 'sql_query');
      expect(query?.trace).toMatchObject({ latencyMs: expect.any(Number), sql: expect.any(String), rowCount: 4 });
      expect(events.find((e) => e.type === 'message')?.trace).toMatchObject({ model: 'local', prompt: expect.any(String) });
    }
    const completed = events.at(-1)!;
    if (completed.type !== 'orchestration_completed') throw new Error(completed.type);
    expect(completed.data.usage?.totalTokens).toBeGreaterThan(0);

    // A question: knowledge_search's retrieval scores are in its trace at full only.
    const asked = await client.send('What is NATS JetStream?', { traceLevel });
    const answered = await seen.until(asked.runId);
    expect(runViolations(answered)).toEqual([]);
    const search = answered.find((e) => e.type === 'tool_completed' && e.data.tool === 'knowledge_search');
    if (search?.type !== 'tool_completed') throw new Error('no knowledge_search');
    expect(search.data).toMatchObject({ ok: true, output: { count: expect.any(Number) } });
    const found = (search.data.output as { results: Array<{ score: number }> }).results;
    expect(found.length).toBeGreaterThan(0);
    if (traceLevel === 'full')
      expect(search.trace).toEqual({
        latencyMs: expect.any(Number),
        query: 'What is NATS JetStream?',
        scores: found.map((r) => r.score),
      });
    else if (traceLevel === 'summary') expect(search.trace).toEqual({ latencyMs: expect.any(Number) });
    else expect(search.trace).toBeUndefined();
    const grading = answered.find((e) => e.type === 'agent_thinking' && e.data.agent === 'knowledge' && /^Kept/.test(e.data.thought));
    expect(grading?.trace?.scores).toEqual(traceLevel === 'full' ? found.map((r) => r.score) : undefined);
  });
});
