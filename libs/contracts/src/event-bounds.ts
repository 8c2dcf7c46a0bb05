import type { EventData, EventType } from './events';

/** PROTOCOL.md §3 and §7: a tool's `input` or `output` in an event is at most this many bytes of JSON. */
export const TOOL_PAYLOAD_MAX_BYTES = 32 * 1024;

/**
 * The bounded form of an event's data: a `tool_executing` (or a tool's `approval_requested`) input or a `tool_completed` output
 * over TOOL_PAYLOAD_MAX_BYTES is cut, with `truncated: true` beside it: a string to its first
 * TOOL_PAYLOAD_MAX_BYTES bytes of UTF-8, any other value to the start of its JSON text (a
 * string), never splitting a character. Anything else is returned as it is (the same object).
 */
export function boundEventData<T extends EventType>(type: T, data: EventData<T>): EventData<T> {
  if (type === 'tool_executing') {
    const d = data as EventData<'tool_executing'>;
    const cut = cutJson(d.input);
    return (cut === undefined ? data : { ...d, input: cut, truncated: true }) as EventData<T>;
  }
  if (type === 'approval_requested') {
    const d = data as EventData<'approval_requested'>;
    const cut = cutJson(d.input);
    return (cut === undefined ? data : { ...d, input: cut, truncated: true }) as EventData<T>;
  }
  if (type === 'tool_completed') {
    const d = data as EventData<'tool_completed'>;
    const cut = cutJson(d.output);
    return (cut === undefined ? data : { ...d, output: cut, truncated: true }) as EventData<T>;
  }
  return data;
}

/** The first TOOL_PAYLOAD_MAX_BYTES of `value` (a string) or of its JSON text, when it is longer; undefined when it fits. */
function cutJson(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  } catch {
    return '[not serializable as JSON]';
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings are decided without encoding them.
  if (text.length * 3 <= TOOL_PAYLOAD_MAX_BYTES) return undefined;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.byteLength <= TOOL_PAYLOAD_MAX_BYTES) return undefined;
  let end = TOOL_PAYLOAD_MAX_BYTES;
  // Back up to the first byte of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
