import {
  daySchema,
  dayUsageReplySchema,
  HTTP_STATUS,
  ingestKnowledgeReplySchema,
  ingestKnowledgeRequestSchema,
  feedbackBodySchema,
  listFeedbackReplySchema,
  listConversationsReplySchema,
  listMessagesReplySchema,
  runRespondSchema,
  runSnapshotSchema,
  usageReplySchema,
  switchBranchReplySchema,
  setFeedbackReplySchema,
} from '@herald/contracts';
import { z } from 'zod';
import {
  adminUsageQuerySchema,
  devConfigReplySchema,
  devTokenBodySchema,
  listConversationsQuerySchema,
  listFeedbackQuerySchema,
  listMessagesQuerySchema,
  switchBranchBodySchema,
} from '../../apps/gateway/src/http/query.schemas';
import { jsonSchema } from './json-schema';
import { protocolRoutes } from './protocol-routes';
import { agentEventSchemas, chatSendDocSchema, chatSendResultSchema, errorBodySchema, runCancelResultSchema } from './schemas';

type Doc = Record<string, unknown>;
const json = (schema: Doc | z.ZodType) => ({ 'application/json': { schema: schema instanceof z.ZodType ? jsonSchema(schema) : schema } });
const component = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(component('Error')) });
const uuidParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', format: 'uuid' },
});
const bearer = [{ bearer: [] }];
const STANDARD_ERRORS = {
  '400': error('INVALID_INPUT'),
  '401': error('UNAUTHORIZED (with `WWW-Authenticate: Bearer`)'),
  '503': error('UNAVAILABLE'),
};
const retryAfter = { 'Retry-After': { description: 'seconds', schema: { type: 'integer' } } };
/** Every authenticated GET counts against READ_RATE_LIMIT_PER_MINUTE (PROTOCOL.md §6). */
const READ_LIMITED = { '429': { ...error('RATE_LIMITED: over READ_RATE_LIMIT_PER_MINUTE reads'), headers: retryAfter } };

