import { gzipSync } from 'node:zlib';
import {
  chatSendSchema,
  ErrorCode,
  eventsResumeSchema,
  ingestKnowledgeRequestSchema,
  isUuid,
  isValidUserId,
  messageFeedbackSchema,
  parseInput,
  runCancelSchema,
  runRespondSchema,
} from '@herald/contracts';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import { type AppName, Cluster, CLUSTER_JWT_SECRET } from '../support/cluster';
import { untilRunLogged } from '../support/stored';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Hostile input against running gateways (two real instances, with persistence, an
 * orchestrator and a worker behind them): every client event of PROTOCOL.md §2 (and unknown
 * ones, events without or with odd callbacks, binary and raw Socket.IO packets, frames at and
 * over the 64 KiB limit) and every HTTP route of §6 (and the routes §8/§9 document), with
 * wrong types, 10,000-deep nesting, huge strings, lone surrogates, NUL, RTL overrides,
 * combining marks, astral characters, `__proto__`/`constructor`/`prototype` keys, NaN,
 * Infinity, -0, 1e308 and huge integers, bodies that are not JSON, wrong content types and
 * encodings, hostile path and query parameters, cursors, conditional and Authorization headers.
 *
 * Every case must get a clear answer: a socket ack `{ ok: false, error: { code, message } }`
 * with a code of libs/contracts errors.ts (or the documented `{ ok: true, … }` for input that
 * is valid), an HTTP 4xx with JSON `{ error: { code, message } }` (never a 5xx, never a
 * stack trace, never a hang); no service exits; the connection stays usable (the same socket
 * answers `events:resume { after: '0' }` right after); and nothing is stored (each property
 * fuzzes as a user of its own, whose conversations and runs stay empty). A valid `chat:send`
 * is never sent: every payload is broken by construction, and checked against the schema
 * the gateway uses (plus persistence's NUL rule) before it is sent.
 *
 * Limits are raised for the fuzzing (rate limits would mask validation); one property runs
 * against a gateway with the default limits and checks that its 429s are clean too.
 *
 * FUZZ_SEED=<n> replays a run (fast-check prints the seed and path of any failure).
 */

const FUZZ_ENV = {
  MAX_CONNECTIONS_PER_USER: '1000',
  READ_RATE_LIMIT_PER_MINUTE: '100000',
  RATE_LIMIT_PER_MINUTE: '100000',
  MAX_CONCURRENT_REPLAYS_PER_USER: '1000',
};
/** The documented defaults (PROTOCOL.md §7), for the gateway that checks the 429s. */
const DEFAULT_LIMITS = {
  MAX_CONNECTIONS_PER_USER: '20',
  READ_RATE_LIMIT_PER_MINUTE: '600',
  RATE_LIMIT_PER_MINUTE: '10',
  MAX_CONCURRENT_REPLAYS_PER_USER: '4',
};
/** The cluster runs with the default MAX_MESSAGE_CHARS. */
const MAX_MESSAGE_CHARS = 8000;
/** Socket.IO maxHttpBufferSize and the JSON body limit (PROTOCOL.md §7, json-body.ts). */
const FRAME_LIMIT = 64 * 1024;
const BODY_LIMIT = 64 * 1024;
/** POST /v1/knowledge, /v1/agui and /v1/ai-sdk/chat (whole documents, whole threads). */
const KNOWLEDGE_BODY_LIMIT = 1024 * 1024;
/** Payloads of the properties that must be answered stay this far under the frame limit. */
const SAFE_FRAME_BYTES = 60_000;
const ACK_TIMEOUT_MS = 5_000;
const HTTP_TIMEOUT_MS = 10_000;
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const KNOWN_EVENTS = ['chat:send', 'run:cancel', 'run:respond', 'message:feedback', 'events:resume'] as const;
/** Names socket.io-client refuses to emit (and the server's parser refuses to decode). */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));
/** The codes an HTTP status may carry (PROTOCOL.md §6; 413 is a body over the limit). */
const CODES_BY_STATUS: Record<number, string[]> = {
  400: ['INVALID_INPUT'],
  401: ['UNAUTHORIZED'],
  403: ['FORBIDDEN'],
  404: ['NOT_FOUND'],
  409: ['RUN_IN_PROGRESS'],
  413: ['INVALID_INPUT'],
  429: ['RATE_LIMITED', 'TOO_MANY_CONNECTIONS', 'QUOTA_EXCEEDED'],
};
/** What a stack trace or a source path looks like in a message. */
// (?<!\s)[^\S\n]*\n rather than \n: a match starts once per run of whitespace, not from each of its newlines.
const STACK_RE = /(?<!\s)[^\S\n]*\n\s+at \S|\bat \S+ \(\S+:\d+:\d+\)|\/(?:work|home|usr|app|opt)\/\S+\.[jt]s\b|node_modules\//;
/** `Authorization: Bearer <jwt>` as the gateway reads it (bearer-auth.guard.ts). */
const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const chatSchema = chatSendSchema(MAX_MESSAGE_CHARS);

// ---------------------------------------------------------------------------------------------
// Oracles: what the gateway must answer, from the same schemas it uses.

function accepts<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> | undefined {
  try {
    return parseInput(schema, value);
  } catch {
    return undefined;
  }
}

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  return Object.values(value).some((v) => containsNul(v, depth + 1));
}

/** True when a `chat:send` payload (as the server decodes it) is refused: by the gateway's schema, or by persistence (NUL). */
function chatRefused(payload: unknown): boolean {
  const input = accepts(chatSchema, payload);
  return input === undefined || containsNul(input);
}

/** Binary values as the server sees their structure (a Buffer: an object of byte-indexed keys). */
function binaryAsObject(value: ArrayBuffer | ArrayBufferView): Record<string, number> {
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return Object.fromEntries([...bytes].map((b, i) => [String(i), b]));
}

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * An event's arguments as the gateway receives them through Socket.IO: JSON, with binary parts
 * as Buffers. A packet with binary parts is copied key by key first (socket.io-client's
 * deconstructPacket), which drops own `__proto__` keys anywhere in it.
 */
function overSocket(args: unknown[]): unknown[] {
  const hasBinary = (v: unknown): boolean => isBinary(v) || (v !== null && typeof v === 'object' && Object.values(v).some(hasBinary));
  const binary = hasBinary(args);
  const copy = (v: unknown): unknown => {
    if (isBinary(v)) return binaryAsObject(v);
    if (Array.isArray(v)) return v.map(copy);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (binary) out[k] = copy(x);
        else defineOwn(out, k, copy(x));
      }
      return out;
    }
    return v;
  };
  return JSON.parse(JSON.stringify(args.map(copy))) as unknown[];
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A copy of `o` with `key` set as an own property (`__proto__` included). */
function withOwn(o: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) defineOwn(out, k, v);
  defineOwn(out, key, value);
  return out;
}

function without(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== key) defineOwn(out, k, v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isBinary(v);
}

type Expected = { ok: true; lastId: string } | { ok: false; code: ErrorCode };

/** The ack a fresh user (no conversations, runs or events) must get for `event` with `payload` (as decoded). */
function expectedAck(event: unknown, payload: unknown): Expected | 'skip' {
  switch (event) {
    case 'chat:send':
      return chatRefused(payload) ? { ok: false, code: ErrorCode.INVALID_INPUT } : 'skip';
    case 'run:cancel':
      return { ok: false, code: accepts(runCancelSchema, payload) ? ErrorCode.NOT_FOUND : ErrorCode.INVALID_INPUT };
    case 'run:respond':
      return { ok: false, code: accepts(runRespondSchema, payload) ? ErrorCode.NOT_FOUND : ErrorCode.INVALID_INPUT };
    case 'message:feedback':
      // The fuzzing users have no messages: a well-formed rating names someone else's or none.
      return { ok: false, code: accepts(messageFeedbackSchema, payload) ? ErrorCode.NOT_FOUND : ErrorCode.INVALID_INPUT };
    case 'events:resume': {
      const input = accepts(eventsResumeSchema, payload);
      return input ? { ok: true, lastId: input.after } : { ok: false, code: ErrorCode.INVALID_INPUT };
    }
    default:
      return { ok: false, code: ErrorCode.INVALID_INPUT };
  }
}

/** The parts of an Engine.IO client connection the raw-packet properties use. */
interface RawPacket {
  type: string;
  data?: unknown;
}
interface RawEngine {
  on(event: 'packet', listener: (packet: RawPacket) => void): void;
  off(event: 'packet', listener: (packet: RawPacket) => void): void;
  /** Sends one Engine.IO message packet (`4` + data) through the connection's buffer. */
  write(data: string | Buffer): void;
  transport: { send(packets: RawPacket[]): void };
}
function engineOf(socket: Socket): RawEngine {
  return socket.io.engine as unknown as RawEngine;
}

/** `promise`, or a rejection with `what` after `ms` (the timer is cleared either way). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function fail(message: string): never {
  throw new Error(message);
}

function show(value: unknown, max = 300): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

function expectCleanMessage(message: unknown, context: string): void {
  if (typeof message !== 'string' || message.length === 0) fail(`${context}: error.message is not a non-empty string: ${show(message)}`);
  if (STACK_RE.test(message)) fail(`${context}: error.message looks like a stack trace or a path: ${show(message)}`);
}

/** `{ ok: false, error: { code, message, retryAfterMs? } }` and nothing else. */
function expectErrorAck(res: unknown, code: ErrorCode, context: string): void {
  const ack = res as { ok?: unknown; error?: Record<string, unknown> };
  if (!isPlainObject(res) || ack.ok !== false || !isPlainObject(ack.error)) fail(`${context}: not an error ack: ${show(res)}`);
  if (Object.keys(res).sort().join() !== 'error,ok') fail(`${context}: extra ack fields: ${show(res)}`);
  const extra = Object.keys(ack.error).filter((k) => !['code', 'message', 'retryAfterMs'].includes(k));
  if (extra.length) fail(`${context}: extra error fields ${extra.join()}: ${show(res)}`);
  if (!ERROR_CODES.has(String(ack.error.code))) fail(`${context}: code not in errors.ts: ${show(res)}`);
  if (ack.error.code !== code) fail(`${context}: expected ${code}, got ${show(res)}`);
  expectCleanMessage(ack.error.message, context);
}

