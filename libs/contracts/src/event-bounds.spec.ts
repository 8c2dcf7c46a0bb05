import { boundEventData, TOOL_PAYLOAD_MAX_BYTES } from './event-bounds';

const base = { agent: 'knowledge', tool: 'search', callId: 'call_1_1' };
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('boundEventData', () => {
  it('leaves a tool input or output of at most 32 KiB as it is (the same object)', () => {
    const input = { query: 'x'.repeat(TOOL_PAYLOAD_MAX_BYTES - 20) };
    const executing = { ...base, input };
    expect(boundEventData('tool_executing', executing)).toBe(executing);
    const completed = { ...base, ok: true, output: 'y'.repeat(TOOL_PAYLOAD_MAX_BYTES), durationMs: 3 };
    expect(boundEventData('tool_completed', completed)).toBe(completed);
    const failed = { ...base, ok: false, error: 'boom', durationMs: 3 };
    expect(boundEventData('tool_completed', failed)).toBe(failed);
  });

  it('cuts a string output over 32 KiB to its first 32 KiB, never splitting a character, with truncated: true', () => {
    const output = '😀'.repeat(TOOL_PAYLOAD_MAX_BYTES); // 4 bytes each: 128 KiB
    const bounded = boundEventData('tool_completed', { ...base, ok: true, output, durationMs: 12 });
    expect(bounded).toMatchObject({ ...base, ok: true, durationMs: 12, truncated: true });
    const cut = bounded.output as string;
    expect(bytes(cut)).toBe(TOOL_PAYLOAD_MAX_BYTES);
    expect(output.startsWith(cut)).toBe(true);
    expect(cut).not.toContain('\uFFFD'); // no character split into a replacement
    // A character across the boundary is left out whole.
    const odd = `a${'😀'.repeat(TOOL_PAYLOAD_MAX_BYTES / 4)}`;
    const oddCut = boundEventData('tool_completed', { ...base, ok: true, output: odd, durationMs: 1 }).output as string;
    expect(bytes(oddCut)).toBe(TOOL_PAYLOAD_MAX_BYTES - 3);
    expect(oddCut).not.toContain('\uFFFD');
  });

  it('cuts any other input over 32 KiB to the start of its JSON text', () => {
    const input = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, name: `row ${i}` })) };
    const bounded = boundEventData('tool_executing', { ...base, input });
    expect(bounded.truncated).toBe(true);
    expect(typeof bounded.input).toBe('string');
    expect(bytes(bounded.input as string)).toBe(TOOL_PAYLOAD_MAX_BYTES);
    expect(JSON.stringify(input).startsWith(bounded.input as string)).toBe(true);
    expect(bounded).toMatchObject(base);
  });

  it("cuts the input of a tool call's approval_requested the same way, and leaves a small one or an approval without a tool alone", () => {
    const input = { text: 'n'.repeat(TOOL_PAYLOAD_MAX_BYTES * 2) };
    const request = { requestId: 'req_1_1', action: 'Run files.write', details: { server: 'files' }, ...base, input };
    const bounded = boundEventData('approval_requested', request);
    expect(bounded).toMatchObject({
      requestId: 'req_1_1',
      action: 'Run files.write',
      details: { server: 'files' },
      ...base,
      truncated: true,
    });
    expect(bytes(bounded.input as string)).toBe(TOOL_PAYLOAD_MAX_BYTES);
    expect(JSON.stringify(input).startsWith(bounded.input as string)).toBe(true);
    const small = { ...request, input: { text: 'hi' } };
    expect(boundEventData('approval_requested', small)).toBe(small);
    const plain = { requestId: 'req_1_2', action: 'Export', details: 'd'.repeat(TOOL_PAYLOAD_MAX_BYTES * 2) };
    expect(boundEventData('approval_requested', plain)).toBe(plain);
  });

  it('leaves every other event type alone', () => {
    const message = { messageId: 'm', role: 'assistant' as const, content: 'z'.repeat(100_000), metadata: { intent: 'q', sources: [] } };
    expect(boundEventData('message', message)).toBe(message);
  });
});