/** The OpenAPI 3.1 document of the gateway's HTTP API (PROTOCOL.md §6). */
export function buildOpenApi(version: string): Doc {
  const queryShape = listConversationsQuerySchema.shape;
  const messagesQuery = listMessagesQuerySchema.shape;
  const adminUsageQuery = adminUsageQuerySchema.shape;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald HTTP API',
      version,
      description:
        'Generated from libs/contracts by `npm run docs:api`; do not edit. Same port as Socket.IO; JSON; `Authorization: Bearer <jwt>`. Errors are `{ error: { code, message } }`.',
    },
    servers: [{ url: 'http://localhost:3000' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: jsonSchema(z.object({ error: errorBodySchema })),
        ChatSendResult: jsonSchema(chatSendResultSchema),
        RunSnapshot: jsonSchema(runSnapshotSchema),
        AgentEvent: { oneOf: Object.values(agentEventSchemas).map((s) => jsonSchema(s)) },
      },
    },
    'x-error-statuses': HTTP_STATUS,
    paths: {
      '/v1/conversations': {
        get: {
          summary: 'The user’s conversations, newest `updatedAt` first',
          security: bearer,
          parameters: [
            { name: 'limit', in: 'query', schema: jsonSchema(queryShape.limit) },
            {
              name: 'before',
              in: 'query',
              description: 'the `nextBefore` cursor of the previous page',
              schema: jsonSchema(queryShape.before),
            },
          ],
          responses: {
            '200': { description: 'one page', content: json(listConversationsReplySchema) },
            ...READ_LIMITED,
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/conversations/{id}/messages': {
        get: {
          summary:
            'One page of a branch of the conversation (the active one, or the one ending at `leaf`): the newest `limit` stored messages older than message `before`, oldest first, each with `parentId` and `siblingIds`',
          security: bearer,
          parameters: [
            uuidParam('id', 'conversation id'),
            {
              name: 'limit',
              in: 'query',
              description: 'default 50; over 200 is 400 INVALID_INPUT',
              schema: jsonSchema(messagesQuery.limit),
            },
            {
              name: 'before',
              in: 'query',
              description: 'a message id: the `nextBefore` of the newer page',
              schema: { type: 'string', format: 'uuid' },
            },
            {
              name: 'leaf',
              in: 'query',
              description: 'a message id: the branch ending there instead of the active one',
              schema: { type: 'string', format: 'uuid' },
            },
          ],
          responses: {
            '200': {
              description:
                '`{ messages, nextBefore }`: `nextBefore` is the id to pass as `before` for the previous page, null when none remains (a page of very long messages may hold fewer than `limit`)',
              content: json(listMessagesReplySchema),
            },
            '404': error('NOT_FOUND (also: not the user’s, or `before` or `leaf` not one of its messages)'),
            ...READ_LIMITED,
            ...STANDARD_ERRORS,
          },
        },
        post: {
          summary: 'Send a message (as `chat:send`); `id` may be `new`',
          security: bearer,
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { anyOf: [{ const: 'new' }, { type: 'string', format: 'uuid' }] } },
          ],
          requestBody: { required: true, content: json(chatSendDocSchema.omit({ conversationId: true })) },
          responses: {
            '202': { description: 'accepted: the run starts', content: json(component('ChatSendResult')) },
            '404': error('NOT_FOUND'),
            '409': error('RUN_IN_PROGRESS (`onBusy: reject`)'),
            '413': error('INVALID_INPUT: body over 64 KiB (over 4 KiB without a valid token: answered before the body is read)'),
            '429': {
              ...error('RATE_LIMITED, or QUOTA_EXCEEDED (the daily quota is spent; `retryAfterMs` until the next UTC midnight)'),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/conversations/{id}/branch': {
        put: {
          summary:
            'Makes the branch through message `leafMessageId` the active one, down to the newest message under it; answers the leaf it ends at',
          security: bearer,
          parameters: [uuidParam('id', 'conversation id')],
          requestBody: { required: true, content: json(switchBranchBodySchema) },
          responses: {
            '200': { description: '`{ leafMessageId }`', content: json(switchBranchReplySchema) },
            '404': error('NOT_FOUND (not the user’s conversation, or not one of its messages)'),
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/runs/{runId}': {
        get: {
          summary: 'Run snapshot, with an ETag',
          security: bearer,
          parameters: [uuidParam('runId', 'run id'), { name: 'If-None-Match', in: 'header', schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'the snapshot',
              headers: { ETag: { schema: { type: 'string' } } },
              content: json(component('RunSnapshot')),
            },
            '304': {
              description: 'unchanged since `If-None-Match` (for a started run, known from its last event without a storage read)',
              headers: { ETag: { schema: { type: 'string' } } },
            },
            '404': error('NOT_FOUND'),
            ...READ_LIMITED,
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/runs/{runId}/cancel': {
        post: {
          summary: 'Cancel a queued or running run (as `run:cancel`)',
          security: bearer,
          parameters: [uuidParam('runId', 'run id')],
          responses: {
            '202': { description: 'cancelling: the run ends with `run_cancelled`', content: json(z.object({})) },
            '200': { description: 'the run had already finished', content: json(runCancelResultSchema) },
            '404': error('NOT_FOUND'),
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/runs/{runId}/respond': {
        post: {
          summary: 'Answer a clarification or approval (as `run:respond`)',
          security: bearer,
          parameters: [uuidParam('runId', 'run id')],
          requestBody: { required: true, content: json(runRespondSchema.omit({ runId: true })) },
          responses: {
            '202': { description: 'handed to the run', content: json(z.object({})) },
            '404': error('NOT_FOUND'),
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/events': {
        get: {
          summary: 'Server-Sent Events: the user’s events, replayed from `Last-Event-ID` (or `after`), then live',
          description: 'SSE `id` = event id, `event` = type, `data` = the envelope. `?token=` is accepted for `EventSource`.',
          security: bearer,
          parameters: [
            { name: 'after', in: 'query', schema: { type: 'string', pattern: '^\\d+$' } },
            { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^\\d+$' } },
            { name: 'token', in: 'query', description: 'the JWT, for clients that cannot set headers', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'an event stream; each `data` is an AgentEvent',
              content: { 'text/event-stream': { schema: component('AgentEvent') } },
            },
            '429': {
              ...error(
                'TOO_MANY_CONNECTIONS: the user holds MAX_CONNECTIONS_PER_USER sockets and streams; or RATE_LIMITED (with Retry-After): over READ_RATE_LIMIT_PER_MINUTE reads, or no replay slot (MAX_CONCURRENT_REPLAYS_PER_USER) in time',
              ),
              headers: retryAfter,
            },
            ...STANDARD_ERRORS,
          },
        },
      },
      ...protocolRoutes({
        json,
        error,
        bearer,
        standardErrors: STANDARD_ERRORS,
        readLimited: READ_LIMITED,
        retryAfter,
      }),
      '/v1/messages/{messageId}/feedback': {
        put: {
          summary:
            'Rate an assistant message of the user (as `message:feedback`): `rating` `up`, `down` or null (removes it), `comment` at most 2000 characters',
          security: bearer,
          parameters: [uuidParam('messageId', 'the assistant message')],
          requestBody: { required: true, content: json(feedbackBodySchema) },
          responses: {
            '200': { description: 'the rating now stored (null once removed)', content: json(setFeedbackReplySchema) },
            '404': error('NOT_FOUND: an unknown message, a user message or another user’s message'),
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/admin/feedback': {
        get: {
          summary: 'The current ratings changed since `since`, oldest change first, with their messages (admin tokens only)',
          description:
            'Pages of at most `limit` ratings (fewer when their messages are long); pass `nextAfter` as `after`, with the same `since`, for the next page.',
          security: bearer,
          parameters: [
            {
              name: 'since',
              in: 'query',
              description: 'an ISO 8601 time; default: every rating',
              schema: { type: 'string', format: 'date-time' },
            },
            { name: 'limit', in: 'query', schema: jsonSchema(listFeedbackQuerySchema.shape.limit) },
            { name: 'after', in: 'query', description: 'the `nextAfter` of the previous page', schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'one page of ratings', content: json(listFeedbackReplySchema) },
            '403': error('FORBIDDEN: not an admin token'),
            ...READ_LIMITED,
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/knowledge': {
        post: {
          summary: 'Add Markdown or text documents to the knowledge base (admin tokens: `role: admin` or `roles` containing it)',
          security: bearer,
          requestBody: { required: true, content: json(ingestKnowledgeRequestSchema) },
          responses: {
            '201': { description: 'the stored documents and their chunk counts', content: json(ingestKnowledgeReplySchema) },
            '403': error('FORBIDDEN: not an admin token'),
            '413': error('INVALID_INPUT: the body is larger than 1 MiB'),
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/usage': {
        get: {
          summary:
            'The user’s usage by UTC day, from `from` to `to` (inclusive, default the last 30 days; at most 366 days), with the daily quota (`null` without one)',
          security: bearer,
          parameters: [
            { name: 'from', in: 'query', description: 'YYYY-MM-DD (UTC); default 29 days before `to`', schema: jsonSchema(daySchema) },
            { name: 'to', in: 'query', description: 'YYYY-MM-DD (UTC); default today', schema: jsonSchema(daySchema) },
          ],
          responses: {
            '200': {
              description: '`days` lists the days with usage; `runs` counts the runs that ended, whatever their outcome',
              content: json(usageReplySchema),
            },
            ...READ_LIMITED,
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/admin/usage': {
        get: {
          summary: 'Every user’s usage on one UTC day, a page of users in user-id order (admin tokens only)',
          security: bearer,
          parameters: [
            { name: 'day', in: 'query', description: 'YYYY-MM-DD (UTC); default today', schema: jsonSchema(daySchema) },
            {
              name: 'limit',
              in: 'query',
              description: 'users per page: default 500, at most 1000',
              schema: jsonSchema(adminUsageQuery.limit),
            },
            { name: 'after', in: 'query', description: 'the `nextAfter` of the previous page (a user id)', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: '`nextAfter` is the id to pass as `after` for the next page, null when none remains',
              content: json(dayUsageReplySchema),
            },
            '403': error('FORBIDDEN: not an admin token'),
            ...READ_LIMITED,
            ...STANDARD_ERRORS,
          },
        },
      },
      '/v1/dev/config': {
        get: {
          summary: 'Whether this gateway signs development tokens (the web page asks before offering a sign-in by name)',
          responses: { '200': { description: '`devTokens`: `POST /v1/dev/token` answers', content: json(devConfigReplySchema) } },
        },
      },
      '/v1/dev/token': {
        post: {
          summary: 'A development token for a user name (only when DEV_TOKENS is on; never in production)',
          requestBody: { required: true, content: json(devTokenBodySchema) },
          responses: {
            '200': { description: 'a signed JWT', content: json(z.object({ token: z.string() })) },
            '404': error('dev tokens are off'),
            '400': error('INVALID_INPUT'),
            '413': error('INVALID_INPUT: body over 4 KiB (the route is unauthenticated)'),
          },
        },
      },
      '/health/live': { get: { summary: 'Liveness', responses: { '200': { description: 'the process runs' } } } },
      '/health/ready': {
        get: {
          summary: 'Readiness: NATS, Postgres and Redis',
          responses: {
            '200': { description: '`{ status: ready, checks }`: each check `{ ok, latencyMs? }`, never an error text' },
            '503': { description: '`{ status: unavailable | draining, checks }`' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics, on METRICS_PORT (default 9464), not the public port',
          responses: { '200': { description: 'text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
  };
}
