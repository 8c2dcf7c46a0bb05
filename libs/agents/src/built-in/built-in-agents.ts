import type { AnyAgentDefinition } from '../sdk/agent-registry';
import { dataAgent } from './data.agent';
import { knowledgeAgent } from './knowledge.agent';
import { reportingAgent } from './reporting.agent';
import { triageAgent } from './triage.agent';

/** The agents every worker runs. Adding one: define it in its own file, list it here. */
export const builtInAgents: readonly AnyAgentDefinition[] = [triageAgent, knowledgeAgent, dataAgent, reportingAgent];
