import { AgentCapabilitiesSchema, RunAgentInputSchema } from '@ag-ui/core/schemas';
import { z } from 'zod';
import { chatBodySchema } from '../../apps/gateway/src/ai-sdk/ai-sdk-input';
import { jsonSchema } from './json-schema';

type Doc = Record<string, unknown>;

/** The OpenAPI paths of the AG-UI and AI SDK adapters (PROTOCOL.md §8, §9; README "AG-UI and the AI SDK"). */
export function protocolRoutes(helpers: {
  json: (schema: Doc | z.ZodType) => Doc;
  error: (description: string) => Doc;
  bearer: Doc[];
  standardErrors: Doc;
  readLimited: Doc;
  retryAfter: Doc;
}): Doc {
  const { json, error, bearer, standardErrors, readLimited, retryAfter } = helpers;
  const frameId = { type: 'string', pattern: '^\\d+(:\\d+)?$' };
  const stream = (description: string) => ({ description, content: { 'text/event-stream': { schema: { type: 'string' } } } });
  const tooMany = {
    '429': {
      ...error(
        'TOO_MANY_CONNECTIONS (the stream would exceed MAX_CONNECTIONS_PER_USER), RATE_LIMITED (sends, reads or replay slots), QUOTA_EXCEEDED (a new run while the daily quota is spent)',
      ),
      headers: retryAfter,
    },
  };
  const runIdParam = { name: 'runId', in: 'path', required: true, description: 'the AG-UI runId', schema: { type: 'string' } };
  const chatIdParam = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'the chat id (a UUID, or 1-128 of [A-Za-z0-9_.:-])',
    schema: { type: 'string' },
  };
  return {
    '/v1/agui': {
      post: {
        summary: 'AG-UI: run Herald with a RunAgentInput; the answer is AG-UI events over SSE (frame ids `<eventId>[:<n>]`)',
        description:
          'The last user message is the content; `forwardedProps` may carry `traceLevel`, `stream` (default true), `onBusy`. The same `runId` again re-attaches; a `resume` entry answers an interrupt; `Last-Event-ID` resumes after a frame.',
        security: bearer,
        parameters: [{ name: 'Last-Event-ID', in: 'header', schema: frameId }],
        requestBody: { required: true, content: json(jsonSchema(RunAgentInputSchema as unknown as z.ZodType)) },
        responses: {
          '200': stream('AG-UI events (`@ag-ui/encoder`), each frame with an `id`'),
          '404': error('NOT_FOUND: the threadId is a conversation of another user, or a resume entry on a thread without an AG-UI run'),
          ...tooMany,
          ...standardErrors,
        },
      },
    },
    '/v1/agui/capabilities': {
      get: {
        summary: 'AG-UI AgentCapabilities (`transport.resumable`, `humanInTheLoop.interrupts`)',
        security: bearer,
        responses: {
          '200': { description: 'AgentCapabilities', content: json(jsonSchema(AgentCapabilitiesSchema as unknown as z.ZodType)) },
          ...readLimited,
          ...standardErrors,
        },
      },
    },
    '/v1/agui/runs/{runId}': {
      get: {
        summary: 'AG-UI: the run’s stream again, right after frame `after` (or `Last-Event-ID`), or from RUN_STARTED',
        security: bearer,
        parameters: [runIdParam, { name: 'after', in: 'query', schema: frameId }, { name: 'Last-Event-ID', in: 'header', schema: frameId }],
        responses: {
          '200': stream('the frames after the cursor (none left: an empty stream)'),
          '404': error('NOT_FOUND'),
          ...tooMany,
          ...readLimited,
          ...standardErrors,
        },
      },
    },
    '/v1/agui/runs/{runId}/cancel': {
      post: {
        summary: 'AG-UI: cancel the Herald run behind the AG-UI run (as `POST /v1/runs/:runId/cancel`)',
        security: bearer,
        parameters: [runIdParam],
        responses: {
          '202': { description: 'cancelled', content: json(z.object({})) },
          '200': { description: 'already finished', content: json(z.object({ alreadyFinished: z.literal(true) })) },
          '404': error('NOT_FOUND'),
          ...standardErrors,
        },
      },
    },
    '/v1/ai-sdk/chat': {
      post: {
        summary:
          'The AI SDK UI message stream: what `DefaultChatTransport` posts; the answer streams with `x-vercel-ai-ui-message-stream: v1`, ending with `data: [DONE]`',
        description:
          '`submit-message` runs the last user message, or answers the clarification (a user message) or approval (an approval response) the chat’s run waits for. `regenerate-message` and edits (`messageId` naming a user message) are 400 until message branches exist.',
        security: bearer,
        requestBody: { required: true, content: json(chatBodySchema) },
        responses: {
          '200': stream('UI message chunks (`data: <json>`), then `data: [DONE]`'),
          '404': error('NOT_FOUND: the chat id is a conversation of another user'),
          ...tooMany,
          ...standardErrors,
        },
      },
    },
    '/v1/ai-sdk/chat/{id}/stream': {
      get: {
        summary: 'The chat’s active run, from the start of its last stream (what `useChat({ resume: true })` asks); 204 without one',
        security: bearer,
        parameters: [chatIdParam],
        responses: {
          '200': stream('UI message chunks, then `data: [DONE]`'),
          '204': { description: 'no active run' },
          ...tooMany,
          ...readLimited,
          ...standardErrors,
        },
      },
    },
    '/v1/ai-sdk/chat/{id}/stop': {
      post: {
        summary: 'Stop the chat’s run (the body the AI SDK’s guide sends is ignored); its stream ends with `abort`',
        security: bearer,
        parameters: [chatIdParam],
        responses: {
          '200': {
            description: '`alreadyFinished` when nothing was running',
            content: json(z.object({ ok: z.literal(true), alreadyFinished: z.boolean().optional() })),
          },
          ...standardErrors,
        },
      },
    },
  };
}
