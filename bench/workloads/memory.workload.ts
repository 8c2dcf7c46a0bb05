import { benchUsers, type ClientFleet } from '../lib/client-fleet';
import { sleep } from '../lib/pacer';
import { rssBytes } from '../lib/proc-stat';
import type { Target } from '../targets/target';

export interface MemoryResult {
  connections: number;
  process: string;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** (RSS with the connections − RSS before) / connections. */
  bytesPerConnection: number;
}

const SETTLE_MS = 3_000;

/**
 * Memory per idle connection: RSS of the process (Herald: the first gateway) before and
 * after `connections` distinct users connect to it and sit idle; then they disconnect.
 */
export async function runMemory(
  target: Target,
  fleet: ClientFleet,
  connections: number,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const { process, url } = target.memoryProcess();
  await sleep(SETTLE_MS);
  const before = rssBytes(process.pid);
  log(`memory: connecting ${connections} idle users to ${process.name}…`);
  await fleet.connect(benchUsers(connections, 0, 'idle-user'), [url], target.clientResume);
  await sleep(SETTLE_MS);
  const after = rssBytes(process.pid);
  await fleet.disconnect();
  const result: MemoryResult = {
    connections,
    process: process.name,
    rssBeforeMiB: before / 2 ** 20,
    rssAfterMiB: after / 2 ** 20,
    bytesPerConnection: (after - before) / connections,
  };
  log(
    `  ${(result.bytesPerConnection / 1024).toFixed(1)} KiB per connection (RSS ${result.rssBeforeMiB.toFixed(0)} → ${result.rssAfterMiB.toFixed(0)} MiB)`,
  );
  await sleep(1_000);
  return result;
}
