import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveTarget, type Resolver } from './webhook-target';

/** What the receiver answered: its status and the start of its body (for the logs). */
export interface WebhookResponse {
  status: number;
  /** At most `maxResponseBytes` of the body, as text. */
  body: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** The whole attempt: DNS, connect, TLS, sending, and the answer. */
  timeoutMs: number;
  /** How much of the answer is read; the connection is closed after that. */
  maxResponseBytes: number;
  allowPrivate: boolean;
  resolve?: Resolver;
}

/**
 * POSTs one webhook. The host is resolved and checked once (resolveTarget) and the connection
 * goes to exactly that address, with the URL's host name kept for TLS (SNI, certificate) and
 * the Host header. Redirects are never followed: a 3xx is an answer like any other non-2xx.
 * Rejects with WebhookTargetRefused before anything is sent to a refused target.
 */
export async function postWebhook(url: URL, opts: PostOptions): Promise<WebhookResponse> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const target = await abortable(resolveTarget(url, opts.allowPrivate, opts.resolve), deadline);
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) },
    lookup: pinned,
    agent: false,
    signal: deadline,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookResponse>((resolve, reject) => {
    const req = send(url, options, (res) => {
      readBounded(res, opts.maxResponseBytes).then(resolve, reject);
    });
    req.on('error', (err) => reject(deadline.aborted ? new Error(`no answer within ${opts.timeoutMs} ms`) : err));
    req.end(opts.body);
  });
}

/** Reads up to `max` bytes of the answer, then lets the connection go (agent: false closes it). */
function readBounded(res: IncomingMessage, max: number): Promise<WebhookResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      res.removeAllListeners('data');
      resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, max).toString('utf8') });
    };
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) {
        done();
        res.destroy();
      }
    });
    res.on('end', done);
    res.on('error', (err) => (size >= max ? undefined : reject(err)));
    // After 'end' (or enough read) this changes nothing; before, the answer was cut off.
    res.on('close', () => reject(new Error('the answer was cut off')));
  });
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('no address in time'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