function expectAck(res: unknown, expected: Expected, context: string): void {
  if (!expected.ok) return expectErrorAck(res, expected.code, context);
  const want = { ok: true, replayed: 0, lastId: expected.lastId, more: false };
  if (show(res) !== show(want)) fail(`${context}: expected ${show(want)}, got ${show(res)}`);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const NASTY_CHARS = [
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u0000',
  '\u0001',
  '\u001F',
  '\u007F',
  '\u0085',
  '\u202E',
  '\u202D',
  '\u2066',
  '\u200B',
  '\u200D',
  '\u200E',
  '\uFEFF',
  '\uFFFD',
  '\uFFFE',
  '\uFFFF',
  '\u0301',
  '\u0336',
  '\u20DD',
  '\u2028',
  '\u2029',
  '\u00A0',
  '\u3000',
  '\n',
  '\r',
  '\t',
  '"',
  '\\',
  '/',
  '%',
  '.',
  '..',
  '*',
  '>',
  '&',
  '?',
  '#',
  '=',
  '+',
  ' ',
  "'",
  '`',
  '😀',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '𝕳',
  '𐍈',
  'e\u0301',
  'Z\u0351\u0357\u0364\u0369\u0336',
  'ﷺ',
  'ß',
  'İ',
  'ǅ',
  '٣',
  '¹',
  '０',
  '${x}',
  '{{x}}',
  '<script>',
  '%s%n',
  '\\u0000',
  'null',
  '-',
];
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
  { weight: 3, arbitrary: fc.string({ maxLength: 3 }) },
);
const SPECIAL_STRINGS = [
  '',
  ' ',
  'new',
  'NEW',
  'New',
  ' new',
  'new ',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '0',
  '-0',
  '-1',
  '01',
  '1e3',
  '1.0',
  '0x10',
  '9999999999999999999',
  '99999999999999999999',
  '18446744073709551616',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '{00000000-0000-0000-0000-000000000000}',
  ' 00000000-0000-0000-0000-000000000000',
  '00000000-0000-0000-0000-00000000000g',
  '00000000000000000000000000000000',
  "'; DROP TABLE runs; --",
  '../../etc/passwd',
  '..',
  '.',
  '{}',
  '[]',
  'a'.repeat(129),
  'k'.repeat(65),
];
/** Strings that break things: lone surrogates, NUL, bidi overrides, combining marks, astral characters, long runs. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(hostileChar, { maxLength: 24 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: fc.tuple(hostileChar, fc.integer({ min: 1, max: 6_000 })).map(([c, n]) => c.repeat(n)) },
);
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    1,
    -1,
    0.5,
    1e308,
    -1e308,
    5e-324,
    1e21,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 64,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    Number.MAX_VALUE,
    200,
    201,
    8001,
  ),
  fc.integer(),
  fc.double(),
);
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const FIELD_NAMES = [
  'conversationId',
  'content',
  'clientMessageId',
  'options',
  'traceLevel',
  'stream',
  'onBusy',
  'runId',
  'requestId',
  'response',
  'approved',
  'comment',
  'after',
  'parentMessageId',
  'regenerate',
  'documents',
  'name',
  'userId',
  'leafMessageId',
  'rating',
  'messages',
  'threadId',
  'id',
  'trigger',
  'toJSON',
  'length',
  '0',
];
const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 2, arbitrary: fc.array(hostileChar, { maxLength: 8 }).map((a) => a.join('')) },
);
const binaryLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 16 }),
  fc.constant(new ArrayBuffer(0)),
  fc.constant(Buffer.alloc(0)),
  fc.float64Array({ maxLength: 4 }),
);

function valueArbitrary(withBinary: boolean): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    { weight: 4, arbitrary: hostileString as fc.Arbitrary<unknown> },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
    ...(withBinary ? [{ weight: 1, arbitrary: binaryLeaf }] : []),
  );
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map((entries) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries) defineOwn(o, k, v);
      return o;
    }),
  })).value;
}
/** Values that survive JSON (HTTP bodies). */
const jsonishValue = valueArbitrary(false);
/** Values for Socket.IO events: binary parts included. */
const socketValue = valueArbitrary(true);

const uuid = fc.uuid();
/** A UUID the server accepts as one, in any case. */
const anyCaseUuid = fc.oneof(
  uuid,
  uuid.map((u) => u.toUpperCase()),
);

/** Valid `chat:send` payloads: only ever the base that gets broken below. */
const validChat: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    conversationId: fc.oneof(fc.constant('new'), anyCaseUuid),
    content: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0),
    clientMessageId: fc.string({ minLength: 1, maxLength: 64 }),
    options: fc.record(
      {
        traceLevel: fc.constantFrom('none', 'summary', 'full'),
        stream: fc.boolean(),
        onBusy: fc.constantFrom('enqueue', 'reject', 'interrupt'),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['conversationId', 'content'] },
);
const WHITESPACE = [
  ' ',
  '\t',
  '\n',
  '\r',
  '\v',
  '\f',
  '\u00A0',
  '\u1680',
  '\u2000',
  '\u200A',
  '\u2028',
  '\u2029',
  '\u202F',
  '\u205F',
  '\u3000',
  '\uFEFF',
];
/** `count` code points made of `unit` (its code points counted as the schema counts them). */
function codePoints(unit: string, count: number): string {
  const per = [...unit].length;
  return unit.repeat(Math.ceil(count / per));
}
type Breaker = (o: Record<string, unknown>) => unknown;
/** Ways to make a `chat:send` payload invalid. */
const chatBreaker: fc.Arbitrary<Breaker> = fc.oneof(
  // A field of the wrong type (or a hostile string where an enum or a UUID belongs).
  fc.tuple(fc.constantFrom('conversationId', 'content', 'clientMessageId', 'options'), socketValue).map(
    ([field, v]): Breaker =>
      (o) =>
        withOwn(o, field, v),
  ),
  // A required field missing.
  fc.constantFrom('conversationId', 'content').map(
    (field): Breaker =>
      (o) =>
        without(o, field),
  ),
  // Content that is only whitespace (Unicode's included), or NUL (which Postgres cannot store).
  fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 30 }).map((ws): Breaker => (o) => ({ ...o, content: ws.join('') })),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))
    .map(([a, b]): Breaker => (o) => ({ ...o, content: `${a}\u0000${b}x` })),
  // Content over MAX_MESSAGE_CHARS, counted in code points (astral characters, combining marks, lone surrogates).
  fc
    .tuple(fc.constantFrom('x', '😀', 'e\u0301', '\uD800', '\u202E', '\u0000'), fc.integer({ min: 1, max: 300 }))
    .map(([unit, extra]): Breaker => (o) => ({ ...o, content: codePoints(unit, MAX_MESSAGE_CHARS + extra) })),
  // A conversation that is neither "new" nor a UUID.
  hostileString.map((s): Breaker => (o) => ({ ...o, conversationId: s })),
  // An unknown field (prototype keys included) or a field of another event.
  fc.tuple(hostileKey, socketValue).map(
    ([k, v]): Breaker =>
      (o) =>
        withOwn(o, k, v),
  ),
  // Broken options: unknown keys, unknown enum values, a non-boolean stream.
  fc
    .tuple(fc.constantFrom('traceLevel', 'onBusy', 'stream', 'colour', ...PROTO_KEYS), socketValue)
    .map(([k, v]): Breaker => (o) => ({ ...o, options: withOwn(isPlainObject(o.options) ? o.options : {}, k, v) })),
  // A clientMessageId that is empty or over 64 characters.
  fc
    .oneof(
      fc.constant(''),
      fc.integer({ min: 65, max: 3000 }).map((n) => 'k'.repeat(n)),
    )
    .map((id): Breaker => (o) => ({ ...o, clientMessageId: id })),
  // Not an object at all.
  socketValue
    .filter((v) => !isPlainObject(v))
    .map(
      (v): Breaker =>
        () =>
          v,
    ),
  fc.constant<Breaker>((o) => [o]),
);
/** `chat:send` payloads that are invalid by construction (each one is checked again before it is sent). */
const invalidChat: fc.Arbitrary<unknown> = fc
  .tuple(validChat, fc.array(chatBreaker, { minLength: 1, maxLength: 3 }))
  .map(([base, breakers]) => breakers.reduce<unknown>((o, b) => (isPlainObject(o) ? b(o) : o), base));

/** A base payload, with 0-3 fields replaced by hostile values, removed, or added; or no object at all. */
function mutated(base: fc.Arbitrary<Record<string, unknown>>, fields: string[], special: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const mutation: fc.Arbitrary<Breaker> = fc.oneof(
    fc.tuple(fc.constantFrom(...fields), fc.oneof(socketValue, special)).map(
      ([f, v]): Breaker =>
        (o) =>
          withOwn(o, f, v),
    ),
    fc.constantFrom(...fields).map(
      (f): Breaker =>
        (o) =>
          without(o, f),
    ),
    fc.tuple(hostileKey, socketValue).map(
      ([k, v]): Breaker =>
        (o) =>
          withOwn(o, k, v),
    ),
  );
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(base, fc.array(mutation, { maxLength: 3 }))
        .map(([b, ms]) => ms.reduce<unknown>((o, m) => (isPlainObject(o) ? m(o) : o), b)),
    },
    { weight: 1, arbitrary: socketValue },
  );
}

/** Strings that are nearly event ids, UUIDs or request ids. */
const nearIds = fc.oneof(
  fc.constantFrom('-1', '01', '1.0', ' 1', '1 ', '+1', '1e3', '0x1f', '١٢٣', '１', '12345678901234567890', '9223372036854775807', '0'),
  fc.bigInt({ min: 0n, max: 10n ** 22n }).map(String),
  hostileNumber,
  anyCaseUuid,
  uuid.map((u) => ` ${u}`),
  uuid.map((u) => u.replace(/-/g, '')),
  fc.string({ minLength: 127, maxLength: 130 }),
);
function cancelPayload(runIds: string[]) {
  return mutated(fc.record({ runId: fc.oneof(anyCaseUuid, fc.constantFrom(...runIds)) }), ['runId'], nearIds);
}
function respondPayload(runIds: string[]) {
  const response = fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.record({ approved: fc.boolean(), comment: fc.string({ maxLength: 20 }) }, { requiredKeys: ['approved'] }),
    fc.constantFrom('', 'x'.repeat(8001), { approved: 'true' }, { approved: true, comment: 'c'.repeat(2001) }, { approved: 1 }),
    fc.tuple(hostileKey, socketValue).map(([k, v]) => withOwn({ approved: false }, k, v)),
  );
  return mutated(
    fc.record({
      runId: fc.oneof(anyCaseUuid, fc.constantFrom(...runIds)),
      requestId: fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), hostileString),
      response,
    }),
    ['runId', 'requestId', 'response'],
    fc.oneof(nearIds, response),
  );
}
function feedbackPayload(messageIds: string[]) {
  const comment = fc.oneof(
    fc.string({ maxLength: 20 }),
    hostileString,
    fc.constantFrom('', '   ', 'c'.repeat(2000), 'c'.repeat(2001), '👍'.repeat(2000), 'a\u0000b', 'half \ud800 pair'),
  );
  return mutated(
    fc.record(
      {
        messageId: fc.oneof(anyCaseUuid, fc.constantFrom(...messageIds)),
        rating: fc.constantFrom('up', 'down', null, 'UP', '', 1, true),
        comment,
      },
      { requiredKeys: ['messageId', 'rating'] },
    ),
    ['messageId', 'rating', 'comment'],
    fc.oneof(nearIds, comment),
  );
}
function resumePayload(conversationIds: string[]) {
  return mutated(
    fc.record(
      {
        after: fc.oneof(fc.constantFrom('0', '1', '9999999999999999999'), fc.nat().map(String), fc.nat(), nearIds),
        conversationId: fc.oneof(anyCaseUuid, fc.constantFrom(...conversationIds)),
      },
      { requiredKeys: ['after'] },
    ),
    ['after', 'conversationId'],
    nearIds,
  );
}
/** Event names the server does not serve. */
const unknownEvent: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      'chat:shout',
      'CHAT:SEND',
      'chat:send ',
      ' chat:send',
      'chat:send\u0000',
      'run:cancel\u200B',
      'events:resume\u202E',
      'error',
      'toString',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'session:ready',
      'agent:event',
      'session:expired',
      '',
      '*',
    ),
    hostileString,
  )
  .filter((name) => !(KNOWN_EVENTS as readonly string[]).includes(name) && !RESERVED_EVENTS.has(name));

