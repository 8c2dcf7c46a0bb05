/** One Server-Sent Events frame: its `id:` (when it has one) and its `data:` text. */
export interface SseFrame {
  id?: string;
  data: string;
}

/**
 * Reads an SSE response frame by frame (comments skipped). `stop` returning true after a frame
 * ends the reading there and aborts the connection (a client that goes away mid-stream).
 */
export async function readSse(
  res: Response,
  opts: { stop?: (frame: SseFrame, all: SseFrame[]) => boolean; abort?: AbortController } = {},
): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  if (!res.body) return frames;
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame = parseBlock(block);
        if (!frame) continue;
        frames.push(frame);
        if (opts.stop?.(frame, frames)) {
          opts.abort?.abort();
          return frames;
        }
      }
    }
  } catch (err) {
    if (!opts.abort?.signal.aborted) throw err;
  }
  return frames;
}

function parseBlock(block: string): SseFrame | undefined {
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { id, data: data.join('\n') };
}
