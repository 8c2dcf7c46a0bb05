import {
  CLIENT_EVENTS,
  EVENT_TYPES,
  eventsResumeSchema,
  messageFeedbackSchema,
  PERSISTENCE_RPC,
  type PersistenceRpc,
  RPC_SCHEMAS,
  rpcErrorBodySchema,
  runCancelCommandSchema,
  runCancelSchema,
  runRequestSchema,
  runRespondCommandSchema,
  runRespondSchema,
  setFeedbackReplySchema,
  SERVER_EVENTS,
  stepSettledNoticeSchema,
  storedEventSchema,
  subjects,
} from '@herald/contracts';
import { z } from 'zod';
import { jsonSchema } from './json-schema';
import {
  ackSchema,
  agentEventSchemas,
  chatSendDocSchema,
  chatSendResultSchema,
  eventsResumeResultSchema,
  runCancelResultSchema,
  sessionExpiredSchema,
  sessionReadySchema,
} from './schemas';

type Doc = Record<string, unknown>;
const ref = (path: string) => ({ $ref: path });

/** `herald.cmd.run.request` → `{namespace}.cmd.run.request`: addresses are written with the HERALD_NAMESPACE parameter. */
const s = subjects('herald');
const address = (subject: string) => subject.replace(/^herald\./, '{namespace}.');
const namespaceParam = { namespace: { description: 'HERALD_NAMESPACE (default `herald`)', default: 'herald' } };
const eventParams = {
  ...namespaceParam,
  user: { description: 'the user id as unpadded base64url (a user id is data, never a subject pattern)' },
  conversation: { description: 'conversation UUID' },
  run: { description: 'run UUID' },
};

/** Every reply of a request/reply call (libs/contracts `RpcReply`). */
const rpcReply = (data: z.ZodType) =>
  z.union([z.object({ ok: z.literal(true), data }), z.object({ ok: z.literal(false), error: rpcErrorBodySchema })]);

