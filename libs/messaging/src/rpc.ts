import {
  ErrorCode,
  HeraldError,
  RPC_FAILURE,
  RPC_SCHEMAS,
  rpcErrorBodySchema,
  toErrorBody,
  type PersistenceRpc,
  type RpcErrorBody,
  type RpcFailureReason,
  type RpcReply,
  type RpcReplyInput,
  type RpcRequest,
  type RpcRequestInput,
  type RpcResult,
  type Subjects,
} from '@herald/contracts';
import { ErrorCode as NatsErrorCode, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { z } from 'zod';
import { decodeJson, encodeJson } from './codec';
import { buildHeaders, HEADER, readHeader } from './headers';
import { payloadBudget } from './payload-limit';
import { type Logger, SpanKind, startSpan } from '@herald/observability';

const UNAVAILABLE_MESSAGE = 'The storage service is unavailable. Please try again shortly.';
const INTERNAL_MESSAGE = 'Something went wrong on our side. Please try again.';
export const REQUEST_TOO_LARGE_MESSAGE = 'The request is too large to send.';
export const REPLY_TOO_LARGE_MESSAGE = 'The answer is too large to send. Ask for less at once (a smaller page).';

/**
 * A failed call. `code` is what users see (UNAVAILABLE when the service could not be reached,
 * INVALID_INPUT for a request that could not be sent, INTERNAL for an answer that could not
 * be used, or the server's own code); `reason` says which transport failure it was
 * (undefined when the server answered with this error itself); `cause` keeps what was thrown
 * underneath, for logs.
 */
export class RpcCallError extends HeraldError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly op: PersistenceRpc,
    readonly reason: RpcFailureReason | undefined,
    options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, message, options.retryAfterMs, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcCallError';
  }
}

export interface CallOptions {
  timeoutMs?: number;
  /** The caller's span (W3C traceparent): the server's span for the call becomes its child. */
  traceparent?: string;
}

export interface RpcClientOptions {
  /** How long a call waits for its answer (default 5 s). */
  timeoutMs?: number;
  /** Where failures that are not the server's own answer are logged, with their reason and cause. */
  logger?: Logger;
  /** Hears of every failure that is not the server's own answer (for a metric). */
  onFailure?: (op: PersistenceRpc, reason: RpcFailureReason) => void;
}

/**
 * Typed request/reply to the storage operations of RPC_SCHEMAS (served by the persistence
 * service): `call(op, request)` validates the request before sending it and the reply on
 * receipt, and resolves with the reply's data as its schema gives it.
 */
export class RpcClient {
  private readonly timeoutMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly opts: RpcClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  async call<Op extends PersistenceRpc>(
    op: Op,
    request: RpcRequestInput<Op>,
    { timeoutMs = this.timeoutMs, traceparent }: CallOptions = {},
  ): Promise<RpcResult<Op>> {
    const schemas = RPC_SCHEMAS[op];
    const parsed = schemas.request.safeParse(request);
    if (!parsed.success) {
      throw this.failed(op, RPC_FAILURE.badRequest, ErrorCode.INVALID_INPUT, describeIssues(parsed.error), parsed.error);
    }
    const data = encodeJson(parsed.data);
    if (data.byteLength > payloadBudget(this.nc)) {
      throw this.failed(op, RPC_FAILURE.requestTooLarge, ErrorCode.INVALID_INPUT, REQUEST_TOO_LARGE_MESSAGE, { bytes: data.byteLength });
    }

    let msg: Msg;
    try {
      const headers = traceparent ? buildHeaders({ [HEADER.traceparent]: traceparent }) : undefined;
      msg = await this.nc.request(this.subjects.rpc(op), data, { timeout: timeoutMs, headers });
    } catch (err) {
      const reason = transportReason(err);
      if (reason === RPC_FAILURE.requestTooLarge) {
        throw this.failed(op, reason, ErrorCode.INVALID_INPUT, REQUEST_TOO_LARGE_MESSAGE, err);
      }
      throw this.failed(op, reason, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, err);
    }

    let reply: { ok?: unknown; data?: unknown; error?: unknown };
    try {
      reply = decodeJson(msg.data);
    } catch (err) {
      throw this.failed(op, RPC_FAILURE.badReply, ErrorCode.INTERNAL, INTERNAL_MESSAGE, err);
    }
    if (reply?.ok === true) {
      const result = schemas.reply.safeParse(reply.data);
      if (!result.success) throw this.failed(op, RPC_FAILURE.badReply, ErrorCode.INTERNAL, INTERNAL_MESSAGE, result.error);
      return result.data as RpcResult<Op>;
    }
    const error = reply?.ok === false ? rpcErrorBodySchema.safeParse(reply.error) : undefined;
    if (!error?.success) throw this.failed(op, RPC_FAILURE.badReply, ErrorCode.INTERNAL, INTERNAL_MESSAGE, error?.error ?? reply);
    const { code, message, retryAfterMs, reason } = error.data;
    if (reason) this.report(op, reason, undefined);
    throw new RpcCallError(code, message, op, reason, { retryAfterMs });
  }

  private failed(op: PersistenceRpc, reason: RpcFailureReason, code: ErrorCode, message: string, cause: unknown): RpcCallError {
    this.report(op, reason, cause);
    return new RpcCallError(code, message, op, reason, { cause });
  }

