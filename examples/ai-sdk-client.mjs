#!/usr/bin/env node
// The AI SDK against Herald, in Node: the `DefaultChatTransport` useChat uses, pointed at
// POST /v1/ai-sdk/chat, with `readUIMessageStream` assembling the answer as useChat would.
// Prints the message's parts as they change and answers clarifications and approvals from
// the terminal, the way a useChat page would with a follow-up message or addToolApprovalResponse.
//
//   npm start                                                  # in another terminal
//   node examples/ai-sdk-client.mjs "What is NATS JetStream?"
//   node examples/ai-sdk-client.mjs "sales by category please"            # asks a clarification
//   node examples/ai-sdk-client.mjs "Export the revenue by region as CSV" # asks an approval
//
// HERALD_URL (default http://localhost:3000), HERALD_TOKEN (default: a development token for
// HERALD_USER, default "ai-sdk-example"), CHAT (default "ai-sdk-example": the conversation).
import { DefaultChatTransport, readUIMessageStream } from 'ai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const url = process.env.HERALD_URL ?? 'http://localhost:3000';
const user = process.env.HERALD_USER ?? 'ai-sdk-example';
const token =
  process.env.HERALD_TOKEN ??
  execFileSync(process.execPath, [join(root, 'libs/auth/dist/token.cli.js'), user], {
    encoding: 'utf8',
    env: { NODE_ENV: 'development', ...process.env },
  }).trim();
const chatId = process.env.CHAT ?? 'ai-sdk-example';
const transport = new DefaultChatTransport({ api: `${url}/v1/ai-sdk/chat`, headers: { Authorization: `Bearer ${token}` } });
const terminal = createInterface({ input: process.stdin, output: process.stdout });

/** Sends the messages and prints the assistant message as its parts arrive; resolves with it. */
async function exchange(messages, messageId) {
  const last = messages.at(-1);
  const stream = await transport.sendMessages({ chatId, messages, trigger: 'submit-message', messageId, abortSignal: undefined });
  let message;
  let printedText = 0;
  const seen = new Set();
  for await (const snapshot of readUIMessageStream({ stream, message: last.role === 'assistant' ? last : undefined })) {
    message = snapshot;
    for (const [i, part] of snapshot.parts.entries()) {
      if (part.type === 'text') {
        process.stdout.write(part.text.slice(printedText));
        printedText = part.text.length;
        continue;
      }
      const key = `${snapshot.id}:${i}:${part.state ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (part.type === 'reasoning' && part.state === 'done') console.log(`[thinking] ${part.text}`);
      if (part.type === 'dynamic-tool' && part.state !== 'input-streaming')
        console.log(`[tool ${part.toolName} ${part.toolCallId}] ${part.state}`);
      if (part.type === 'source-document') console.log(`[source] ${part.title}`);
      if (part.type === 'data-herald-clarification') console.log(`[question] ${part.data.question}`);
    }
  }
  console.log();
  return message;
}

const messages = [
  { id: randomUUID(), role: 'user', parts: [{ type: 'text', text: process.argv.slice(2).join(' ') || 'What is NATS JetStream?' }] },
];
try {
  let messageId;
  for (;;) {
    const answer = await exchange(messages, messageId);
    messageId = undefined;
    if (!answer) break;
    const question = answer.parts.find((p) => p.type === 'data-herald-clarification');
    const approval = answer.parts.find((p) => p.type === 'dynamic-tool' && p.state === 'approval-requested');
    if (question) {
      // The answer to a question is the next user message.
      const choices = question.data.choices?.length ? ` (${question.data.choices.join(' / ')})` : '';
      const text = await terminal.question(`${question.data.question}${choices} `);
      messages.push(answer, { id: randomUUID(), role: 'user', parts: [{ type: 'text', text }] });
    } else if (approval) {
      // What useChat's addToolApprovalResponse does: the same assistant message, sent again with the decision.
      const approved = (await terminal.question(`Run ${approval.toolName}? [y/N] `)).trim().toLowerCase().startsWith('y');
      const parts = answer.parts.map((p) =>
        p === approval ? { ...p, state: 'approval-responded', approval: { id: p.approval.id, approved } } : p,
      );
      messages.push({ ...answer, parts });
      messageId = answer.id;
    } else {
      break;
    }
  }
} finally {
  terminal.close();
}
