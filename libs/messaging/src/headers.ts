import { headers as natsHeaders, type MsgHdrs } from 'nats';

/** Headers Herald puts on its NATS messages, beside JetStream's own. */
export const HEADER = {
  user: 'Herald-User',
  run: 'Herald-Run',
  traceparent: 'traceparent',
  sequence: 'Nats-Sequence',
} as const;

export function buildHeaders(values: Record<string, string | undefined>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) h.set(k, encodeURIComponent(v));
  return h;
}

export function readHeader(h: MsgHdrs | undefined, key: string): string | undefined {
  const v = h?.get(key);
  return v ? decodeURIComponent(v) : undefined;
}
