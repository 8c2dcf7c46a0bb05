import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent } from '@herald/contracts';
import { ROOT } from './cluster';

export interface ScenarioResult {
  scenario: string;
  /** Events the system stored for the affected runs (what a client must end up with). */
  sent: number;
  /** Of those, the events the affected client received. */
  received: number;
  lost: number;
  /** From the fault to the first sign of recovery the scenario names. */
  recoveryMs: number;
  notes?: string;
}

const DIR = join(ROOT, 'test-output', 'chaos');

/** Compares what was stored with what a client received, by event id. */
export function countLoss(
  sent: readonly AgentEvent[],
  received: readonly AgentEvent[],
): Pick<ScenarioResult, 'sent' | 'received' | 'lost'> {
  const got = new Set(received.map((e) => e.id));
  const delivered = sent.filter((e) => got.has(e.id)).length;
  return { sent: sent.length, received: delivered, lost: sent.length - delivered };
}

/** Prints a scenario's figures and merges them into test-output/chaos/results.json. */
export function recordScenario(result: ScenarioResult): void {
  console.log(`[nothing-lost] ${JSON.stringify(result)}`);
  mkdirSync(DIR, { recursive: true });
  const file = join(DIR, 'results.json');
  let all: Record<string, ScenarioResult & { at: string }> = {};
  try {
    all = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // first result
  }
  all[result.scenario] = { ...result, at: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}
