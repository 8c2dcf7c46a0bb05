import { Webhook } from 'standardwebhooks';
import { WebhookSigner } from './webhook-signer';

describe('webhook signatures (Standard Webhooks)', () => {
  // The specification's example: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const body = '{"test": 2432232314}';

  it("matches the specification's test vector", () => {
    const headers = new WebhookSigner(secret).headers(id, body, new Date(1614265330 * 1000));
    expect(headers).toEqual({
      'webhook-id': id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('is what a receiver verifies with the library, and a changed body, id or key is not', () => {
    const headers = new WebhookSigner(secret).headers(id, body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ test: 2432232314 });
    expect(() => new Webhook(secret).verify('{"test": 1}', { ...headers })).toThrow(/signature/i);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow(/signature/i);
    expect(() => new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(body, { ...headers })).toThrow(/signature/i);
  });

  it('keeps the id and signs each attempt at its own time', () => {
    const signer = new WebhookSigner(secret);
    const first = signer.headers(id, body, new Date(1_700_000_000_000));
    const retry = signer.headers(id, body, new Date(1_700_000_005_000));
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(retry['webhook-timestamp']).toBe('1700000005');
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature']);
  });
});
