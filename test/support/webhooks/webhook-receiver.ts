import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebhookPayload, webhookPayloadSchema } from '@herald/contracts';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, checked as a Standard Webhooks receiver checks it. */
export interface ReceivedWebhook {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** Whether the signature verified with the standardwebhooks library (and the secret). */
  verified: boolean;
  verifyError?: string;
  /** The body as a payload of PROTOCOL.md §10, or null when it is not one. */
  payload: WebhookPayload | null;
  headers: IncomingHttpHeaders;
  /** Which attempt of this webhook-id (1 for the first) this was. */
  attempt: number;
  /** The status the receiver answered. */
  status: number;
  receivedAt: number;
}

/** How the receiver answers attempt `attempt` of a webhook-id at `path` (default 204). */
export type Answer = (path: string, attempt: number) => number;

/**
 * A local HTTP server that receives webhooks as an operator's endpoint would: it verifies
 * each signature with the `standardwebhooks` library and answers as the test says (to fail
 * attempts on purpose). Every request is recorded, verified or not.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly attempts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    private readonly secret: string,
    private readonly answer: Answer,
  ) {}

  static async start(secret: string, answer: Answer = () => 204): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(receiver.record(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'))).end());
    });
    receiver = new WebhookReceiver(server, secret, answer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook', host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  private record(path: string, headers: IncomingHttpHeaders, body: string): number {
    const id = String(headers['webhook-id'] ?? '');
    const key = `${path} ${id}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    let verified = false;
    let verifyError: string | undefined;
    try {
      new Webhook(this.secret).verify(body, {
        'webhook-id': id,
        'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(headers['webhook-signature'] ?? ''),
      });
      verified = true;
    } catch (err) {
      verifyError = (err as Error).message;
    }
    let payload: WebhookPayload | null = null;
    try {
      const parsed = webhookPayloadSchema.safeParse(JSON.parse(body));
      payload = parsed.success ? parsed.data : null;
    } catch {
      payload = null;
    }
    const status = this.answer(path, attempt);
    this.received.push({
      path,
      id,
      timestamp: String(headers['webhook-timestamp'] ?? ''),
      signature: String(headers['webhook-signature'] ?? ''),
      body,
      verified,
      verifyError,
      payload,
      headers,
      attempt,
      status,
      receivedAt: Date.now(),
    });
    return status;
  }

  /** The requests about one run, in the order they came. */
  of(runId: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.payload?.data.runId === runId);
  }

  /** Polls until `check` holds (or fails after `timeoutMs`). */
  async until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received.map((r) => [r.path, r.id, r.status]))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
