import type { AgentEvent } from '@herald/contracts';
import type { Response } from 'express';
import { SseResponse } from '../run-stream/sse-response';

const SSE_RETRY_MS = 3000;

/** `GET /v1/events`' frame for one event: `id` = event id, `event` = type, `data` = the envelope. */
function agentEventFrame(event: AgentEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * One Server-Sent Events response of Herald's own stream: a `retry:` field and an opening
 * comment, then one frame per event, and a comment every `heartbeatMs` (SSE_HEARTBEAT_MS) so
 * that proxies keep it open.
 */
export class SseStream extends SseResponse {
  constructor(res: Response, heartbeatMs: number) {
    super(res, { heartbeatMs, preamble: `retry: ${SSE_RETRY_MS}\n: connected\n\n` });
  }

  sendEvent(event: AgentEvent): void {
    this.send(agentEventFrame(event));
  }
}
