import type { AgentEvent } from '@herald/contracts';
import { Cluster } from '../../support/cluster';
import { runViolations } from '../../support/invariants';
import { collectRuns, typesOf } from '../../support/run-collector';

const agentsStarted = (events: AgentEvent[]) => events.flatMap((e) => (e.type === 'agent_started' ? [e.data.agent] : []));
const toolsRun = (events: AgentEvent[]) => events.flatMap((e) => (e.type === 'tool_executing' ? [e.data.tool] : []));
function answer(events: AgentEvent[]) {
  const message = events.find((e) => e.type === 'message');
  if (message?.type !== 'message') throw new Error(`no message: ${typesOf(events).join(',')}`);
  return message.data;
}

/** What a new user types first, none of it in the classifier's phrasings (issue 14). */
describe('a new user’s first messages (local engine): small talk, a vague request for figures, the size of the tables', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 1, env: { HUMAN_RESPONSE_TIMEOUT_MS: '10000' } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('"Hi there! How are you today?" gets a small-talk reply, without a knowledge search', async () => {
    const client = await cluster.client('newcomer-chat');
    const seen = collectRuns(client);
    const ack = await client.send('Hi there! How are you today?');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    expect(events.at(-1)?.type).toBe('orchestration_completed');
    expect(agentsStarted(events)).toEqual(['triage', 'reporting']);
    expect(toolsRun(events)).toEqual([]);
    const message = answer(events);
    expect(message.metadata).toMatchObject({ intent: 'chitchat', sources: [] });
    expect(message.content).toMatch(/doing well|All good here|Great, thank you/);
  });

  it('"Show me the numbers" asks which figure, among what the dataset answers, and answers the one picked', async () => {
    const client = await cluster.client('newcomer-numbers');
    const seen = collectRuns(client);
    const ack = await client.send('Show me the numbers');
    const asked = await seen.untilType(ack.runId, 'clarification_requested');
    expect(asked.data.choices).toEqual([
      'Revenue by region',
      'Units sold by product',
      'Orders by month',
      'Customers by segment',
      'Rows per table',
    ]);
    await client.respond(ack.runId, asked.data.requestId, 'Orders by month');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    expect(events.at(-1)?.type).toBe('orchestration_completed');
    expect(agentsStarted(events)).toEqual(['triage', 'data', 'reporting']);
    expect(toolsRun(events)).not.toContain('knowledge_search');
    const message = answer(events);
    expect(message.content).toContain('Orders by month');
    expect(message.metadata).toMatchObject({ intent: 'data', table: { columns: ['month', 'value'], rowCount: 24 } });
  });

  it('"How big are the demo tables?" is answered with the row count of each table, without asking', async () => {
    const client = await cluster.client('newcomer-size');
    const seen = collectRuns(client);
    const ack = await client.send('How big are the demo tables?');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    expect(events.at(-1)?.type).toBe('orchestration_completed');
    expect(typesOf(events)).not.toContain('clarification_requested');
    const message = answer(events);
    expect(message.metadata).toMatchObject({
      intent: 'data',
      table: {
        columns: ['table_name', 'row_count'],
        rows: [
          ['orders', 1500],
          ['customers', 40],
          ['products', 8],
        ],
      },
    });
    expect(message.content).toContain('Rows per table of the demo dataset');
    expect(message.content).toContain('1,500');
  });
});
