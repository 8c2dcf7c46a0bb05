/**
 * Peer (3)'s graph: Herald's three steps as LangGraph nodes (triage → knowledge, when the
 * plan has it → reporting), running the same agents in-process
 * (bench/baselines/in-process-agents.ts) and writing the same events, in order, to the
 * `custom` stream mode. Loaded by the LangGraph Agent Server (bench/baselines/langgraph.server.ts).
 */
import { randomUUID } from 'node:crypto';
import { AGENT } from '@herald/contracts';
import { type LangGraphModule, loadPeer } from '../lib/peers';
import { type EmitEvent, type FlowState, InProcessAgents, type InProcessRun } from './in-process-agents';

const { Annotation, StateGraph, START, END } = loadPeer<LangGraphModule>('@langchain/langgraph');

interface State {
  question: string;
  userId: string;
  run: InProcessRun;
  flow: FlowState;
}
type Config = { writer?: (chunk: unknown) => void };

const HeraldState = Annotation.Root({
  question: Annotation<string>(),
  userId: Annotation<string>(),
  run: Annotation<InProcessRun>(),
  flow: Annotation<FlowState>(),
});

let agents: InProcessAgents | undefined;
const runtime = () => (agents ??= new InProcessAgents(process.env.BENCH_KB_URL ?? ''));
const writerOf =
  (config: Config): EmitEvent =>
  (_userId, event) =>
    config.writer?.(event);

export const graph = new StateGraph(HeraldState)
  .addNode('triage', async (state: State, config: Config) => {
    const run: InProcessRun = {
      userId: state.userId,
      conversationId: randomUUID(),
      runId: randomUUID(),
      messageId: randomUUID(),
      question: state.question,
      traceLevel: 'none',
      stream: true,
    };
    return { run, flow: await runtime().triage(run, runtime().newFlow(run), writerOf(config)) };
  })
  .addNode('knowledge', async (state: State, config: Config) => ({
    flow: await runtime().knowledge(state.run, state.flow, writerOf(config)),
  }))
  .addNode('reporting', async (state: State, config: Config) => ({
    flow: await runtime().reporting(state.run, state.flow, writerOf(config)),
  }))
  .addEdge(START, 'triage')
  .addConditionalEdges('triage', (state: State) => (state.flow.plan.includes(AGENT.knowledge) ? 'knowledge' : 'reporting'), [
    'knowledge',
    'reporting',
  ])
  .addEdge('knowledge', 'reporting')
  .addEdge('reporting', END)
  .compile();
