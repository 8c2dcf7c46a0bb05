import { Webhook } from 'standardwebhooks';

/** The three headers of a Standard Webhooks message. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs webhooks as the Standard Webhooks specification says, with its reference library:
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` under the key of a `whsec_` secret.
 * The id stays the same on every attempt of one message; the timestamp is the attempt's, so
 * a receiver's replay window (five minutes in the library) holds for late retries too.
 */
export class WebhookSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    this.webhook = new Webhook(secret);
  }

  headers(id: string, body: string, at: Date = new Date()): WebhookHeaders {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.webhook.sign(id, at, body),
    };
  }
}
