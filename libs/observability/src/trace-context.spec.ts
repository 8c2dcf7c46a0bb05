import { childSpan, formatTraceparent, parseTraceparent } from './trace-context';

describe('trace context (W3C traceparent)', () => {
  const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('parses and formats a traceparent', () => {
    const ctx = parseTraceparent(header);
    expect(ctx).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
    expect(formatTraceparent(ctx!)).toBe(header);
  });

  it.each([
    undefined,
    '',
    'garbage',
    '00-short-00f067aa0ba902b7-01',
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
    // The version no sender may use, and version 00 with more fields than it has.
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
  ])('refuses %p', (value) => expect(parseTraceparent(value)).toBeUndefined());

  it('reads a later version by its first four fields, as the spec asks of a version 00 reader', () => {
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: false,
    });
  });

  it('continues a trace with a new span, or starts one', () => {
    const child = childSpan(header);
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe('00f067aa0ba902b7');
    const root = childSpan();
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(parseTraceparent(formatTraceparent(root))).toEqual(root);
  });
});