// ---------------------------------------------------------------------------------------------
// Percent-encoding of hostile strings for paths and queries.

const RAW_PERCENT = [
  '%',
  '%%',
  '%zz',
  '%C0%80',
  '%FF%FE',
  '%00',
  '%E2%80%AE',
  '%2F',
  '%5C',
  '%u0041',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%0D%0A',
];

/** encodeURIComponent, with lone surrogates written as the (invalid) UTF-8 a careless client would send. */
function percentEncode(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** A path segment that URL parsing keeps as it is (`.` and `..`, also as %2e, would be resolved away). */
function segment(encoded: string): string {
  const dots = encoded.replace(/%2e/gi, '.');
  return dots === '.' || dots === '..' ? `x${encoded}` : encoded;
}

/** The value Express decodes a path parameter to (undefined: it cannot, 400). */
function decodedParam(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

const pathParam: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileString.filter((s) => s.length <= 300).map((s) => segment(percentEncode(s))) },
  { weight: 2, arbitrary: anyCaseUuid },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_PERCENT, 'new', 'NEW', '%6Eew', 'new%00', uuidLike('%2D')) },
);
function uuidLike(sep: string): string {
  return ['00000000', '0000', '4000', '8000', '000000000000'].join(sep);
}
const QUERY_KEYS = [
  'limit',
  'before',
  'after',
  'leaf',
  'token',
  'from',
  'to',
  'day',
  'since',
  'limit[]',
  'limit[a]',
  'before[0]',
  ...PROTO_KEYS,
  '',
];
const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '0', '1', '-1', '1.5', '1e2', '0x10', '20', '50', '100', '101', '200', '201', 'NaN', 'Infinity', '-0', ' 5', '5 '),
  fc.constantFrom('9007199254740993', '1e308', '99999999999999999999', 'null', 'true', '[]', '{}', '2026-13-45', '2026-01-01'),
  hostileString.filter((s) => s.length <= 500),
  hostileNumber.map(String),
  uuid,
);
const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...QUERY_KEYS),
        hostileString.filter((s) => s.length <= 50),
      ),
      queryValue,
      fc.boolean(),
      fc.constantFrom(...RAW_PERCENT),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs
      .map(
        ([k, v, raw, junk]) => `${percentEncode(k)}${k === '' && v === '' ? '' : `=${raw ? junk + percentEncode(v) : percentEncode(v)}`}`,
      )
      .join('&'),
  );
/** A header value fetch can send (latin-1, no CR/LF/NUL). */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength: 120,
  }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '1',
    '-1',
    '01',
    '1e3',
    '99999999999999999999',
    '9223372036854775807',
    '*',
    'W/"x"',
    '"x", W/"y"',
    ',,,',
    'null',
  ),
  fc.nat().map(String),
  fc.integer({ min: 1, max: 2000 }).map((n) => '9'.repeat(n)),
);

// ---------------------------------------------------------------------------------------------
// The cluster, sockets and HTTP.

