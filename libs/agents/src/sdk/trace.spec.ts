import { z } from 'zod';
import { MemoryKnowledgeBase } from '../knowledge/memory-knowledge-base';
import { LocalEngine } from '../models/local/local-engine';
import { defineAgent } from './agent-definition';
import { MemoryEventSink } from './memory-event-sink';
import { runAgent } from './run-agent';
import { traceFor } from './trace';

describe('traceFor', () => {
  const fields = { latencyMs: 12.4, tokens: 30, full: { query: 'nats', scores: [0.5] } };

  it('none: never a trace', () => {
    expect(traceFor('none', 'tool_completed', fields)).toBeUndefined();
    expect(traceFor('none', 'agent_thinking', fields)).toBeUndefined();
  });

  it('summary: latency/tokens/cost on agent_completed and tool_completed only', () => {
    expect(traceFor('summary', 'tool_completed', fields)).toEqual({ latencyMs: 12, tokens: 30 });
    expect(traceFor('summary', 'agent_completed', { latencyMs: 5, costUsd: 0.01 })).toEqual({ latencyMs: 5, costUsd: 0.01 });
    expect(traceFor('summary', 'agent_thinking', fields)).toBeUndefined();
    expect(traceFor('summary', 'tool_completed', { full: { query: 'x' } })).toBeUndefined();
  });

  it('full: summary plus the full fields, on any event that has some', () => {
    expect(traceFor('full', 'tool_completed', fields)).toEqual({ latencyMs: 12, tokens: 30, query: 'nats', scores: [0.5] });
    expect(traceFor('full', 'agent_thinking', { full: { reasoning: 'because' } })).toEqual({ reasoning: 'because' });
    expect(traceFor('full', 'status', undefined)).toBeUndefined();
  });
});

describe('trace levels through the context', () => {
  const agent = defineAgent({
    name: 'tracer',
    description: 'x',
    input: z.object({}),
    run: async (ctx) => {
      await ctx.thinking('considering', { full: { reasoning: 'r' } });
      await ctx.tool('lookup', { q: 1 }, async () => [1, 2], { trace: (r) => ({ full: { scores: r } }) });
      ctx.addTrace({ full: { note: 'done' } });
      return {};
    },
  });

  async function traces(level: 'none' | 'summary' | 'full') {
    const sink = new MemoryEventSink();
    await runAgent(agent, {
      step: { runId: 'r', conversationId: 'c', messageId: 'm', step: 0, stream: false },
      input: {},
      history: [],
      traceLevel: level,
      sink,
      model: new LocalEngine(),
      resources: { knowledgeBase: new MemoryKnowledgeBase([]) },
      signal: new AbortController().signal,
    });
    return Object.fromEntries(sink.events.map((e) => [e.type, e.trace]));
  }

  it('none', async () => {
    expect(Object.values(await traces('none')).filter(Boolean)).toEqual([]);
  });

  it('summary', async () => {
    const t = await traces('summary');
    expect(t.agent_thinking).toBeUndefined();
    expect(t.tool_executing).toBeUndefined();
    expect(t.tool_completed).toEqual({ latencyMs: expect.any(Number) });
    expect(t.agent_completed).toEqual({ latencyMs: expect.any(Number) });
  });

  it('full', async () => {
    const t = await traces('full');
    expect(t.agent_thinking).toEqual({ reasoning: 'r' });
    expect(t.tool_completed).toEqual({ latencyMs: expect.any(Number), scores: [1, 2] });
    expect(t.agent_completed).toEqual({ latencyMs: expect.any(Number), note: 'done' });
  });
});
