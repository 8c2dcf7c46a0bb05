#!/usr/bin/env node
// An AG-UI client for Herald: @ag-ui/client's HttpAgent against POST /v1/agui, printing every
// event as it arrives and answering interrupts (clarifications, approvals) from the terminal.
//
//   npm start                                            # in another terminal
//   node examples/agui-client.mjs "What is NATS JetStream?"
//   node examples/agui-client.mjs "sales by category please"            # asks a clarification
//   node examples/agui-client.mjs "Export the revenue by region as CSV" # asks an approval
//
// HERALD_URL (default http://localhost:3000), HERALD_TOKEN (default: a development token for
// HERALD_USER, default "agui-example", signed by `npm run token`), THREAD (default
// "agui-example": the same thread continues the same conversation).
import { HttpAgent } from '@ag-ui/client';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const url = process.env.HERALD_URL ?? 'http://localhost:3000';
const user = process.env.HERALD_USER ?? 'agui-example';
const token =
  process.env.HERALD_TOKEN ??
  execFileSync(process.execPath, [join(root, 'libs/auth/dist/token.cli.js'), user], {
    encoding: 'utf8',
    env: { NODE_ENV: 'development', ...process.env },
  }).trim();
const question = process.argv.slice(2).join(' ') || 'What is NATS JetStream?';

const agent = new HttpAgent({
  url: `${url}/v1/agui`,
  headers: { Authorization: `Bearer ${token}` },
  threadId: process.env.THREAD ?? 'agui-example',
});
agent.addMessage({ id: randomUUID(), role: 'user', content: question });

let inText = false;
function print(event) {
  if (event.type === 'TEXT_MESSAGE_CONTENT') {
    process.stdout.write(inText ? event.delta : `\n[answer] ${event.delta}`);
    inText = true;
    return;
  }
  // The run's progress (a number per step) would cut the answer into pieces: only a tool's is shown.
  if (event.type === 'CUSTOM' && event.name === 'herald.progress' && !event.value?.toolCallId) return;
  if (inText) process.stdout.write('\n');
  inText = false;
  const detail = {
    RUN_STARTED: () => `run ${event.runId} on thread ${event.threadId}`,
    RUN_FINISHED: () => `outcome ${event.outcome?.type ?? 'success'}${event.usage ? `, ${event.usage[0].totalTokens} tokens` : ''}`,
    RUN_ERROR: () => `${event.code}: ${event.message}`,
    STEP_STARTED: () => event.stepName,
    STEP_FINISHED: () => event.stepName,
    TOOL_CALL_START: () => `${event.toolCallName} (${event.toolCallId})`,
    TOOL_CALL_ARGS: () => event.delta,
    TOOL_CALL_RESULT: () => `${event.toolCallId}: ${String(event.content).slice(0, 120)}`,
    REASONING_MESSAGE_CONTENT: () => event.delta,
    CUSTOM: () => `${event.name} ${JSON.stringify(event.value)}`,
  }[event.type];
  console.log(`[${event.type}]${detail ? ` ${detail()}` : ''}`);
}

const terminal = createInterface({ input: process.stdin, output: process.stdout });
let resume;
try {
  for (;;) {
    await agent.runAgent({ runId: randomUUID(), resume }, { onEvent: ({ event }) => print(event) });
    if (agent.pendingInterrupts.length === 0) break;
    resume = [];
    for (const interrupt of agent.pendingInterrupts) {
      if (interrupt.reason === 'approval') {
        const yes = (await terminal.question(`\n${interrupt.message} — approve? [y/N] `)).trim().toLowerCase().startsWith('y');
        resume.push({ interruptId: interrupt.id, status: 'resolved', payload: { approved: yes } });
      } else {
        const choices = interrupt.responseSchema?.enum;
        const answer = await terminal.question(`\n${interrupt.message}${choices ? ` (${choices.join(' / ')})` : ''} `);
        resume.push({ interruptId: interrupt.id, status: 'resolved', payload: answer });
      }
    }
  }
} finally {
  terminal.close();
}
