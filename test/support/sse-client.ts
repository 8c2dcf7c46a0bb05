export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

/** A minimal Server-Sent Events reader over fetch, for tests. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = '';

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    const client = new SseClient(response, controller);
    if (response.ok && response.body) void client.pump(response.body);
    return client;
  }

  get events(): Array<{ id: string; type: string; envelope: Record<string, unknown> }> {
    return this.messages
      .filter((m) => m.data !== undefined)
      .map((m) => ({ id: m.id!, type: m.event!, envelope: JSON.parse(m.data!) as Record<string, unknown> }));
  }

  close(): void {
    this.controller.abort();
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) !== -1) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  private parse(block: string): void {
    const message: SseMessage = {};
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id' || field === 'event' || field === 'data') {
        message[field] = field === 'data' && message.data !== undefined ? `${message.data}\n${value}` : value;
        hasField = true;
      }
    }
    if (hasField) this.messages.push(message);
  }
}