  private report(op: PersistenceRpc, reason: RpcFailureReason, cause: unknown): void {
    this.opts.onFailure?.(op, reason);
    const unreachable = reason === RPC_FAILURE.timeout || reason === RPC_FAILURE.noResponders || reason === RPC_FAILURE.transport;
    const line = { op, reason, err: cause instanceof Error ? cause : undefined };
    if (unreachable) this.opts.logger?.warn(line, 'rpc call failed');
    else this.opts.logger?.error(line, 'rpc call failed');
  }
}

/** Timeout, no responders, a payload over max_payload, or anything else the connection threw. */
function transportReason(err: unknown): RpcFailureReason {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === NatsErrorCode.Timeout) return RPC_FAILURE.timeout;
  if (code === NatsErrorCode.NoResponders) return RPC_FAILURE.noResponders;
  if (code === NatsErrorCode.MaxPayloadExceeded) return RPC_FAILURE.requestTooLarge;
  return RPC_FAILURE.transport;
}

function describeIssues(error: z.ZodError): string {
  return (
    error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.map(String).join('.') : 'payload'}: ${i.message}`)
      .join('; ') || 'payload: invalid'
  );
}

/** A server's handler of `op`: gets the validated request, resolves with the answer's data. */
export type RpcHandler<Op extends PersistenceRpc> = (request: RpcRequest<Op>) => Promise<RpcReplyInput<Op>>;

export interface ServeRpcOptions {
  /** The queue group: any number of instances share the requests. */
  queue: string;
  logger: Logger;
  /** The span a traced request is answered in (default `rpc <op>`). */
  spanName?: string;
}

/**
 * Serves `op` in a queue group. The request is validated with the op's schema (INVALID_INPUT
 * otherwise, and the handler is not called); a thrown HeraldError becomes an error reply, and
 * anything else an INTERNAL one (logged, never sent). Every request is answered from here,
 * errors included, and nothing thrown escapes: an answer larger than the connection's
 * max_payload is replaced by an INTERNAL error with reason `reply_too_large` (logged), and a
 * respond that still fails is logged. A request that carries its caller's traceparent is
 * answered in a span, the child of the caller's span; one without (health checks) makes none.
 */
export function serveRpc<Op extends PersistenceRpc>(
  nc: NatsConnection,
  subjects: Subjects,
  op: Op,
  handler: RpcHandler<Op>,
  { queue, logger, spanName = `rpc ${op}` }: ServeRpcOptions,
): Subscription {
  const subject = subjects.rpc(op);
  const schema = RPC_SCHEMAS[op].request;

  const answer = async (msg: Msg): Promise<void> => {
    let parent: string | undefined;
    try {
      parent = readHeader(msg.headers, HEADER.traceparent);
    } catch {
      parent = undefined; // a header that is not valid percent-encoding: no span
    }
    const span = parent ? startSpan(spanName, { parent, kind: SpanKind.SERVER }) : undefined;
    let reply: RpcReply<unknown>;
    try {
      const parsed = schema.safeParse(decodeRequest(msg));
      if (!parsed.success) throw new HeraldError(ErrorCode.INVALID_INPUT, describeIssues(parsed.error));
      reply = { ok: true, data: await handler(parsed.data as RpcRequest<Op>) };
      span?.end();
    } catch (e) {
      if (!HeraldError.is(e)) logger.error({ err: e, subject }, 'rpc handler failed');
      reply = { ok: false, error: toErrorBody(e) };
      span?.end(e);
    }
    respond(nc, msg, reply, subject, logger);
  };

  return nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err, subject }, 'rpc subscription error');
        return;
      }
      answer(msg).catch((e: unknown) => logger.error({ err: e, subject }, 'rpc request not answered'));
    },
  });
}

/** A request that is not JSON is INVALID_INPUT, like one that does not fit its schema. */
function decodeRequest(msg: Msg): unknown {
  try {
    return decodeJson(msg.data);
  } catch {
    throw new HeraldError(ErrorCode.INVALID_INPUT, 'payload: not JSON');
  }
}

/** Sends `reply` if the request wants one, bounded by max_payload; never throws. */
function respond(nc: NatsConnection, msg: Msg, reply: RpcReply<unknown>, subject: string, logger: Logger): void {
  if (!msg.reply) return;
  let data: Uint8Array;
  try {
    data = encodeJson(reply);
  } catch (err) {
    logger.error({ err, subject }, 'rpc reply could not be encoded');
    data = encodeJson(errorReply(ErrorCode.INTERNAL, INTERNAL_MESSAGE));
  }
  const budget = payloadBudget(nc);
  if (data.byteLength > budget) {
    logger.error({ subject, bytes: data.byteLength, budget }, 'rpc reply too large to send; answering with an error');
    data = encodeJson(errorReply(ErrorCode.INTERNAL, REPLY_TOO_LARGE_MESSAGE, RPC_FAILURE.replyTooLarge));
  }
  try {
    msg.respond(data);
  } catch (err) {
    logger.error({ err, subject }, 'rpc reply could not be sent');
  }
}

function errorReply(code: ErrorCode, message: string, reason?: RpcFailureReason): RpcReply<never> {
  const error: RpcErrorBody = reason ? { code, message, reason } : { code, message };
  return { ok: false, error };
}