describe('fuzzing the gateway: every socket event and HTTP route (real processes)', () => {
  let cluster: Cluster;
  let pg: Client;
  const started: Record<AppName, number> = { gateway: 2, orchestrator: 1, worker: 1, persistence: 1 };
  const sockets = new Set<Socket>();
  const fuzzUsers: string[] = [];
  const summary: string[] = [];
  let owner: { userId: string; runId: string; conversationId: string; messageId: string; etag: string; lastEventId: string };
  let knowledgeDocuments = 0;
  let rawAckId = 1_000_000;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: FUZZ_ENV });
    pg = new Client({ connectionString: cluster.databaseUrl });
    await pg.connect();
    knowledgeDocuments = Number((await pg.query('SELECT count(*)::int AS n FROM kb_documents')).rows[0].n);
    // Outside the fuzz streams: one real run of another user, whose ids the fuzzing users must not reach.
    const client = await cluster.client('fuzz-owner', 1);
    const handle = await client.ask('Hello! What is NATS JetStream?');
    const events = await handle.done();
    expect(events.at(-1)!.type).toBe('orchestration_completed');
    await untilRunLogged(cluster, 'fuzz-owner', handle.runId, events.at(-1)!.id);
    const snapshot = await cluster.http(`/v1/runs/${handle.runId}`, { userId: 'fuzz-owner' });
    expect(snapshot.status).toBe(200);
    const answer = events.find((e) => e.type === 'message');
    owner = {
      userId: 'fuzz-owner',
      runId: handle.runId,
      conversationId: handle.conversationId,
      messageId: answer?.type === 'message' ? answer.data.messageId : fail('the owner’s run stored no answer'),
      etag: snapshot.headers.get('etag')!,
      lastEventId: events.at(-1)!.id,
    };
    client.close();
  }, 90_000);

  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    await pg?.end();
    await cluster?.stop();
    if (summary.length) console.log(`fuzz runs (seed ${SEED ?? 'random'}):\n${summary.join('\n')}`);
  }, 30_000);

  function freshUser(name: string): string {
    const userId = `fuzz-${name}-${Math.random().toString(36).slice(2, 10)}`;
    fuzzUsers.push(userId);
    return userId;
  }

  /** Every service started is still running. */
  function expectAlive(): void {
    for (const app of Object.keys(started) as AppName[]) {
      const running = cluster.running(app).length;
      if (running !== started[app]) fail(`${app}: ${running} of ${started[app]} instances running (see ${cluster.logDir})`);
    }
  }

  /** The users stored nothing: no conversation (over HTTP, on both gateways, and in Postgres) and no run. */
  async function expectNothingStored(userIds: string[]): Promise<void> {
    for (const userId of userIds.slice(0, 3)) {
      for (const gateway of [0, 1]) {
        const res = await cluster.http('/v1/conversations', { userId, gateway });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ conversations: [], nextBefore: null });
      }
    }
    const { rows } = await pg.query(
      `SELECT (SELECT count(*) FROM conversations WHERE user_id = ANY($1))::int AS conversations,
              (SELECT count(*) FROM runs WHERE user_id = ANY($1))::int AS runs,
              (SELECT count(*) FROM message_feedback)::int AS ratings,
              (SELECT count(*) FROM kb_documents)::int AS documents`,
      [userIds],
    );
    expect(rows[0]).toEqual({ conversations: 0, runs: 0, ratings: 0, documents: knowledgeDocuments });
  }

  /** Runs a property (bounded by runs and by time) and records how many runs it made. */
  async function check<Ts>(name: string, property: fc.IRawProperty<Ts, true>, numRuns: number, timeLimitMs: number): Promise<void> {
    const t0 = Date.now();
    const details = await fc.check(property, {
      numRuns,
      seed: SEED,
      interruptAfterTimeLimit: timeLimitMs,
      markInterruptAsFailure: false,
      includeErrorInReport: true,
    });
    summary.push(`  ${name}: ${details.numRuns} runs (${details.numSkips} skipped) in ${Date.now() - t0} ms, seed ${details.seed}`);
    if (details.failed) throw new Error(`${name}: ${fc.defaultReportMessage(details)}`);
    expect(details.numRuns).toBeGreaterThan(0);
    expectAlive();
  }

  type Transport = 'websocket' | 'polling';

  async function openSocket(gateway: number, userId: string, transport: Transport = 'websocket'): Promise<Socket> {
    const socket = io(cluster.gatewayUrl(gateway), {
      transports: [transport],
      auth: { token: await cluster.token(userId) },
      reconnection: false,
      forceNew: true,
    });
    sockets.add(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no session:ready from gateway ${gateway}`)), 10_000);
      socket.once('session:ready', () => (clearTimeout(timer), resolve()));
      socket.once('connect_error', (err) => (clearTimeout(timer), reject(err)));
    });
    return socket;
  }

  /** Where `socketsOf(user).get(i)` connects: WebSocket on each gateway, HTTP long-polling on the second. */
  const SOCKET_SLOTS: Array<{ gateway: number; transport: Transport }> = [
    { gateway: 0, transport: 'websocket' },
    { gateway: 1, transport: 'websocket' },
    { gateway: 1, transport: 'polling' },
  ];
  const slot = fc.nat(SOCKET_SLOTS.length - 1);

  /** The user's sockets of SOCKET_SLOTS; a socket that was closed is opened again. */
  async function socketsOf(userId: string) {
    const pair: Socket[] = [];
    for (const { gateway, transport } of SOCKET_SLOTS) pair.push(await openSocket(gateway, userId, transport));
    return {
      async get(index: number): Promise<Socket> {
        if (!pair[index].connected) {
          sockets.delete(pair[index]);
          pair[index] = await openSocket(SOCKET_SLOTS[index].gateway, userId, SOCKET_SLOTS[index].transport);
        }
        return pair[index];
      },
      close() {
        for (const s of pair) (s.disconnect(), sockets.delete(s));
      },
    };
  }

  function ack(socket: Socket, event: string, ...args: unknown[]): Promise<unknown> {
    return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, ...args);
  }

  /** The connection still answers a valid request correctly. */
  async function probe(socket: Socket, context: string): Promise<void> {
    if (!socket.connected) fail(`${context}: the connection was closed`);
    const res = await ack(socket, 'events:resume', { after: '0' }).catch((err: Error) => fail(`${context}: probe: ${err.message}`));
    expectAck(res, { ok: true, lastId: '0' }, `${context}: probe`);
  }

  /**
   * Sends a raw Socket.IO packet (`2<ackId><json>` on the default namespace) through the
   * socket's Engine.IO connection, and resolves with the ack's first argument.
   */
  function rawEmit(socket: Socket, json: string, timeoutMs = ACK_TIMEOUT_MS): Promise<unknown> {
    const engine = engineOf(socket);
    const id = rawAckId++;
    // Socket.IO EVENT is `2<ackId><json>`, its ACK `3<ackId><json>` (inside Engine.IO message packets).
    const prefix = `3${id}[`;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        engine.off('packet', onPacket);
        socket.off('disconnect', onClose);
      };
      const timer = setTimeout(() => (done(), reject(new Error(`no ack within ${timeoutMs} ms`))), timeoutMs);
      const onPacket = (packet: RawPacket) => {
        if (packet.type !== 'message' || typeof packet.data !== 'string' || !packet.data.startsWith(prefix)) return;
        done();
        resolve((JSON.parse(packet.data.slice(prefix.length - 1)) as unknown[])[0]);
      };
      const onClose = (reason: string) => (done(), reject(new Error(`connection closed: ${reason}`)));
      engine.on('packet', onPacket);
      socket.once('disconnect', onClose);
      engine.write(`2${id}${json}`);
    });
  }

  interface HttpCase {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array;
    gateway?: number;
  }
  interface HttpResult {
    status: number;
    headers: Headers;
    text: string;
    sse: boolean;
    context: string;
  }

  async function request(c: HttpCase): Promise<HttpResult> {
    const context = `${c.method} ${c.path} ${show(c.headers ?? {}, 200)}${c.body === undefined ? '' : ` body ${show(typeof c.body === 'string' ? c.body : `<${c.body.length} bytes>`, 200)}`}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${HTTP_TIMEOUT_MS} ms`)), HTTP_TIMEOUT_MS);
    try {
      const res = await fetch(`${cluster.gatewayUrl(c.gateway ?? 0)}${c.path}`, {
        method: c.method,
        headers: c.headers,
        body: typeof c.body === 'string' || c.body === undefined ? c.body : new Uint8Array(c.body),
        redirect: 'manual',
        signal: controller.signal,
      });
      const sse = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
      if (sse) {
        controller.abort();
        return { status: res.status, headers: res.headers, text: '', sse, context };
      }
      return { status: res.status, headers: res.headers, text: await res.text(), sse, context };
    } catch (err) {
      return fail(`${context}: ${(err as Error).message}${(err as Error).cause ? ` (${String((err as Error).cause)})` : ''}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A status of `allowed`; a 4xx carries exactly `{ error: { code, message } }` with a code that fits it. */
  function expectHttp(r: HttpResult, allowed: readonly number[], method = 'GET'): void {
    if (r.status >= 500) fail(`${r.context}: ${r.status} ${r.text.slice(0, 500)}`);
    if (!allowed.includes(r.status)) fail(`${r.context}: status ${r.status} not in [${allowed.join(', ')}]: ${r.text.slice(0, 300)}`);
    if (STACK_RE.test(r.text)) fail(`${r.context}: the body looks like a stack trace: ${r.text.slice(0, 500)}`);
    if (r.status < 400 || method === 'HEAD') return;
    if (!(r.headers.get('content-type') ?? '').startsWith('application/json'))
      fail(`${r.context}: ${r.status} is not JSON: ${r.text.slice(0, 300)}`);
    let body: { error?: Record<string, unknown> };
    try {
      body = JSON.parse(r.text);
    } catch {
      return fail(`${r.context}: ${r.status} body is not JSON: ${r.text.slice(0, 300)}`);
    }
    if (!isPlainObject(body) || Object.keys(body).join() !== 'error' || !isPlainObject(body.error))
      fail(`${r.context}: not { error }: ${r.text.slice(0, 300)}`);
    const extra = Object.keys(body.error).filter((k) => !['code', 'message', 'retryAfterMs'].includes(k));
    if (extra.length) fail(`${r.context}: extra error fields ${extra.join()}`);
    const code = String(body.error.code);
    if (!ERROR_CODES.has(code) || !(CODES_BY_STATUS[r.status] ?? []).includes(code))
      fail(`${r.context}: code ${code} with status ${r.status}`);
    expectCleanMessage(body.error.message, r.context);
    if (r.status === 401 && r.headers.get('www-authenticate') !== 'Bearer') fail(`${r.context}: 401 without WWW-Authenticate: Bearer`);
    // PROTOCOL.md §6: every 429 carries Retry-After (TOO_MANY_CONNECTIONS included).
    if (r.status === 429 && !/^[1-9]\d*$/.test(r.headers.get('retry-after') ?? '')) fail(`${r.context}: 429 without Retry-After`);
  }

  async function bearer(userId: string): Promise<string> {
    return `Bearer ${await cluster.token(userId)}`;
  }

  async function adminBearer(userId: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(CLUSTER_JWT_SECRET));
    return `Bearer ${token}`;
  }

  // -------------------------------------------------------------------------------------------
  // Socket.IO

  describe('Socket.IO client events', () => {
    it('chat:send: every invalid payload (by construction) is INVALID_INPUT; nothing is stored; the socket still answers', async () => {
      const userId = freshUser('chat');
      const pair = await socketsOf(userId);
      await check(
        'chat:send invalid payloads',
        fc.asyncProperty(invalidChat, slot, fc.array(socketValue, { maxLength: 2 }), async (payload, gateway, extra) => {
          fc.pre(chatRefused(overSocket([payload, ...extra])[0]));
          fc.pre(jsonBytes(['chat:send', payload, ...extra]) <= SAFE_FRAME_BYTES);
          const socket = await pair.get(gateway);
          const context = `chat:send ${show(payload)}`;
          const res = await ack(socket, 'chat:send', payload, ...extra).catch((err: Error) => fail(`${context}: ${err.message}`));
          expectErrorAck(res, ErrorCode.INVALID_INPUT, context);
          await probe(socket, context);
          expectAlive();
        }),
        300,
        10_000,
      );
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('run:cancel, run:respond, events:resume and unknown events: the documented ack for any payload', async () => {
      const userId = freshUser('events');
      const pair = await socketsOf(userId);
      const eventCase = fc.oneof(
        fc.record({ event: fc.constant('run:cancel'), payload: cancelPayload([owner.runId]) }),
        fc.record({ event: fc.constant('run:respond'), payload: respondPayload([owner.runId]) }),
        fc.record({ event: fc.constant('message:feedback'), payload: feedbackPayload([owner.messageId]) }),
        fc.record({ event: fc.constant('events:resume'), payload: resumePayload([owner.conversationId]) }),
        fc.record({ event: unknownEvent, payload: socketValue }),
      );
      await check(
        'run:cancel / run:respond / events:resume / unknown events',
        fc.asyncProperty(eventCase, slot, async ({ event, payload }, gateway) => {
          const expected = expectedAck(event, overSocket([payload])[0]);
          fc.pre(expected !== 'skip' && jsonBytes([event, payload]) <= SAFE_FRAME_BYTES);
          const socket = await pair.get(gateway);
          const context = `${show(event)} ${show(payload)}`;
          const res = await ack(socket, event, payload).catch((err: Error) => fail(`${context}: ${err.message}`));
          expectAck(res, expected as Expected, context);
          await probe(socket, context);
          expectAlive();
        }),
        300,
        10_000,
      );
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('events without a callback, with non-function last arguments, with several or no arguments, binary ones: answered when asked, the socket stays up', async () => {
      const userId = freshUser('shapes');
      const pair = await socketsOf(userId);
      const shape = fc.record({
        event: fc.oneof(fc.constantFrom(...KNOWN_EVENTS), unknownEvent),
        args: fc.array(fc.oneof(socketValue, binaryLeaf), { maxLength: 4 }),
        tail: fc.constantFrom('ack', 'none', 'non-function'),
        last: fc.oneof(hostileNumber, hostileString, fc.constantFrom(null, {}, [], 'function', true)),
        gateway: slot,
      });
      await check(
        'event shapes',
        fc.asyncProperty(shape, async ({ event, args, tail, last, gateway }) => {
          // The server takes the first argument as the payload, whatever follows it.
          const expected = expectedAck(event, overSocket(tail === 'non-function' ? [...args, last] : args)[0]);
          fc.pre(expected !== 'skip' && jsonBytes([event, ...args, last]) <= SAFE_FRAME_BYTES);
          const socket = await pair.get(gateway);
          const context = `${show(event)} ${tail} ${show(args)}`;
          if (tail === 'ack') {
            const res = await ack(socket, event, ...args).catch((err: Error) => fail(`${context}: ${err.message}`));
            expectAck(res, expected as Expected, context);
          } else if (tail === 'none') socket.emit(event, ...args);
          else socket.emit(event, ...args, last);
          await probe(socket, context);
          expectAlive();
        }),
        200,
        6_000,
      );
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('bursts of concurrent events on one socket: each gets its documented ack or RATE_LIMITED (too many at once), the socket stays up', async () => {
      const userId = freshUser('burst');
      const pair = await socketsOf(userId);
      const burst = fc.record({
        events: fc.array(
          fc.oneof(
            fc.record({ event: fc.constant('events:resume'), payload: resumePayload([owner.conversationId]) }),
            fc.record({ event: fc.constant('run:cancel'), payload: cancelPayload([owner.runId]) }),
            fc.record({ event: fc.constant('run:respond'), payload: respondPayload([owner.runId]) }),
            fc.record({ event: fc.constant('chat:send'), payload: invalidChat }),
            fc.record({ event: unknownEvent, payload: socketValue }),
          ),
          { minLength: 1, maxLength: 80 },
        ),
        gateway: slot,
      });
      await check(
        'concurrent bursts',
        fc.asyncProperty(burst, async ({ events, gateway }) => {
          const cases = events
            .map(({ event, payload }) => ({ event, payload, expected: expectedAck(event, overSocket([payload])[0]) }))
            .filter((c) => c.expected !== 'skip' && jsonBytes([c.event, c.payload]) <= SAFE_FRAME_BYTES / 8);
          fc.pre(cases.length > 0);
          const socket = await pair.get(gateway);
          const acks = await Promise.all(
            cases.map((c) =>
              ack(socket, c.event, c.payload).catch((err: Error) => fail(`${show(c.event)} ${show(c.payload)}: ${err.message}`)),
            ),
          );
          acks.forEach((res, i) => {
            const context = `burst of ${cases.length}, #${i} ${show(cases[i].event)} ${show(cases[i].payload)}`;
            const error = (res as { error?: { code?: string; retryAfterMs?: unknown } }).error;
            if (error?.code === ErrorCode.RATE_LIMITED) {
              expectErrorAck(res, ErrorCode.RATE_LIMITED, context);
              if (typeof error.retryAfterMs !== 'number' || !(error.retryAfterMs > 0))
                fail(`${context}: RATE_LIMITED without retryAfterMs`);
            } else expectAck(res, cases[i].expected as Expected, context);
          });
          await probe(socket, `after a burst of ${cases.length}`);
          expectAlive();
        }),
        60,
        6_000,
      );
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('10,000-deep arrays and objects, prototype keys and numbers JSON.stringify never writes, as raw packets: the documented ack', async () => {
      const userId = freshUser('deep');
      const pair = await socketsOf(userId);
      const units = {
        array: ['[', ']'],
        object: ['{"a":', '}'],
        proto: ['{"__proto__":', '}'],
        mixed: ['[{"constructor":', '}]'],
      } as const;
      const deep = fc.record({
        event: fc.constantFrom(...KNOWN_EVENTS, 'chat:shout', 'error'),
        depth: fc.oneof(fc.constant(10_000), fc.integer({ min: 2, max: 10_000 })),
        kind: fc.constantFrom(...(Object.keys(units) as Array<keyof typeof units>)),
        placement: fc.constantFrom('payload', 'field', 'options', 'extra-arg', 'event-array'),
        field: fc.constantFrom('conversationId', 'content', 'runId', 'requestId', 'response', 'after', 'comment', '__proto__'),
        leaf: fc.constantFrom('null', '1e400', '-1e400', '-0', '123456789012345678901234567890', '"\\ud800"', '"\\u0000"', '{}', '[]'),
        gateway: slot,
      });
      await check(
        'deep nesting and raw JSON',
        fc.asyncProperty(deep, async ({ event, depth, kind, placement, field, leaf, gateway }) => {
          const [open, close] = units[kind];
          const levels = Math.min(depth, Math.floor((SAFE_FRAME_BYTES - 200) / (open.length + close.length)));
          const nested = open.repeat(levels) + leaf + close.repeat(levels);
          const payload =
            placement === 'payload'
              ? nested
              : placement === 'field'
                ? `{"conversationId":"new","content":"hi","runId":"${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}","${field}":${nested}}`
                : placement === 'options'
                  ? `{"conversationId":"new","content":"hi","options":${nested}}`
                  : placement === 'extra-arg'
                    ? `{"after":"0"},${nested}`
                    : nested;
          const packet =
            placement === 'event-array'
              ? `[${JSON.stringify(event)},${payload},${payload.length}]`
              : `[${JSON.stringify(event)},${payload}]`;
          const args = JSON.parse(packet) as unknown[];
          const expected = expectedAck(event, args[1]);
          fc.pre(expected !== 'skip');
          const socket = await pair.get(gateway);
          const context = `${event} ${placement} ${kind}×${levels} leaf ${leaf}`;
          const res = await rawEmit(socket, packet).catch((err: Error) => fail(`${context}: ${err.message}`));
          expectAck(res, expected as Expected, context);
          await probe(socket, context);
          expectAlive();
        }),
        120,
        6_000,
      );
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('frames up to 64 KiB are answered; one byte over closes that connection only', async () => {
      const userId = freshUser('frames');
      const pair = await socketsOf(userId);
      const frame = fc.record({
        size: fc.oneof(
          fc.constantFrom(FRAME_LIMIT, FRAME_LIMIT + 1),
          fc.integer({ min: FRAME_LIMIT - 4096, max: FRAME_LIMIT }),
          fc.integer({ min: FRAME_LIMIT + 1, max: FRAME_LIMIT + 4096 }),
        ),
        unit: fc.constantFrom('x', 'é', '€', '😀', '\u202E', '\u0301'),
        event: fc.constantFrom('chat:send', 'run:respond', 'chat:shout'),
        gateway: fc.nat(1),
        transport: fc.constantFrom<Transport>('websocket', 'polling'),
      });
      type FrameCase = { size: number; unit: string; event: string; gateway: number; transport: Transport };
      const frameCase = async ({ size, unit, event, gateway, transport }: FrameCase) => {
        const socket = await openSocket(gateway, userId, transport);
        const id = rawAckId++;
        // The WebSocket frame (or long-polling POST body): Engine.IO's message type "4", then the
        // Socket.IO packet "2<ackId>[…]".
        const head = `42${id}[${JSON.stringify(event)},{"conversationId":"new","runId":"x","requestId":"r","content":"`;
        const tail = '"}]';
        let room = size - Buffer.byteLength(head + tail);
        const filler = unit.repeat(Math.floor(room / Buffer.byteLength(unit)));
        room -= Buffer.byteLength(filler);
        const packet = head + filler + 'x'.repeat(room) + tail;
        expect(Buffer.byteLength(packet)).toBe(size);
        const engine = engineOf(socket);
        const context = `${event} ${transport} frame of ${size} bytes (${unit})`;
        const closed = new Promise<{ closed: string }>((resolve) => socket.once('disconnect', (reason) => resolve({ closed: reason })));
        const answer = new Promise<{ ack: unknown }>((resolve) =>
          engine.on('packet', (p) => {
            if (p.type === 'message' && typeof p.data === 'string' && p.data.startsWith(`3${id}[`))
              resolve({ ack: (JSON.parse(p.data.slice(`3${id}`.length)) as unknown[])[0] });
          }),
        );
        engine.write(packet.slice(1));
        const outcome = await within(Promise.race([answer, closed]), ACK_TIMEOUT_MS, `${context}: neither answered nor closed`);
        if (size <= FRAME_LIMIT) {
          if (!('ack' in outcome)) fail(`${context}: closed (${outcome.closed})`);
          expectErrorAck(outcome.ack, ErrorCode.INVALID_INPUT, context);
          await probe(socket, context);
        } else if (!('closed' in outcome)) fail(`${context}: answered ${show(outcome.ack)} instead of closing`);
        socket.disconnect();
        sockets.delete(socket);
        // The user's other connections, on both gateways, are untouched.
        for (let i = 0; i < SOCKET_SLOTS.length; i++)
          await probe(await pair.get(i), `${context}: other connection ${show(SOCKET_SLOTS[i])}`);
        expectAlive();
      };
      // The boundary itself, every time; then sizes around it.
      for (const transport of ['websocket', 'polling'] as const) {
        for (const size of [FRAME_LIMIT, FRAME_LIMIT + 1]) await frameCase({ size, unit: 'x', event: 'chat:send', gateway: 0, transport });
      }
      await check('frame sizes', fc.asyncProperty(frame, frameCase), 100, 8_000);
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('malformed Socket.IO and Engine.IO packets close that connection at most; the gateway goes on serving', async () => {
      const userId = freshUser('packets');
      const pair = await socketsOf(userId);
      // Packets a conforming client may send: the connection must stay open.
      const keeps = [
        '42[42]',
        '42[42,{}]',
        '42["x"]',
        '42["error",{"x":1}]',
        '42["__proto__"]',
        '42["chat:send"]',
        '42["chat:send",null,null,null]',
        '43999999999[]',
        '42["toString"]',
        '42["hasOwnProperty",1]',
        '6',
        '3',
      ];
      // Packets a conforming client never sends: the server may close the connection (Socket.IO
      // closes it for a packet to a namespace it has not joined or a second CONNECT, Engine.IO
      // for a ping from the client once upgraded).
      const breaks = [
        '42/nope,["chat:send",{}]',
        '40{"token":1}',
        '44{}',
        '2probe',
        '4',
        '42',
        '42[',
        '42{}',
        '42"x"',
        '42[]',
        '42[null]',
        '42[{}]',
        '42[true]',
        '42["newListener"]',
        '42["disconnect"]',
        '42["removeListener",1]',
        '421abc["x"]',
        '42-1["x"]',
        '451-["chat:send",{"_placeholder":true,"num":0}]',
        '45-["chat:send",{"_placeholder":true,"num":0}]',
        '451-["chat:send",{"_placeholder":true,"num":7}]',
        '452-["x"]',
        '49',
        '4x',
        '4\u0000',
        '42["chat:send",{"a":1}]junk',
        '43[]',
        '43x[]',
        '1',
        '5',
        '9',
        'x',
        '',
        '40/nope,',
      ];
      const packet = fc.record({
        text: fc.oneof(
          fc.constantFrom(...keeps, ...breaks),
          fc.string({ maxLength: 40 }).map((s) => `4${s}`),
          fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `42${s}`),
        ),
        binary: fc.option(fc.uint8Array({ maxLength: 32 }), { nil: undefined }),
        gateway: fc.nat(1),
      });
      const packetCase = async ({ text, binary, gateway }: { text: string; binary?: Uint8Array; gateway: number }) => {
        const socket = await pair.get(gateway);
        const context = `packet ${show(text)}${binary ? ` + ${binary.length} binary bytes` : ''}`;
        const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
        // Engine.IO packets as they are (the first character is the Engine.IO type).
        const engine = engineOf(socket);
        const types: Record<string, string> = { '1': 'close', '2': 'ping', '3': 'pong', '4': 'message', '5': 'upgrade', '6': 'noop' };
        const type = types[text[0] ?? ''];
        if (type) engine.transport.send([{ type, data: text.slice(1) }]);
        else engine.transport.send([{ type: 'message', data: text }]);
        if (binary) engine.transport.send([{ type: 'message', data: Buffer.from(binary) }]);
        const outcome = await Promise.race([
          closed.then((reason) => `closed: ${reason}`),
          ack(socket, 'events:resume', { after: '0' }).then(
            (res) => (expectAck(res, { ok: true, lastId: '0' }, `${context}: probe`), 'answered'),
            (err: Error) => `no answer: ${err.message}`,
          ),
        ]);
        if (keeps.includes(text) && !binary && outcome !== 'answered') fail(`${context}: a valid packet ended with ${outcome}`);
        if (outcome !== 'answered' && socket.connected) fail(`${context}: neither answered nor closed (${outcome})`);
        // Whatever happened to this connection, the gateway serves the user's next one.
        await probe(await pair.get(gateway), `${context}: next connection`);
        expectAlive();
      };
      // Every listed packet once, then arbitrary ones.
      for (const text of [...keeps, ...breaks]) await packetCase({ text, gateway: 0 });
      await check('malformed packets', fc.asyncProperty(packet, packetCase), 150, 8_000);
      await expectNothingStored([userId]);
      pair.close();
    }, 60_000);

    it('handshakes with hostile auth payloads and tokens: connect_error UNAUTHORIZED unless the token is valid', async () => {
      const tokenCase = fc.record({
        kind: fc.constantFrom('valid', 'bad-sub', 'wrong-secret', 'expired', 'garbage', 'value'),
        sub: fc.oneof(
          hostileString.filter((s) => s.length <= 200),
          fc.constantFrom('\uD800', 'x\u0000', 'a'.repeat(129), ''),
        ),
        value: socketValue,
        where: fc.constantFrom('auth', 'query'),
        gateway: fc.nat(1),
      });
      const accepted: string[] = [];
      await check(
        'handshakes',
        fc.asyncProperty(tokenCase, async ({ kind, sub, value, where, gateway }) => {
          const now = Math.floor(Date.now() / 1000);
          const sign = (claims: Record<string, unknown>, secret = CLUSTER_JWT_SECRET) =>
            new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
          let token: unknown;
          let valid = false;
          if (kind === 'valid' || kind === 'bad-sub') {
            token = await sign({ sub, iat: now, exp: now + 600 });
            valid = isValidUserId(sub);
            fc.pre(kind === 'bad-sub' ? !valid : valid);
          } else if (kind === 'wrong-secret') token = await sign({ sub: 'x', iat: now, exp: now + 600 }, `${CLUSTER_JWT_SECRET}-not`);
          else if (kind === 'expired') token = await sign({ sub: 'x', iat: now - 7200, exp: now - 3600 });
          else if (kind === 'garbage') token = sub;
          else token = value;
          // A query string carries well-formed text only (socket.io-client percent-encodes it).
          // show() may cut between the halves of a pair, so lone halves are replaced after it.
          if (where === 'query' && (typeof token !== 'string' || /\p{Cs}/u.test(token))) token = show(token).replace(/\p{Cs}/gu, '\uFFFD');
          fc.pre(jsonBytes(token) <= SAFE_FRAME_BYTES);
          const socket = io(cluster.gatewayUrl(gateway), {
            transports: ['websocket'],
            ...(where === 'auth' ? { auth: { token } as Record<string, unknown> } : { query: { token: String(token) } }),
            reconnection: false,
            forceNew: true,
          });
          sockets.add(socket);
          const context = `handshake ${kind} ${where} ${show(token, 120)}`;
          try {
            const outcome = await within(
              new Promise<{ ready: { userId: string } } | { error: { message: string; data?: { code?: string } } }>((resolve) => {
                socket.once('session:ready', (ready) => resolve({ ready }));
                socket.once('connect_error', (error) => resolve({ error: error as never }));
              }),
              ACK_TIMEOUT_MS,
              `${context}: neither connected nor refused`,
            );
            if (valid) {
              if (!('ready' in outcome)) fail(`${context}: refused: ${show(outcome.error)}`);
              if (outcome.ready.userId !== sub) fail(`${context}: connected as ${show(outcome.ready.userId)}`);
              accepted.push(sub);
              await probe(socket, context);
            } else {
              if (!('error' in outcome)) fail(`${context}: connected as ${show(outcome.ready)}`);
              if (outcome.error.message !== 'unauthorized' || outcome.error.data?.code !== 'UNAUTHORIZED')
                fail(`${context}: ${show(outcome.error)}`);
            }
          } finally {
            socket.disconnect();
            sockets.delete(socket);
          }
          expectAlive();
        }),
        120,
        5_000,
      );
      await expectNothingStored([...new Set(accepted)]);
    }, 60_000);
  });

  // -------------------------------------------------------------------------------------------
  // HTTP

  /** The gateway's routes (apps/gateway/src/http, health, docs/api/openapi.json), and the ones PROTOCOL.md §6, §8 and §9 document. */
  interface Route {
    method: string;
    template: string;
    /** Statuses for hostile input from a user with a valid token and no conversations. */
    statuses: number[];
    guarded: boolean;
    body?: boolean;
    /** Documented in PROTOCOL.md, not served (yet): 404 before any guard. */
    documented?: boolean;
  }
  const ROUTES: Route[] = [
    { method: 'GET', template: '/v1/conversations', statuses: [200, 400], guarded: true },
    { method: 'GET', template: '/v1/conversations/:id/messages', statuses: [400, 404], guarded: true },
    { method: 'POST', template: '/v1/conversations/:id/messages', statuses: [400, 404], guarded: true, body: true },
    { method: 'GET', template: '/v1/runs/:runId', statuses: [404], guarded: true },
    { method: 'POST', template: '/v1/runs/:runId/cancel', statuses: [404], guarded: true, body: true },
    { method: 'POST', template: '/v1/runs/:runId/respond', statuses: [400, 404], guarded: true, body: true },
    { method: 'GET', template: '/v1/events', statuses: [200, 400], guarded: true },
    { method: 'POST', template: '/v1/knowledge', statuses: [403], guarded: true, body: true },
    { method: 'GET', template: '/v1/dev/config', statuses: [200], guarded: false },
    { method: 'POST', template: '/v1/dev/token', statuses: [404], guarded: false, body: true },
    { method: 'GET', template: '/health/live', statuses: [200], guarded: false },
    { method: 'GET', template: '/health/ready', statuses: [200], guarded: false },
    { method: 'GET', template: '/metrics', statuses: [404], guarded: false },
    { method: 'GET', template: '/v1/:id', statuses: [404], guarded: false },
    // Documented, not all served yet: hostile input is refused either way.
    { method: 'PUT', template: '/v1/conversations/:id/branch', statuses: [400, 404], guarded: true, body: true, documented: true },
    { method: 'PUT', template: '/v1/messages/:id/feedback', statuses: [400, 404], guarded: true, body: true },
    { method: 'GET', template: '/v1/usage', statuses: [200, 400, 404], guarded: true, documented: true },
    { method: 'GET', template: '/v1/admin/usage', statuses: [400, 403, 404], guarded: true, documented: true },
    { method: 'GET', template: '/v1/admin/feedback', statuses: [403], guarded: true },
    // The AG-UI and AI SDK adapters (PROTOCOL.md §8, §9): served.
    { method: 'POST', template: '/v1/agui', statuses: [400, 404], guarded: true, body: true },
    { method: 'GET', template: '/v1/agui/runs/:runId', statuses: [400, 404], guarded: true },
    { method: 'POST', template: '/v1/agui/runs/:runId/cancel', statuses: [400, 404], guarded: true, body: true },
    { method: 'POST', template: '/v1/ai-sdk/chat', statuses: [400, 404], guarded: true, body: true },
    { method: 'GET', template: '/v1/ai-sdk/chat/:id/stream', statuses: [204, 400, 404], guarded: true },
    { method: 'POST', template: '/v1/ai-sdk/chat/:id/stop', statuses: [200, 400, 404], guarded: true, body: true },
  ];
  const routeArb = fc.constantFrom(...ROUTES);

  function fill(template: string, param: string): string {
    return template.replace(/:[A-Z]+/i, param);
  }

  /** Whether a body sent to a route could store something (a valid chat:send to "new" or a UUID, valid knowledge as admin): such bodies are never sent. */
  function couldStore(route: Route, param: string, bodyText: string | undefined, admin: boolean): boolean {
    if (bodyText === undefined) return false;
    const values: unknown[] = [];
    for (const text of [bodyText, bodyText.replace(/^\uFEFF/, '')]) {
      try {
        values.push(JSON.parse(text));
      } catch {
        /* not JSON */
      }
    }
    if (bodyText.trim() === '') values.push({});
    return values.some((value) => {
      if (route.template === '/v1/conversations/:id/messages' && route.method === 'POST') {
        const id = decodedParam(param);
        if (id === undefined || !(id === 'new' || isUuid(id)) || !isPlainObject(value)) return false;
        return !chatRefused(withOwn(value, 'conversationId', id));
      }
      if (route.template === '/v1/knowledge')
        return admin && accepts(ingestKnowledgeRequestSchema, value) !== undefined && !containsNul(value);
      return ['/v1/agui', '/v1/ai-sdk/chat'].includes(route.template) && isPlainObject(value) && Object.keys(value).length > 0;
    });
  }

  /** The origin policy of PROTOCOL.md §1/§6 with CORS_ORIGINS unset: no Origin, or the gateway's own. */
  function originAllowed(origin: string | undefined, host: string): boolean {
    if (origin === undefined) return true;
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /**
   * Whether If-None-Match (as the server reads it: fetch trims the ends) is a 304 for the
   * owner's settled run: RFC 9110's weak comparison with its ETag, or the first run tag of the
   * header naming this run's conversation and last event (etag.ts, run-etags.service.ts).
   */
  function ownerRunTagHits(header: string): boolean {
    const tags = header
      .replace(/^[ \t]+|(?<![ \t])[ \t]+$/g, '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    if (tags.length === 1 && tags[0] === '*') return true;
    const runTag = /^(?:W\/)?"r:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(0|[1-9]\d{0,19}):([\w-]{27})"$/;
    const claim = tags.map((t) => runTag.exec(t)).find((m) => m !== null);
    if (claim && claim[1] === owner.conversationId && BigInt(claim[2]) === BigInt(owner.lastEventId)) return true;
    const opaque = (t: string) => t.replace(/^W\//, '');
    return tags.some((t) => opaque(t) === opaque(owner.etag));
  }

  describe('HTTP routes', () => {
    it('every route with hostile path parameters, query parameters, methods and headers: 2xx or a clean 4xx', async () => {
      const userId = freshUser('routes');
      const auth = await bearer(userId);
      const httpCase = fc.record({
        route: routeArb,
        param: fc.oneof(pathParam, fc.constantFrom(owner.runId, owner.conversationId)),
        query: queryString,
        method: fc.oneof(
          { weight: 6, arbitrary: fc.constant('route') },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
        ),
        origin: fc.option(fc.constantFrom('same', 'null', 'http://evil.example', 'https://127.0.0.1', 'file://', 'not a url', ''), {
          freq: 4,
          nil: undefined,
        }),
        lastEventId: fc.option(headerValue, { nil: undefined }),
        ifNoneMatch: fc.option(headerValue, { nil: undefined }),
        traceparent: fc.option(
          fc.oneof(
            headerValue,
            fc.constantFrom(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`, `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, '00-x-y-z'),
          ),
          { nil: undefined },
        ),
        accept: fc.option(fc.constantFrom('text/event-stream', '*/*', 'application/xml', 'text/html', ''), { nil: undefined }),
        gateway: fc.nat(1),
      });
      await check(
        'routes × parameters × headers',
        fc.asyncProperty(httpCase, async (c) => {
          const method = c.method === 'route' ? c.route.method : c.method;
          const path = `${fill(c.route.template, c.param)}${c.query ? `?${c.query}` : ''}`;
          const host = new URL(cluster.gatewayUrl(c.gateway)).host;
          const origin = c.origin === 'same' ? `http://${host}` : c.origin;
          const headers: Record<string, string> = { authorization: auth };
          if (origin !== undefined) headers.origin = origin;
          if (c.lastEventId !== undefined) headers['last-event-id'] = c.lastEventId;
          if (c.ifNoneMatch !== undefined) headers['if-none-match'] = c.ifNoneMatch;
          if (c.traceparent !== undefined) headers.traceparent = c.traceparent;
          if (c.accept !== undefined) headers.accept = c.accept;
          const withBody = !['GET', 'HEAD'].includes(method);
          if (withBody) headers['content-type'] = 'application/json';
          const r = await request({ method, path, headers, body: withBody ? '{"fuzz":true}' : undefined, gateway: c.gateway });
          if (!originAllowed(origin, host)) {
            expectHttp(r, [403], method);
          } else if (method === 'OPTIONS') {
            expectHttp(r, [204, 404], method);
          } else if (method !== c.route.method && !(method === 'HEAD' && c.route.method === 'GET')) {
            expectHttp(r, [404, ...(c.route.template === '/v1/:id' ? [] : [400])], method);
          } else {
            const undecodable = decodedParam(c.param) === undefined && c.route.template.includes(':');
            expectHttp(r, [...c.route.statuses, ...(undecodable || c.route.template.includes(':') ? [400, 404] : [])], method);
            if (r.status === 200 && c.route.template === '/v1/conversations' && method === 'GET') {
              if (show(JSON.parse(r.text)) !== show({ conversations: [], nextBefore: null })) fail(`${r.context}: ${r.text}`);
            }
            if (r.status === 200 && c.route.template === '/v1/events' && !r.sse && method === 'GET')
              fail(`${r.context}: 200 that is not an event stream`);
            if (c.route.template === '/v1/events' && method === 'GET' && c.lastEventId !== undefined && c.lastEventId.trim() !== '') {
              // Last-Event-ID wins over ?after= (the value as the server reads it: fetch trims spaces and tabs).
              const cursor = c.lastEventId.replace(/^[ \t]+|(?<![ \t])[ \t]+$/g, '').trim();
              const valid = cursor === '' ? undefined : accepts(eventsResumeSchema, { after: cursor }) !== undefined;
              if (valid === true && r.status !== 200) fail(`${r.context}: a valid Last-Event-ID got ${r.status}`);
              if (valid === false && r.status !== 400) fail(`${r.context}: an invalid Last-Event-ID got ${r.status}`);
            }
          }
          expectAlive();
        }),
        300,
        10_000,
      );
      await expectNothingStored([userId]);
    }, 60_000);

    it('bodies: hostile JSON, JSON that is not JSON, deep nesting, wrong content types and encodings, sizes at and over the limit: a clean 4xx', async () => {
      const userId = freshUser('bodies');
      const auth = await bearer(userId);
      const admin = await adminBearer(userId);
      const bodyRoutes = ROUTES.filter((r) => r.body);
      const deepBody = fc
        .record({ depth: fc.integer({ min: 100, max: 10_000 }), kind: fc.constantFrom('[', '{"a":', '{"__proto__":', '{"content":') })
        .map(({ depth, kind }) => {
          const levels = Math.min(depth, Math.floor(60_000 / (kind.length + 1)));
          return kind.repeat(levels) + '1' + (kind === '[' ? ']' : '}').repeat(levels);
        });
      const sized = fc
        .tuple(
          fc.constantFrom(BODY_LIMIT - 1, BODY_LIMIT, BODY_LIMIT + 1, BODY_LIMIT + 4096, KNOWLEDGE_BODY_LIMIT + 1),
          fc.constantFrom('x', 'é', '😀'),
        )
        .map(([size, unit]) => {
          const head = '{"content":"';
          const tail = '","conversationId":42}';
          let room = size - Buffer.byteLength(head + tail);
          const filler = unit.repeat(Math.floor(room / Buffer.byteLength(unit)));
          room -= Buffer.byteLength(filler);
          return head + filler + 'x'.repeat(room) + tail;
        });
      const bodyText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
        { weight: 3, arbitrary: jsonishValue.map((v) => JSON.stringify(v) ?? '') },
        { weight: 3, arbitrary: invalidChat.map((v) => JSON.stringify(v) ?? '') },
        { weight: 2, arbitrary: respondPayload([owner.runId]).map((v) => JSON.stringify(v) ?? '') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'NaN',
            'Infinity',
            '-Infinity',
            '{"content": NaN}',
            '{"content": 1e400, "conversationId": "new"}',
            '{"limit": -0}',
            '{"after": 123456789012345678901234567890}',
            '{',
            '}',
            '[1,]',
            '{"a":1,}',
            "{'a':1}",
            '{"__proto__":{"admin":true}}',
            '{"constructor":{"prototype":{"admin":true}}}',
            '\u0000',
            '\uFEFF{}',
            'null',
            'true',
            '"string"',
            '0',
            '',
            ' ',
            '{"content":"\\ud800","conversationId":"new","x":1}',
            '{"content":"\\u0000","conversationId":"new"}',
            '{"a":"\\x41"}',
            '{"a":01}',
            '{"a":.5}',
            '{"a":+1}',
            '{"a":0x10}',
            '{"a":"\n"}',
            '{"a":1}{"b":2}',
            '[]',
            '[[]]',
            '{"content":"a","content":"b","conversationId":"nope"}',
            '{"documents":[]}',
            '{"documents":[{"name":"","content":"x"}]}',
            '{"documents":[{"name":"a","content":"x","__proto__":1}]}',
            '{"requestId":"r","response":{"approved":"yes"}}',
            '{"leafMessageId":"x"}',
            '{"rating":"sideways"}',
            '{"messages":"x"}',
            '{"id":"%%%","messages":[]}',
          ),
        },
        { weight: 2, arbitrary: deepBody },
        { weight: 1, arbitrary: sized },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      );
      const bodyCase = fc.record({
        route: fc.constantFrom(...bodyRoutes),
        param: fc.oneof(fc.constantFrom('new', owner.runId, owner.conversationId), anyCaseUuid, pathParam),
        body: bodyText,
        contentType: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(
              'application/json',
              'application/json; charset=utf-8',
              'APPLICATION/JSON',
              'application/json; charset=utf-16',
              'application/json; charset=latin1',
              'application/json;;',
              'application/json; charset=',
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=----x',
              'application/octet-stream',
              'application/xml',
              'application/vnd.api+json',
              'application/merge-patch+json',
              '*/*',
              'application/*',
              'application/json, text/plain',
              ';;;',
              'image/png',
            ),
          },
          { weight: 1, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: headerValue },
        ),
        encoding: fc.constantFrom(
          undefined,
          undefined,
          undefined,
          'identity',
          'gzip',
          'gzip-real',
          'deflate',
          'br',
          'x-unknown',
          'gzip, gzip',
        ),
        asAdmin: fc.boolean(),
        gateway: fc.nat(1),
      });
      await check(
        'bodies × content types × encodings',
        fc.asyncProperty(bodyCase, async (c) => {
          const text = typeof c.body === 'string' ? c.body : Buffer.from(c.body).toString('utf8');
          fc.pre(!couldStore(c.route, c.param, text, c.asAdmin));
          const headers: Record<string, string> = { authorization: c.asAdmin ? admin : auth };
          if (c.contentType !== undefined) headers['content-type'] = c.contentType;
          let body: string | Uint8Array = c.body;
          if (c.encoding === 'gzip-real') {
            body = gzipSync(Buffer.from(c.body));
            headers['content-encoding'] = 'gzip';
          } else if (c.encoding !== undefined) headers['content-encoding'] = c.encoding;
          const r = await request({ method: c.route.method, path: fill(c.route.template, c.param), headers, body, gateway: c.gateway });
          const knowledge = c.route.template === '/v1/knowledge';
          const largeBody = knowledge || c.route.template === '/v1/agui' || c.route.template === '/v1/ai-sdk/chat';
          const routeStatuses = knowledge && c.asAdmin ? [400] : c.route.statuses;
          // A body is parsed (400 when it cannot be, 413 when too large) before any route runs.
          expectHttp(r, [...routeStatuses, 400, 404, 413], c.route.method);
          const bytes = typeof c.body === 'string' ? Buffer.byteLength(c.body) : c.body.length;
          const limit = largeBody ? KNOWLEDGE_BODY_LIMIT : BODY_LIMIT;
          if (c.contentType === 'application/json' && c.encoding === undefined && bytes > limit && r.status !== 413)
            fail(`${r.context}: ${bytes} bytes got ${r.status}, not 413`);
          if (r.status === 413 && bytes <= BODY_LIMIT && c.encoding !== 'gzip-real') fail(`${r.context}: 413 for ${bytes} bytes`);
          expectAlive();
        }),
        300,
        10_000,
      );
      // A gzip bomb: 16 MB of spaces in a few KB.
      const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024, ' '));
      const r = await request({
        method: 'POST',
        path: '/v1/conversations/new/messages',
        headers: { authorization: auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: bomb,
      });
      expectHttp(r, [413], 'POST');
      await expectNothingStored([userId]);
    }, 90_000);

    it('Authorization variants on every route: 401 with WWW-Authenticate unless the bearer token is valid', async () => {
      const authorized: string[] = [];
      const authCase = fc.record({
        route: fc.constantFrom(...ROUTES.filter((r) => r.guarded && !r.template.includes('usage'))),
        scheme: fc.constantFrom(
          'Bearer ',
          'bearer ',
          'BEARER ',
          'Bearer\t',
          'Bearer  ',
          'Bearer',
          'Basic ',
          'Token ',
          '',
          'Bearer: ',
          'Bearer=',
          'Bearer \u00a0',
        ),
        suffix: fc.constantFrom('', '', '', ' ', '\t', ' x', ',', ', Bearer abc', '\u00a0'),
        kind: fc.constantFrom(
          'valid',
          'valid',
          'valid',
          'wrong-secret',
          'expired',
          'future-iat',
          'too-long',
          'no-exp',
          'no-iat',
          'alg-none',
          'hs512',
          'bad-sub',
          'sub-number',
          'no-sub',
          'tampered',
          'garbage',
          'nbf-future',
        ),
        sub: fc.oneof(
          fc.constant('fuzz-auth'),
          hostileString.filter((s) => s.length <= 200),
        ),
        garbage: headerValue,
        where: fc.constantFrom('header', 'header', 'query', 'none'),
        gateway: fc.nat(1),
      });
      await check(
        'Authorization variants',
        fc.asyncProperty(authCase, async (c) => {
          const now = Math.floor(Date.now() / 1000);
          const key = new TextEncoder().encode(CLUSTER_JWT_SECRET);
          const sign = (claims: Record<string, unknown>, alg = 'HS256', secret = key) =>
            new SignJWT(claims).setProtectedHeader({ alg }).sign(secret);
          const base = { sub: c.sub, iat: now, exp: now + 600 };
          const tokens: Record<string, () => Promise<string>> = {
            valid: () => sign(base),
            'wrong-secret': () => sign(base, 'HS256', new TextEncoder().encode(`${CLUSTER_JWT_SECRET}-other`)),
            expired: () => sign({ ...base, iat: now - 7200, exp: now - 3600 }),
            'future-iat': () => sign({ ...base, iat: now + 3600, exp: now + 4000 }),
            'too-long': () => sign({ ...base, exp: now + 86_400 * 2 }),
            'no-exp': () => sign({ sub: c.sub, iat: now }),
            'no-iat': () => sign({ sub: c.sub, exp: now + 600 }),
            'alg-none': async () =>
              `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`,
            hs512: () => sign(base, 'HS512'),
            'bad-sub': () => sign({ ...base, sub: `${c.sub}\u0000` }),
            'sub-number': () => sign({ ...base, sub: 42 }),
            'no-sub': () => sign({ iat: now, exp: now + 600 }),
            tampered: async () => {
              const t = await sign(base);
              return t.slice(0, -2) + (t.endsWith('AA') ? 'BB' : 'AA');
            },
            garbage: async () => c.garbage,
            'nbf-future': () => sign({ ...base, nbf: now + 3600 }),
          };
          const token = await tokens[c.kind]();
          const tokenValid = c.kind === 'valid' && isValidUserId(c.sub);
          const headers: Record<string, string> = {};
          let path = fill(c.route.template, '00000000-0000-4000-8000-000000000000');
          let presented = false;
          if (c.where === 'header') {
            const value = `${c.scheme}${token}${c.suffix}`;
            if (/[\0\r\n]/.test(value) || /[^\0-\xff]/.test(value)) fc.pre(false);
            headers.authorization = value;
            // The value as the server reads it (fetch and Node trim the ends).
            const match = BEARER_RE.exec(value.replace(/^[ \t]+|(?<![ \t])[ \t]+$/g, ''));
            presented = match?.[1] === token;
          } else if (c.where === 'query') {
            path += `?token=${percentEncode(token)}`;
            presented = c.route.template === '/v1/events'; // only the event stream takes ?token=
          }
          const body = c.route.body ? '{"content":""}' : undefined;
          if (body) headers['content-type'] = 'application/json';
          const r = await request({ method: c.route.method, path, headers, body, gateway: c.gateway });
          if (presented && tokenValid) {
            expectHttp(r, c.route.statuses.concat(c.route.template.includes(':') ? [404] : []), c.route.method);
            if (r.status === 401) fail(`${r.context}: a valid token was refused`);
            authorized.push(c.sub);
          } else {
            expectHttp(r, c.route.documented ? [401, 404] : [401], c.route.method);
          }
          expectAlive();
        }),
        250,
        8_000,
      );
      await expectNothingStored([...new Set(authorized)]);
    }, 60_000);

    it('HEAD on every GET route answers as GET would, without a body; HEAD /v1/events neither hangs the connection nor keeps a stream open', async () => {
      const userId = freshUser('head');
      const authorization = await bearer(userId);
      const sseStreams = async () => {
        const text = await (await fetch(cluster.gateways[0].metricsUrl)).text();
        return Number(/^herald_gateway_sse_streams(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
      };
      const before = await sseStreams();
      for (const route of ROUTES.filter((r) => r.method === 'GET')) {
        const path = fill(route.template, '00000000-0000-4000-8000-000000000000');
        // Several in a row, each on a kept-alive connection, then a GET after them.
        for (let i = 0; i < 3; i++)
          expectHttp(await request({ method: 'HEAD', path, headers: { authorization } }), route.statuses.concat(404), 'HEAD');
        expectHttp(await request({ method: 'GET', path: '/v1/conversations', headers: { authorization } }), [200]);
      }
      await sleep(500);
      expect(await sseStreams()).toBe(before);
      expectAlive();
      await expectNothingStored([userId]);
    });

    it("headers over Node's 16 KiB limit are refused with 431 and a JSON error, and the gateway serves the next request", async () => {
      const userId = freshUser('headers');
      const authorization = await bearer(userId);
      for (const [name, size] of [
        ['x-fuzz', 16 * 1024 + 1],
        ['last-event-id', 64 * 1024],
        ['authorization', 20 * 1024],
      ] as const) {
        const headers = { authorization, [name]: name === 'authorization' ? `Bearer ${'a'.repeat(size)}` : '9'.repeat(size) };
        const r = await request({ method: 'GET', path: '/v1/events', headers });
        expect(r.status).toBe(431);
        expect(JSON.parse(r.text)).toEqual({ error: { code: 'INVALID_INPUT', message: expect.any(String) } });
        expectAlive();
        expectHttp(await request({ method: 'GET', path: '/v1/conversations', headers: { authorization } }), [200]);
      }
      await expectNothingStored([userId]);
    });

    it("cursors and conditional headers on another user's real run and conversation, and on its owner's: nothing leaks, 304 only on a match", async () => {
      const userId = freshUser('cursors');
      const fuzzer = await bearer(userId);
      const ownerAuth = await bearer(owner.userId);
      const cursorCase = fc.record({
        target: fc.constantFrom('run', 'messages', 'events', 'cancel', 'respond'),
        asOwner: fc.boolean(),
        ifNoneMatch: fc.oneof(
          headerValue,
          fc.constantFrom(
            '*',
            ' * ',
            '*, *',
            owner.etag,
            `W/${owner.etag}`,
            `"x", ${owner.etag}`,
            `${owner.etag.slice(0, -1)}`,
            `${owner.etag}x`,
            owner.etag.toLowerCase(),
          ),
          // Run tags (`"r:<conversationId>:<lastEventId>:<hash>"`) of this run, of made-up versions and conversations.
          fc
            .record({
              weak: fc.boolean(),
              conversation: fc.oneof(fc.constant(owner.conversationId), fc.constant(owner.conversationId.toUpperCase()), uuid),
              last: fc.oneof(
                fc.constant(owner.lastEventId),
                fc.constantFrom('0', `0${owner.lastEventId}`, '99999999999999999999'),
                fc.nat().map(String),
              ),
              hash: fc.string({ unit: fc.constantFrom(...'AZaz09_-+/='.split('')), minLength: 26, maxLength: 28 }),
              before: fc.constantFrom('', '"x", ', 'W/"r:x", ', '*, '),
            })
            .map(({ weak, conversation, last, hash, before }) => `${before}${weak ? 'W/' : ''}"r:${conversation}:${last}:${hash}"`),
        ),
        limit: fc.option(queryValue, { nil: undefined }),
        before: fc.option(fc.oneof(queryValue, anyCaseUuid), { nil: undefined }),
        leaf: fc.option(fc.oneof(queryValue, anyCaseUuid), { nil: undefined }),
        lastEventId: fc.oneof(headerValue, fc.constantFrom(owner.lastEventId, '0', `${owner.lastEventId}0`)),
        body: fc.oneof(respondPayload([owner.runId]), jsonishValue),
        gateway: fc.nat(1),
      });
      await check(
        'cursors and conditional headers',
        fc.asyncProperty(cursorCase, async (c) => {
          const authorization = c.asOwner ? ownerAuth : fuzzer;
          if (c.target === 'run') {
            const r = await request({
              method: 'GET',
              path: `/v1/runs/${owner.runId}`,
              headers: { authorization, 'if-none-match': c.ifNoneMatch },
              gateway: c.gateway,
            });
            if (!c.asOwner) return expectHttp(r, [404]);
            expectHttp(r, [ownerRunTagHits(c.ifNoneMatch) ? 304 : 200]);
            if (r.status === 200) {
              if (r.headers.get('etag') !== owner.etag) fail(`${r.context}: ETag ${r.headers.get('etag')} changed`);
              expect(JSON.parse(r.text)).toMatchObject({ runId: owner.runId, status: 'completed' });
            }
          } else if (c.target === 'messages') {
            const query = new URLSearchParams();
            if (c.limit !== undefined) query.set('limit', c.limit);
            if (c.before !== undefined) query.set('before', c.before);
            if (c.leaf !== undefined) query.set('leaf', c.leaf);
            const r = await request({
              method: 'GET',
              path: `/v1/conversations/${owner.conversationId}/messages?${query.toString()}`,
              headers: { authorization },
              gateway: c.gateway,
            });
            if (!c.asOwner) return expectHttp(r, [400, 404]);
            expectHttp(r, [200, 400, 404]);
            if (r.status === 200) {
              const page = JSON.parse(r.text) as { messages: Array<{ conversationId: string }> };
              if (!page.messages.every((m) => m.conversationId === owner.conversationId))
                fail(`${r.context}: another conversation's messages`);
            }
          } else if (c.target === 'events') {
            const r = await request({
              method: 'GET',
              path: '/v1/events',
              headers: { authorization, 'last-event-id': c.lastEventId },
              gateway: c.gateway,
            });
            expectHttp(r, [200, 400]);
          } else if (c.target === 'cancel') {
            const r = await request({
              method: 'POST',
              path: `/v1/runs/${owner.runId}/cancel`,
              headers: { authorization },
              gateway: c.gateway,
            });
            expectHttp(r, c.asOwner ? [200] : [404], 'POST');
            if (c.asOwner && show(JSON.parse(r.text)) !== show({ alreadyFinished: true })) fail(`${r.context}: ${r.text}`);
          } else {
            const r = await request({
              method: 'POST',
              path: `/v1/runs/${owner.runId}/respond`,
              headers: { authorization, 'content-type': 'application/json' },
              body: JSON.stringify(c.body) ?? '',
              gateway: c.gateway,
            });
            // The owner's run has finished: a valid answer is INVALID_INPUT too; another user's run is NOT_FOUND.
            expectHttp(r, c.asOwner ? [400] : [400, 404], 'POST');
          }
          expectAlive();
        }),
        200,
        8_000,
      );
      await expectNothingStored([userId]);
      // The owner's conversation is as it was: one conversation, its two messages.
      const list = await (await cluster.http('/v1/conversations', { userId: owner.userId })).json();
      expect(list.conversations.map((c: { id: string }) => c.id)).toEqual([owner.conversationId]);
      const page = await (await cluster.http(`/v1/conversations/${owner.conversationId}/messages`, { userId: owner.userId })).json();
      expect(page.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    }, 60_000);
  });

  // -------------------------------------------------------------------------------------------
  // Default limits

  it('with the default limits, 429s are clean: reads over READ_RATE_LIMIT_PER_MINUTE, sockets and SSE over MAX_CONNECTIONS_PER_USER', async () => {
    const limited = await cluster.startService('gateway', DEFAULT_LIMITS);
    await cluster.waitReady(limited);
    started.gateway++;
    const gateway = cluster.gateways.indexOf(limited);
    const reads = Number(DEFAULT_LIMITS.READ_RATE_LIMIT_PER_MINUTE);
    const connections = Number(DEFAULT_LIMITS.MAX_CONNECTIONS_PER_USER);
    const readCase = fc.record({
      over: fc.integer({ min: 1, max: 15 }),
      paths: fc.array(
        fc.oneof(
          fc.constantFrom('/v1/conversations', '/v1/conversations?limit=5', `/v1/runs/${owner.runId}`, '/v1/conversations/x/messages'),
          queryString.map((q) => `/v1/conversations?${q}`),
        ),
        { minLength: 1, maxLength: 8 },
      ),
      extraSockets: fc.integer({ min: 1, max: 3 }),
    });
    await check(
      'default limits',
      fc.asyncProperty(readCase, async ({ over, paths, extraSockets }) => {
        // Reads: batches of concurrent GETs, one batch after the other, so the first `reads` are counted first.
        const reader = freshUser('reads');
        const authorization = await bearer(reader);
        const statuses: number[] = [];
        const batch = 20;
        for (let i = 0; i < reads + over; i += batch) {
          const answers = await Promise.all(
            Array.from({ length: Math.min(batch, reads + over - i) }, (_, j) =>
              request({ method: 'GET', path: paths[(i + j) % paths.length], headers: { authorization }, gateway }),
            ),
          );
          for (const r of answers) {
            expectHttp(r, [200, 400, 404, 429]);
            if (r.status === 429) {
              const body = JSON.parse(r.text) as { error: { code: string; retryAfterMs?: number } };
              if (body.error.code !== 'RATE_LIMITED') fail(`${r.context}: ${r.text}`);
              const retryAfter = Number(r.headers.get('retry-after'));
              if (!(retryAfter >= 1 && retryAfter <= 60)) fail(`${r.context}: Retry-After ${retryAfter}`);
            }
            statuses.push(r.status);
          }
        }
        // Every authenticated read counts, 4xx answers included: the first `reads` pass, the rest are refused.
        expect(statuses.slice(0, reads).filter((s) => s === 429)).toEqual([]);
        expect(statuses.slice(reads)).toEqual(Array(over).fill(429));

        // Connections: MAX_CONNECTIONS_PER_USER open; the next are refused with TOO_MANY_CONNECTIONS, an SSE stream with 429.
        const holder = freshUser('connections');
        const open: Socket[] = [];
        for (let i = 0; i < connections; i++) open.push(await openSocket(gateway, holder));
        const refusal = async () => {
          const refusedSocket = io(cluster.gatewayUrl(gateway), {
            transports: ['websocket'],
            auth: { token: await cluster.token(holder) },
            reconnection: false,
            forceNew: true,
          });
          sockets.add(refusedSocket);
          try {
            return await within(
              new Promise<{ message: string; data?: { code?: string; message?: string } } | 'connected'>((resolve) => {
                refusedSocket.once('connect_error', (e) => resolve(e as never));
                refusedSocket.once('session:ready', () => resolve('connected'));
              }),
              ACK_TIMEOUT_MS,
              'neither connected nor refused',
            );
          } finally {
            refusedSocket.disconnect();
            sockets.delete(refusedSocket);
          }
        };
        for (let i = 0; i < extraSockets; i++) {
          const err = await refusal();
          if (err === 'connected' || err.data?.code !== 'TOO_MANY_CONNECTIONS') fail(`connection over the limit: ${show(err)}`);
          expectCleanMessage(err.data.message ?? err.message, 'connect_error');
        }
        const sse = await request({ method: 'GET', path: '/v1/events', headers: { authorization: await bearer(holder) }, gateway });
        expectHttp(sse, [429]);
        if (JSON.parse(sse.text).error.code !== 'TOO_MANY_CONNECTIONS') fail(`${sse.context}: ${sse.text}`);
        // The open ones still answer, and a hostile event gets its ack under the default limits too.
        expectErrorAck(
          await ack(open[0], 'chat:send', { conversationId: 'new', content: ['x'] }),
          ErrorCode.INVALID_INPUT,
          'limited chat:send',
        );
        await probe(open[connections - 1], 'limited probe');
        // A closed connection gives its slot back.
        open.pop()!.disconnect();
        let next = await refusal();
        for (let i = 0; i < 20 && next !== 'connected'; i++) (await sleep(100), (next = await refusal()));
        if (next !== 'connected') fail(`a freed slot was not given back: ${show(next)}`);
        for (const s of open) (s.disconnect(), sockets.delete(s));
        expectAlive();
        await expectNothingStored([reader, holder]);
      }),
      2,
      20_000,
    );
  }, 60_000);

  it('stored nothing for any fuzzing user; the gateways logged no unhandled error; every service is still up', async () => {
    expectAlive();
    const { rows } = await pg.query(`SELECT user_id, count(*)::int AS runs FROM runs GROUP BY user_id`);
    expect(rows).toEqual([{ user_id: owner.userId, runs: 1 }]);
    const conversations = await pg.query(`SELECT user_id FROM conversations`);
    expect(conversations.rows).toEqual([{ user_id: owner.userId }]);
    expect(fuzzUsers.length).toBeGreaterThan(0);
    await sleep(300); // the logs reach their files through pipes
    const errors = cluster.gateways.flatMap((g) =>
      cluster
        .logLines(g.name)
        .filter((line) => Number(line.level) >= 50)
        .map((line) => `${g.name}: ${show(line, 600)}`),
    );
    expect(errors).toEqual([]);
  });
});
