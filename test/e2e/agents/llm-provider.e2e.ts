import { FakeLlmServer, REASONING, REPLY, TOOL_REPLY } from '../../support/fake-llm/fake-llm-server';
import { type HttpMcpServer, startHttpMcpServer, TEST_MCP } from '../../support/mcp/test-mcp-server';
import { Cluster } from '../../support/cluster';
import { runViolations } from '../../support/invariants';
import { collectRuns } from '../../support/run-collector';
import { waitFor } from '../../support/polling';

interface LogLine {
  runId?: string;
  agent?: string;
  err?: { type?: string; code?: string; stack?: string };
}

/**
 * The cluster with LLM_BASE_URL pointing at the local fake OpenAI-compatible server, and an MCP
 * server (the test one, over Streamable HTTP, in this process) in MCP_SERVERS.
 */
describe('the OpenAI-compatible provider end to end (fake server)', () => {
  let cluster: Cluster;
  let llm: FakeLlmServer;
  let mcp: HttpMcpServer;

  beforeAll(async () => {
    llm = await new FakeLlmServer().start();
    mcp = await startHttpMcpServer();
    llm.toolArgs.notes_slow_count = { steps: 3, delayMs: 50 };
    llm.toolArgs.notes_write_note = { text: 'from the e2e' };
    cluster = await Cluster.start({
      gateways: 1,
      env: {
        LLM_BASE_URL: llm.url,
        LLM_API_KEY: 'sk-e2e',
        LLM_MODEL: 'fake-e2e',
        LLM_MAX_RETRIES: '1',
        LLM_PROMPT_PRICE_PER_MTOK: '1',
        LLM_COMPLETION_PRICE_PER_MTOK: '2',
        RUN_STEP_TIMEOUT_MS: '4000',
        HUMAN_RESPONSE_TIMEOUT_MS: '4000',
        MCP_SERVERS: JSON.stringify([{ name: 'notes', url: mcp.url, timeoutMs: 3000 }]),
      },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await mcp?.close();
    await llm?.stop();
  }, 30_000);

  it('streams the model answer, counts usage and cost into orchestration_completed', async () => {
    const client = await cluster.client('llm-user');
    const seen = collectRuns(client);
    const ack = await client.send('What is JetStream?', { stream: true, traceLevel: 'summary' });
    const events = await seen.until(ack.runId);
    expect(runViolations(events, { stream: true })).toEqual([]);
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.content).toBe(REPLY);
    expect(events.flatMap((e) => (e.type === 'message_delta' ? [e.data.delta] : [])).join('')).toBe(REPLY);
    const completed = events.at(-1)!;
    if (completed.type !== 'orchestration_completed') throw new Error(completed.type);
    // triage (tool call: 30 + 10) and reporting (stream: 12 + 9); knowledge does not call the model.
    expect(completed.data.usage).toEqual({ promptTokens: 42, completionTokens: 19, totalTokens: 61, costUsd: 0.00008 });
    expect(completed.trace).toMatchObject({ tokens: 61 });
    expect(llm.requests.some((r) => r.authorization === 'Bearer sk-e2e' && r.body.model === 'fake-e2e')).toBe(true);
  });

  it('the tool-calling agent: reasoning as agent_thinking, two tool calls of one turn in parallel, the answer streamed', async () => {
    const client = await cluster.client('llm-tools');
    const seen = collectRuns(client);
    const ack = await client.send('What is JetStream? [call knowledge_search+schema_lookup]', { stream: true, traceLevel: 'summary' });
    const events = await seen.until(ack.runId);
    expect(runViolations(events, { stream: true })).toEqual([]);
    const reporting = events.filter((e) => 'agent' in e.data && e.data.agent === 'reporting');
    expect(reporting.map((e) => e.type)).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing',
      'tool_executing',
      'tool_completed',
      'tool_completed',
      'agent_completed',
    ]);
    expect(reporting[1].data).toEqual({ agent: 'reporting', stepId: '2', thought: REASONING });
    const executing = reporting.flatMap((e) => (e.type === 'tool_executing' ? [e.data] : []));
    expect(executing.map((d) => d.tool)).toEqual(['knowledge_search', 'schema_lookup']);
    expect(executing[0].input).toEqual({ query: 'JetStream consumers', limit: 3 });
    const completed = reporting.flatMap((e) => (e.type === 'tool_completed' ? [e.data] : []));
    expect(completed.map((d) => [d.callId, d.ok]).sort()).toEqual(executing.map((d) => [d.callId, true]).sort());
    expect(completed.find((d) => d.tool === 'schema_lookup')?.output).toEqual({
      tables: ['demo.customers', 'demo.products', 'demo.orders'],
    });
    // Both calls were made before either result went back: one turn, two calls.
    const loop = llm.requestsWith('[call knowledge_search+schema_lookup]').filter((r) => r.body.tool_choice === 'auto');
    expect(loop).toHaveLength(2);
    const [turn, answer] = loop;
    expect(turn.body.messages.filter((m) => m.role === 'tool')).toEqual([]);
    expect(answer.body.messages.filter((m) => m.role === 'tool')).toHaveLength(2);
    const deltas = events.flatMap((e) => (e.type === 'message_delta' ? [e.data.delta] : []));
    expect(deltas.join('')).toBe(TOOL_REPLY);
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.content).toBe(TOOL_REPLY);
    const completedRun = events.at(-1)!;
    if (completedRun.type !== 'orchestration_completed') throw new Error(completedRun.type);
    // triage (30 + 10), the tool turn (20 + 6) and the answer (12 + 9).
    expect(completedRun.data.usage).toMatchObject({ promptTokens: 62, completionTokens: 25, totalTokens: 87 });
  });

  it("an MCP tool: its progress notifications reach the client as tool_progress, in order, between the call's start and end", async () => {
    const client = await cluster.client('llm-mcp-progress');
    const seen = collectRuns(client);
    const ack = await client.send('Count slowly [call notes_slow_count]');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    // The reporting step's calls (the knowledge step searched before it).
    const tools = events.filter((e) => e.type.startsWith('tool_') && 'agent' in e.data && e.data.agent === 'reporting');
    expect(tools.map((e) => e.type)).toEqual(['tool_executing', 'tool_progress', 'tool_progress', 'tool_progress', 'tool_completed']);
    expect(tools.map((e) => e.type !== 'tool_progress' || e.data.progress)).toEqual([true, 1, 2, 3, true]);
    expect(tools[0].data).toMatchObject({ agent: 'reporting', tool: 'notes.slow_count', input: { steps: 3, delayMs: 50 } });
    expect(tools.at(-1)!.data).toMatchObject({ ok: true, output: TEST_MCP.counted(3) });
    expect(events.at(-1)!.type).toBe('orchestration_completed');
  });

  it('an MCP tool that is not read-only: approval_requested names the call; approved over the socket, it runs under that callId', async () => {
    const client = await cluster.client('llm-mcp-approve');
    const seen = collectRuns(client);
    const ack = await client.send('Keep a note [call notes_write_note]');
    const request = await seen.untilType(ack.runId, 'approval_requested');
    expect(request.data).toMatchObject({ action: 'Run notes.write_note', tool: 'notes.write_note', input: { text: 'from the e2e' } });
    expect(mcp.events).not.toContain('write_note:from the e2e');
    await client.respond(ack.runId, request.data.requestId, { approved: true });
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    const after = events.slice(events.findIndex((e) => e.type === 'approval_requested') + 1);
    expect(after.slice(0, 3).map((e) => e.type)).toEqual(['status', 'tool_executing', 'tool_completed']);
    expect(after[1].data).toMatchObject({ tool: 'notes.write_note', callId: request.data.callId });
    expect(after[2].data).toMatchObject({ callId: request.data.callId, ok: true, output: TEST_MCP.saved('from the e2e') });
    expect(mcp.events).toContain('write_note:from the e2e');
    expect(events.at(-1)!.type).toBe('orchestration_completed');
  });

  it('an MCP tool that hangs, and the user cancels: MCP cancellation reaches the server, tool_completed ok:false, then run_cancelled', async () => {
    const client = await cluster.client('llm-mcp-cancel');
    const seen = collectRuns(client);
    const cancelled = mcp.events.filter((e) => e === 'hang:cancelled').length;
    const ack = await client.send('Wait forever [call notes_hang]');
    await seen.untilType(ack.runId, 'tool_executing');
    await waitFor(
      () => mcp.events.includes('hang:started'),
      () => 'the hang tool never started',
      5_000,
    );
    await client.cancel(ack.runId);
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['tool_completed', 'run_cancelled']);
    expect(events.at(-2)!.data).toMatchObject({ tool: 'notes.hang', ok: false, error: 'Cancelled before it finished.' });
    await waitFor(
      () => mcp.events.filter((e) => e === 'hang:cancelled').length > cancelled,
      () => 'the MCP server never heard of the cancellation',
      5_000,
    );
  });

  it('a data question: the model writes the SQL, the worker validates and runs it', async () => {
    const client = await cluster.client('llm-data');
    const seen = collectRuns(client);
    const ack = await client.send('What is the revenue per region?');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.metadata).toMatchObject({ intent: 'data', table: { columns: ['region', 'revenue'], rowCount: 4 } });
  });

  it('a tool failure: the refused query gives tool_completed ok:false, and the agent gives up cleanly with an answer', async () => {
    const client = await cluster.client('llm-toolfail');
    const seen = collectRuns(client);
    const ack = await client.send('figures please [bad-sql]');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    const failed = events.filter((e) => e.type === 'tool_completed' && e.data.tool === 'sql_validate');
    expect(failed).toHaveLength(3);
    for (const e of failed)
      expect(e.type === 'tool_completed' && e.data).toMatchObject({
        ok: false,
        error: expect.stringMatching(/column "nope" does not exist/),
      });
    expect(events.at(-1)?.type).toBe('orchestration_completed');
  });

  it('a model failure: error LLM_ERROR, retryable, with no internals; the worker log has the stack, with the run id', async () => {
    const client = await cluster.client('llm-fail');
    const seen = collectRuns(client);
    const ack = await client.send('hello [fail-500]');
    const events = await seen.until(ack.runId);
    expect(runViolations(events)).toEqual([]);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'error', data: { code: 'LLM_ERROR', retryable: true } });
    // Beside the error: the usage of the steps that finished before it (counted against quotas).
    const { usage, ...error } = last.data as Record<string, unknown>;
    expect(usage).toEqual(expect.objectContaining({ promptTokens: expect.any(Number), completionTokens: expect.any(Number) }));
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'retryable']);
    expect(JSON.stringify(error)).not.toMatch(/model\.py|\/srv|500|stack|\bat \S+ \(|\.js:\d+/);
    // The worker's log has the stack, with the run id (pino writes it shortly after).
    const logged = () => (cluster.logLines('worker-0') as LogLine[]).find((l) => l.runId === ack.runId && typeof l.err?.stack === 'string');
    await waitFor(
      () => logged() !== undefined,
      () => `no worker log line with run ${ack.runId} and a stack`,
      5_000,
    );
    const line = logged()!;
    expect(line.err!.stack).toMatch(/^LlmError: The language model failed\.\n\s+at /);
    expect(line).toMatchObject({ agent: 'triage', err: { type: 'LlmError', code: 'LLM_ERROR' } });
  });

  it('a step over its time limit: error TIMEOUT', async () => {
    const client = await cluster.client('llm-slow');
    const seen = collectRuns(client);
    const ack = await client.send('hello [slow]');
    const events = await seen.until(ack.runId, 40_000);
    expect(runViolations(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'error', data: { code: 'TIMEOUT', retryable: true } });
  });
});
