import type { Ack } from '@herald/contracts';

export type AckFn = (response: Ack) => void;

/**
 * Socket.IO hands a handler the emitted arguments, with the client's callback last when it
 * asked for an acknowledgement. The payload is the first argument (undefined when absent).
 */
export function splitClientArgs(args: readonly unknown[]): { payload: unknown; ack: AckFn | undefined } {
  const last = args[args.length - 1];
  const ack = typeof last === 'function' ? (last as AckFn) : undefined;
  const payloadCount = ack ? args.length - 1 : args.length;
  return { payload: payloadCount > 0 ? args[0] : undefined, ack };
}
