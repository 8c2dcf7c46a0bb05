import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentEvent, type Intent, INTENTS } from '@herald/contracts';
import { Cluster, ROOT } from '../../support/cluster';
import { runViolations } from '../../support/invariants';
import { collectRuns, typesOf } from '../../support/run-collector';

/** Where the table of the ten sample questions goes (the closing note quotes it). */
const REPORT = join(ROOT, 'test-output', 'sample-questions.md');

const PLANS: Record<Intent, string[]> = {
  chitchat: ['triage', 'reporting'],
  question: ['triage', 'knowledge', 'reporting'],
  data: ['triage', 'data', 'reporting'],
  report: ['triage', 'knowledge', 'data', 'reporting'],
};

interface Sample {
  question: string;
  intent: Intent;
  /** Answers the run's clarification_requested over the socket with this. */
  clarify?: string;
  /** Grants the run's approval_requested over the socket. */
  approve?: boolean;
}

const SAMPLES: Sample[] = [
  { question: 'Hello there!', intent: 'chitchat' },
  { question: 'Thanks, that was helpful!', intent: 'chitchat' },
  { question: 'What is NATS JetStream?', intent: 'question' },
  { question: 'How does a durable consumer remember its position?', intent: 'question' },
  { question: 'What was the revenue by region in 2025?', intent: 'data' },
  { question: 'How many orders per segment in 2024?', intent: 'data' },
  { question: 'sales by category please', intent: 'data', clarify: 'Units sold' },
  { question: 'Export the revenue by region as CSV', intent: 'data', approve: true },
  { question: 'Write a report on revenue by region', intent: 'report' },
  { question: 'Write a report on units sold by category in 2025', intent: 'report' },
];

/** The run's event types in order, each run of message_delta as `message_delta×N`. */
function eventSequence(events: AgentEvent[]): string {
  const out: string[] = [];
  let deltas = 0;
  for (const type of [...typesOf(events), '']) {
    if (type === 'message_delta') {
      deltas++;
      continue;
    }
    if (deltas) out.push(`message_delta×${deltas}`);
    deltas = 0;
    if (type) out.push(type);
  }
  return out.join(' → ');
}

describe('ten sample questions end to end (local engine): the intent chosen and the events emitted', () => {
  let cluster: Cluster;
  const rows = new Map<number, string>();
  /** What each sample's run did, for the coverage check after them all. */
  const observed = new Map<number, { intent: string | undefined; clarified: boolean; approved: boolean }>();

  beforeAll(async () => {
    // Tokens paced a little, so the table shows the answer streamed over several message_delta events.
    cluster = await Cluster.start({ gateways: 1, env: { HUMAN_RESPONSE_TIMEOUT_MS: '10000', LOCAL_ENGINE_TOKEN_DELAY_MS: '5' } });
  }, 90_000);

  afterAll(async () => {
    const lines = [
      '| # | Question | Intent | Events |',
      '| - | -------- | ------ | ------ |',
      ...[...rows.entries()].sort(([a], [b]) => a - b).map(([, row]) => row),
    ];
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    writeFileSync(REPORT, `${lines.join('\n')}\n`);
    await cluster?.stop();
  }, 30_000);

  it.each(SAMPLES.map((sample, i) => [i + 1, sample] as const))('%d. %o', async (n, { question, intent, clarify, approve }) => {
    const client = await cluster.client(`sample-${n}`);
    const seen = collectRuns(client);
    const ack = await client.send(question, { stream: true });
    if (clarify !== undefined) {
      const asked = await seen.untilType(ack.runId, 'clarification_requested');
      await client.respond(ack.runId, asked.data.requestId, clarify);
    }
    if (approve !== undefined) {
      const asked = await seen.untilType(ack.runId, 'approval_requested');
      await client.respond(ack.runId, asked.data.requestId, { approved: approve });
    }
    const events = await seen.until(ack.runId);
    rows.set(n, `| ${n} | ${question} | ${intentOf(events) ?? '(none)'} | ${eventSequence(events)} |`);
    const types = typesOf(events);
    observed.set(n, {
      intent: intentOf(events),
      clarified: types.includes('clarification_requested'),
      approved: events.some((e) => e.type === 'tool_executing' && e.data.tool === 'export_csv'),
    });

    expect(runViolations(events, { stream: true })).toEqual([]);
    expect(events.at(-1)?.type).toBe('orchestration_completed');
    expect(intentOf(events)).toBe(intent);
    const triage = events.find((e) => e.type === 'agent_completed' && e.data.agent === 'triage');
    expect(triage?.type === 'agent_completed' && triage.data.summary).toMatch(new RegExp(`^Intent: ${intent} `));
    // In plan order by stepId: the steps of a parallel stage (a report's knowledge and data) may start in any order.
    const started = events.flatMap((e) => (e.type === 'agent_started' ? [e.data] : []));
    expect(started.sort((a, b) => Number(a.stepId) - Number(b.stepId)).map((d) => d.agent)).toEqual(PLANS[intent]);
    expect(types.includes('clarification_requested')).toBe(clarify !== undefined);
    expect(types.includes('approval_requested')).toBe(approve !== undefined);
    const tools = events.flatMap((e) => (e.type === 'tool_executing' ? [e.data.tool] : []));
    expect(tools.includes('export_csv')).toBe(approve === true);
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    if (clarify) expect(message.data.content).toContain('Units sold by category');
    if (approve) expect(message.data.metadata.export).toMatchObject({ format: 'csv' });
  });

  // After the samples (Jest runs them in order): what the runs did, not the list above, covers every
  // intent the contracts name, one clarification and one approved export.
  it('the runs covered every intent, a clarification and an approval', () => {
    const runs = [...observed.values()];
    expect(runs).toHaveLength(SAMPLES.length);
    expect(new Set(runs.map((r) => r.intent))).toEqual(new Set(INTENTS));
    expect(runs.filter((r) => r.clarified)).toHaveLength(1);
    expect(runs.filter((r) => r.approved)).toHaveLength(1);
  });
});

function intentOf(events: AgentEvent[]): string | undefined {
  const message = events.find((e) => e.type === 'message');
  return message?.type === 'message' ? (message.data.metadata.intent as string | undefined) : undefined;
}
