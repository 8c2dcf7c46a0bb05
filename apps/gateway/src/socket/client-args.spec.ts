import { splitClientArgs } from './client-args';

describe('splitClientArgs', () => {
  const cb = () => undefined;

  it('finds the payload and the ack', () => {
    expect(splitClientArgs([{ a: 1 }, cb])).toEqual({ payload: { a: 1 }, ack: cb });
  });

  it('handles an ack without payload and a payload without ack', () => {
    expect(splitClientArgs([cb])).toEqual({ payload: undefined, ack: cb });
    expect(splitClientArgs(['x'])).toEqual({ payload: 'x', ack: undefined });
    expect(splitClientArgs([])).toEqual({ payload: undefined, ack: undefined });
  });

  it('takes the first of several payloads', () => {
    expect(splitClientArgs([1, 2, cb])).toEqual({ payload: 1, ack: cb });
  });
});