/** The AsyncAPI 3 document: the Socket.IO events of PROTOCOL.md and the NATS subjects between the services. */
export function buildAsyncApi(version: string): Doc {
  const messages: Doc = {};
  const channels: Doc = {};
  const operations: Doc = {};
  const message = (name: string, schema: z.ZodType, summary: string) => {
    messages[name] = { name, summary, contentType: 'application/json', payload: jsonSchema(schema) };
    return ref(`#/components/messages/${name}`);
  };

  // Socket.IO: the channels are the event names of libs/contracts (SERVER_EVENTS, CLIENT_EVENTS);
  // the records below are keyed by them, so an event added there fails the build until documented.
  const gateway = [ref('#/servers/gateway')];
  const serverEvents: { [K in keyof typeof SERVER_EVENTS]: { description: string; messages: () => Doc } } = {
    agentEvent: {
      description: 'Every lifecycle event of the user’s runs (PROTOCOL.md §3).',
      messages: () =>
        Object.fromEntries(EVENT_TYPES.map((t) => [t, message(`agentEvent.${t}`, agentEventSchemas[t], `agent:event of type ${t}`)])),
    },
    sessionReady: {
      description: 'The socket is joined to the user’s delivery.',
      messages: () => ({ sessionReady: message('sessionReady', sessionReadySchema, 'the socket is joined to the user’s delivery') }),
    },
    sessionExpired: {
      description: 'The token expired; the server disconnects.',
      messages: () => ({ sessionExpired: message('sessionExpired', sessionExpiredSchema, 'the token expired; the server disconnects') }),
    },
  };
  for (const [key, name] of Object.entries(SERVER_EVENTS) as Array<[keyof typeof SERVER_EVENTS, string]>) {
    const { description, messages: of } = serverEvents[key];
    channels[name] = { address: name, title: name, description, servers: gateway, messages: of() };
    operations[`receive ${name}`] = { action: 'receive', channel: ref(`#/channels/${name}`), summary: `The client receives \`${name}\`.` };
  }

  // Client → server, each with its ack: [payload, ack result, summary].
  const clientEvents: { [K in keyof typeof CLIENT_EVENTS]: [z.ZodType, z.ZodObject | undefined, string] } = {
    chatSend: [chatSendDocSchema, chatSendResultSchema, 'Send a message; starts a run.'],
    runCancel: [runCancelSchema, runCancelResultSchema, 'Cancel a queued or running run.'],
    runRespond: [runRespondSchema, undefined, 'Answer a clarification or an approval.'],
    messageFeedback: [
      messageFeedbackSchema,
      setFeedbackReplySchema,
      'Rate an assistant message of the user (`rating` null removes it); the ack carries the rating now stored.',
    ],
    eventsResume: [eventsResumeSchema, eventsResumeResultSchema, 'Re-deliver the events after `after`, then go live.'],
  };
  for (const [key, name] of Object.entries(CLIENT_EVENTS) as Array<[keyof typeof CLIENT_EVENTS, string]>) {
    const [payload, result, summary] = clientEvents[key];
    const id = name.replace(':', '.');
    channels[name] = {
      address: name,
      title: name,
      description: summary,
      servers: gateway,
      messages: { request: message(id, payload, summary), ack: message(`${id}.ack`, ackSchema(result), `the acknowledgement of ${name}`) },
    };
    operations[`send ${name}`] = {
      action: 'send',
      channel: ref(`#/channels/${name}`),
      summary,
      messages: [ref(`#/channels/${name}/messages/request`)],
      reply: { channel: ref(`#/channels/${name}`), messages: [ref(`#/channels/${name}/messages/ack`)] },
    };
  }

  // NATS
  const nats = [ref('#/servers/nats')];
  const natsChannel = (key: string, addr: string, params: Doc, name: string, schema: z.ZodType, description: string) => {
    channels[key] = {
      address: addr,
      description,
      servers: nats,
      parameters: params,
      messages: { [name]: message(name, schema, description) },
    };
  };
  natsChannel(
    'runRequests',
    address(s.runRequestOf('{conversation}')),
    { ...namespaceParam, conversation: eventParams.conversation },
    'runRequest',
    runRequestSchema,
    `JetStream stream \`{NAMESPACE}_RUNS\` (work queue): accepted runs, for an orchestrator, one subject per conversation (the stream's order is the conversation's admission order).`,
  );
  natsChannel(
    'runCancel',
    address(s.runCancel),
    namespaceParam,
    'runCancelCommand',
    runCancelCommandSchema,
    'Core NATS broadcast: stop this run wherever it is.',
  );
  natsChannel(
    'runRespond',
    address(s.runRespond),
    namespaceParam,
    'runRespondCommand',
    runRespondCommandSchema,
    'Core NATS broadcast: the user’s answer to a clarification or approval.',
  );
  natsChannel(
    'events',
    address(s.eventsAll).replace('>', '{user}.{conversation}.{run}'),
    eventParams,
    'storedEvents',
    z.array(storedEventSchema).min(1).max(100), // MAX_BATCH_EVENTS (libs/messaging)
    'JetStream stream `{NAMESPACE}_EVENTS`: lifecycle events, the events of one run published while its previous message was in flight as one message (group commit); an event id is the stream sequence × 1000 + the index in the message (a message stored before group commit holds one event, not an array, whose id is the sequence).',
  );
  channels.liveEvents = {
    address: address(s.liveAll).replace('>', '{user}.{conversation}.{run}'),
    description:
      'Core NATS: the EVENTS stream republished with the `Nats-Sequence` header (its events’ ids: sequence × 1000 + index), for the gateways.',
    servers: nats,
    parameters: eventParams,
    messages: { storedEvents: ref('#/components/messages/storedEvents') },
  };
  natsChannel(
    'conversationReleased',
    address(s.conversationReleased),
    namespaceParam,
    'conversationReleased',
    z.object({ conversationId: z.string() }),
    'Core NATS: a conversation has no active run any more.',
  );
  natsChannel(
    'stepSettled',
    address(s.stepSettled),
    namespaceParam,
    'stepSettledNotice',
    stepSettledNoticeSchema,
    'Core NATS, from the workers to the orchestrators: a step’s BullMQ job completed (with its result) or failed for good (with its failed reason), once BullMQ has recorded it.',
  );
  operations['publish run request'] = {
    action: 'send',
    channel: ref('#/channels/runRequests'),
    summary: 'The gateway publishes an accepted run.',
  };
  operations['publish events'] = {
    action: 'send',
    channel: ref('#/channels/events'),
    summary: 'Orchestrator and workers publish lifecycle events.',
  };
  operations['receive live events'] = {
    action: 'receive',
    channel: ref('#/channels/liveEvents'),
    summary: 'Each gateway subscribes once per connected user.',
  };
  operations['broadcast cancel'] = { action: 'send', channel: ref('#/channels/runCancel') };
  operations['broadcast respond'] = { action: 'send', channel: ref('#/channels/runRespond') };

  for (const op of Object.values(PERSISTENCE_RPC) as PersistenceRpc[]) {
    const { request, reply } = RPC_SCHEMAS[op];
    const id = `rpc.${op}`;
    channels[id] = {
      address: address(s.rpc(op)),
      description: `Request/reply to the persistence service: ${op}.`,
      servers: nats,
      parameters: namespaceParam,
      messages: {
        request: message(`${id}.request`, request, `${op} request`),
        reply: message(`${id}.reply`, rpcReply(reply), `${op} reply`),
      },
    };
    operations[`request ${op}`] = {
      action: 'send',
      channel: ref(`#/channels/${id}`),
      messages: [ref(`#/channels/${id}/messages/request`)],
      reply: { channel: ref(`#/channels/${id}`), messages: [ref(`#/channels/${id}/messages/reply`)] },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Herald events',
      version,
      description:
        'Generated from libs/contracts by `npm run docs:api`; do not edit. The Socket.IO events clients use (PROTOCOL.md), and the NATS subjects that wire the services.',
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: {
        host: 'localhost:3000',
        pathname: '/socket.io',
        protocol: 'ws',
        description: 'Socket.IO v4 (Engine.IO 4), `auth.token` = JWT; WebSocket and long-polling.',
      },
      nats: { host: 'localhost:4222', protocol: 'nats', description: 'NATS with JetStream (internal).' },
    },
    channels,
    operations,
    components: { messages },
  };
}
