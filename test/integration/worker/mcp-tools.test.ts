import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { McpServers } from '@herald/agents';
import { AGENT, type AgentJob, type EventData } from '@herald/contracts';
import { encodeJson } from '@herald/messaging';
import { MCP_TOOLS } from '../../../apps/worker/src/agents/agents.tokens';
import { FakeLlmServer, REASONING, TOOL_REPLY } from '../../support/fake-llm/fake-llm-server';
import { buildStdioMcpServer } from '../../support/mcp/build-stdio-server';
import { type HttpMcpServer, startHttpMcpServer, TEST_MCP } from '../../support/mcp/test-mcp-server';
import { agentJob, CHUNKS } from '../../support/worker-fixtures';
import { type ReadEvent, WorkerHarness } from '../../support/worker-harness';
import { waitFor } from '../../support/polling';

const MCP_TIMEOUT_MS = 2_000;

/**
 * MCP tools in the worker (in-process, real Redis, NATS and Postgres): the model (the fake
 * OpenAI-compatible server) picks the tools of two real MCP servers, one the worker runs over
 * stdio and one over Streamable HTTP, and every outcome shows in the step's events as users
 * see them.
 */
describe('MCP tools in the tool loop (worker harness, stdio and Streamable HTTP servers)', () => {
  let h: WorkerHarness;
  let llm: FakeLlmServer;
  let http: HttpMcpServer;
  let dir: string;
  let stdioEventsFile: string;
  let script: string;

  beforeAll(async () => {
    llm = await new FakeLlmServer().start();
    http = await startHttpMcpServer();
    dir = mkdtempSync(join(tmpdir(), 'herald-mcp-'));
    stdioEventsFile = join(dir, 'events.log');
    script = await buildStdioMcpServer();
    // A secret of the worker's environment must not reach a server it runs.
    process.env.HERALD_TEST_SECRET_CANARY = 'do-not-leak';
    h = await WorkerHarness.start(CHUNKS, {
      JWT_SECRET: 'mcp-tools-test-secret-0123456789abcdef',
      LLM_BASE_URL: llm.url,
      LLM_MODEL: 'fake-mcp',
      LLM_MAX_RETRIES: '0',
      MCP_SERVERS: JSON.stringify([
        { name: 'stdio', command: process.execPath, args: [script], env: { MCP_TEST_EVENTS: stdioEventsFile }, timeoutMs: MCP_TIMEOUT_MS },
        { name: 'http', url: http.url, timeoutMs: MCP_TIMEOUT_MS },
      ]),
    });
    for (const t of ['stdio', 'http']) {
      llm.toolArgs[`${t}_slow_count`] = { steps: 3, delayMs: 60 };
      llm.toolArgs[`${t}_write_note`] = { text: `note over ${t}` };
    }
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await http?.close();
    await llm?.stop();
    delete process.env.HERALD_TEST_SECRET_CANARY;
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (script) rmSync(script, { force: true });
  });

  const mcp = () => h.app.get<McpServers>(MCP_TOOLS);
  const serverEvents = (t: string) => (t === 'http' ? http.events : readLines(stdioEventsFile));
  const toolJob = (question: string): AgentJob =>
    agentJob(AGENT.reporting, 2, { question, intent: 'question', passages: [] }, { stream: true, traceLevel: 'summary' });
  const ofType = <T extends ReadEvent['type']>(events: ReadEvent[], type: T) =>
    events.filter((e) => e.type === type).map((e) => e.data as EventData<T>);
  const respond = (job: AgentJob, requestId: string, approved: boolean) =>
    h.nc.publish(h.subjects.runRespond, encodeJson({ runId: job.runId, userId: job.userId, requestId, response: { approved } }));

  it('lists both servers\u2019 tools as <server>.<tool>', () => {
    const names = mcp()
      .list()
      .map((t) => t.name);
    for (const t of ['stdio', 'http']) {
      expect(names).toEqual(
        expect.arrayContaining(['slow_count', 'write_note', 'fail', 'hang', 'crash', 'env', 'add_tool'].map((n) => `${t}.${n}`)),
      );
    }
    expect(mcp().status()).toEqual([
      { name: 'stdio', connected: true, tools: 7 },
      { name: 'http', connected: true, tools: 7 },
    ]);
  });

  describe.each(['stdio', 'http'])('over %s', (t) => {
    it('a slow tool: tool_progress for each MCP progress notification between tool_executing and tool_completed', async () => {
      const job = toolJob(`Count for me [call ${t}_slow_count]`);
      await h.run(job);
      const events = await h.settledEventsOf(job.runId);
      const tools = events.filter((e) => e.type.startsWith('tool_'));
      expect(tools.map((e) => e.type)).toEqual(['tool_executing', 'tool_progress', 'tool_progress', 'tool_progress', 'tool_completed']);
      const [executing] = ofType(events, 'tool_executing');
      expect(executing).toMatchObject({ agent: 'reporting', tool: `${t}.slow_count`, input: { steps: 3, delayMs: 60 } });
      expect(ofType(events, 'tool_progress')).toEqual(
        [1, 2, 3].map((n) => ({
          agent: 'reporting',
          stepId: '2',
          tool: `${t}.slow_count`,
          callId: executing.callId,
          progress: n,
          total: 3,
          message: `step ${n} of 3`,
        })),
      );
      expect(ofType(events, 'tool_completed')[0]).toMatchObject({ callId: executing.callId, ok: true, output: TEST_MCP.counted(3) });
      expect(ofType(events, 'agent_thinking')[0]).toEqual({ agent: 'reporting', stepId: '2', thought: REASONING });
      expect(ofType(events, 'message')[0].content).toBe(TOOL_REPLY);
      // The model got the tool's text back.
      const answer = llm.requestsWith(`[call ${t}_slow_count]`).at(-1)!;
      expect(answer.body.messages.find((m) => m.role === 'tool')!.content).toBe(TEST_MCP.counted(3));
    });

    it('a tool that is not read-only waits for approval (tool, callId, input); approved, it runs under that callId', async () => {
      const job = toolJob(`Remember this [call ${t}_write_note]`);
      const added = await h.add(job);
      await waitFor(() => h.typesOf(job.runId).includes('approval_requested'), 'the approval request');
      const [request] = ofType(h.eventsOf(job.runId), 'approval_requested');
      expect(request).toMatchObject({
        action: `Run ${t}.write_note`,
        details: { server: t, tool: 'write_note', destructive: false },
        tool: `${t}.write_note`,
        input: { text: `note over ${t}` },
      });
      expect(serverEvents(t)).not.toContain(`write_note:note over ${t}`);
      respond(job, request.requestId, true);
      await added.waitUntilFinished(h.queueEvents, 20_000);
      const events = await h.settledEventsOf(job.runId);
      const after = events.slice(events.findIndex((e) => e.type === 'approval_requested') + 1).map((e) => e.type);
      expect(after.slice(0, 3)).toEqual(['status', 'tool_executing', 'tool_completed']);
      expect(ofType(events, 'tool_executing')[0]).toMatchObject({ callId: request.callId, tool: `${t}.write_note` });
      expect(ofType(events, 'tool_completed')[0]).toMatchObject({
        callId: request.callId,
        ok: true,
        output: TEST_MCP.saved(`note over ${t}`),
      });
      expect(serverEvents(t)).toContain(`write_note:note over ${t}`);
    });

    it('denied: no tool_executing, the tool never runs, and the model hears the refusal and answers', async () => {
      llm.toolArgs[`${t}_write_note`] = { text: `refused over ${t}` };
      const job = toolJob(`Remember that [call ${t}_write_note]`);
      const added = await h.add(job);
      await waitFor(() => h.typesOf(job.runId).includes('approval_requested'), 'the approval request');
      const [request] = ofType(h.eventsOf(job.runId), 'approval_requested');
      respond(job, request.requestId, false);
      await added.waitUntilFinished(h.queueEvents, 20_000);
      const events = await h.settledEventsOf(job.runId);
      expect(events.map((e) => e.type).filter((e) => e.startsWith('tool_'))).toEqual([]);
      expect(ofType(events, 'message')[0].content).toBe(TOOL_REPLY);
      expect(serverEvents(t)).not.toContain(`write_note:refused over ${t}`);
      const answer = llm.requestsWith(`Remember that [call ${t}_write_note]`).at(-1)!;
      expect(JSON.parse(answer.body.messages.find((m) => m.role === 'tool')!.content!)).toEqual({
        declined: true,
        message: 'The user declined this call.',
      });
      llm.toolArgs[`${t}_write_note`] = { text: `note over ${t}` };
    });

    it('a failing tool: tool_completed ok:false with its error, and the run goes on to an answer', async () => {
      const job = toolJob(`Try it [call ${t}_fail]`);
      await h.run(job);
      const events = await h.settledEventsOf(job.runId);
      expect(ofType(events, 'tool_completed')[0]).toMatchObject({
        tool: `${t}.fail`,
        ok: false,
        error: `${t}.fail failed: ${TEST_MCP.failure}`,
      });
      expect(events.at(-1)!.type).toBe('agent_completed');
      expect(ofType(events, 'message')[0].content).toBe(TOOL_REPLY);
    });

    it('a tool that hangs until the run is cancelled: MCP cancellation reaches the server, the call ends ok:false, the step is cancelled', async () => {
      const count = (e: string) => serverEvents(t).filter((x) => x === e).length;
      const [started, cancelled] = [count('hang:started'), count('hang:cancelled')];
      const job = toolJob(`Wait for it [call ${t}_hang]`);
      const added = await h.add(job);
      const settled = added.waitUntilFinished(h.queueEvents, 20_000).then(
        () => 'completed',
        (err: Error) => err.message,
      );
      await waitFor(() => count('hang:started') > started && h.typesOf(job.runId).includes('tool_executing'), 'the hanging tool to start');
      const cancelledAt = Date.now();
      h.nc.publish(h.subjects.runCancel, encodeJson({ runId: job.runId, userId: job.userId, reason: 'cancelled by the user' }));
      expect(await settled).toBe('cancelled');
      expect(Date.now() - cancelledAt).toBeLessThan(1_000);
      const events = await h.settledEventsOf(job.runId);
      expect(events.slice(-2).map((e) => e.type)).toEqual(['tool_executing', 'tool_completed']);
      expect(events.at(-1)!.data).toMatchObject({ tool: `${t}.hang`, ok: false, error: 'Cancelled before it finished.' });
      await waitFor(() => count('hang:cancelled') > cancelled, 'the hanging tool to be cancelled', 5_000);
    });

    it('a server that hangs: the call times out (timeoutMs) as a tool error, the run is never stuck', async () => {
      const before = serverEvents(t).filter((e) => e === 'hang:cancelled').length;
      const job = toolJob(`Wait again [call ${t}_hang]`);
      const startedAt = Date.now();
      await h.run(job);
      const events = await h.settledEventsOf(job.runId);
      expect(ofType(events, 'tool_completed')[0]).toMatchObject({
        tool: `${t}.hang`,
        ok: false,
        error: `${t}.hang did not answer within ${MCP_TIMEOUT_MS / 1000} s.`,
      });
      expect(ofType(events, 'tool_completed')[0].durationMs).toBeGreaterThanOrEqual(MCP_TIMEOUT_MS - 50);
      expect(Date.now() - startedAt).toBeLessThan(MCP_TIMEOUT_MS + 5_000);
      expect(ofType(events, 'message')[0].content).toBe(TOOL_REPLY);
      // The timeout cancelled the request on the server too.
      await waitFor(() => serverEvents(t).filter((e) => e === 'hang:cancelled').length > before, 'the hanging tool to be cancelled', 5_000);
    });

    it('a server that dies mid-call: a tool error, the run answers, and the worker reconnects for the next call', async () => {
      const job = toolJob(`Break it [call ${t}_crash]`);
      await h.run(job);
      const events = await h.settledEventsOf(job.runId);
      const [completed] = ofType(events, 'tool_completed');
      expect(completed).toMatchObject({ tool: `${t}.crash`, ok: false });
      expect(completed.error).toMatch(
        new RegExp(`^(The tool server ${t} stopped during the call\\.|${t}\\.crash did not answer within 2 s\\.)$`),
      );
      expect(ofType(events, 'message')[0].content).toBe(TOOL_REPLY);
      // Back again (reconnected, its tools listed): the next call works.
      await waitFor(
        () =>
          mcp()
            .status()
            .find((s) => s.name === t)?.connected === true &&
          mcp()
            .list()
            .some((x) => x.name === `${t}.slow_count`),
        'the server back, its tools listed',
        15_000,
      );
      const again = toolJob(`Count again [call ${t}_slow_count]`);
      await h.run(again);
      expect(ofType(await h.settledEventsOf(again.runId), 'tool_completed')[0]).toMatchObject({ ok: true, output: TEST_MCP.counted(3) });
    }, 40_000);

    it('follows notifications/tools/list_changed: a tool the server adds is offered to the model and runs', async () => {
      const job = toolJob(`Grow [call ${t}_add_tool]`);
      await h.run(job);
      await waitFor(
        () =>
          mcp()
            .list()
            .some((x) => x.name === `${t}.late_tool`),
        'the added tool listed',
        5_000,
      );
      const later = toolJob(`Use it [call ${t}_late_tool]`);
      await h.run(later);
      expect(ofType(await h.settledEventsOf(later.runId), 'tool_completed')[0]).toMatchObject({
        tool: `${t}.late_tool`,
        ok: true,
        output: TEST_MCP.late,
      });
    });
  });

  it('runs a stdio server with a minimal environment plus its own env: no secret of the worker reaches it', async () => {
    const job = toolJob('What do you see [call stdio_env]');
    await h.run(job);
    const [completed] = ofType(await h.settledEventsOf(job.runId), 'tool_completed');
    const names = String(completed.output).split(',');
    expect(names).toEqual(expect.arrayContaining(['MCP_TEST_EVENTS', 'PATH']));
    expect(names).not.toContain('HERALD_TEST_SECRET_CANARY');
  });
});

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
