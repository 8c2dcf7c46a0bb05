import { EventEmitter } from 'node:events';
import type { AgentEvent } from '@herald/contracts';
import type { Response } from 'express';
import { configSchema } from '@herald/config';
import { SseStream } from './sse-stream';
import { strictMock } from '@herald/test-support/strict-mock';

const HEARTBEAT_MS = 10_000;

class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  headers: Record<string, string> = {};
  statusCode = 0;
  writableEnded = false;
  writableLength = 0;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value;
  }
  flushHeaders() {}
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
  }
}

const event: AgentEvent = {
  id: '42',
  type: 'status',
  runId: 'r',
  conversationId: 'c',
  ts: '2026-01-01T00:00:00.000Z',
  progress: 0.5,
  data: { step: 'x', message: 'line one\nline two' },
};

describe('SseStream', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends text/event-stream headers and events as id / event / one data line', () => {
    const res = new FakeResponse();
    const stream = new SseStream(strictMock<Response>(res, 'response'), HEARTBEAT_MS);
    stream.open();
    stream.sendEvent(event);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['cache-control']).toMatch(/no-cache/);
    const frame = res.chunks.at(-1)!;
    expect(frame).toBe(`id: 42\nevent: status\ndata: ${JSON.stringify(event)}\n\n`);
    expect(frame.split('\n').filter((l) => l.startsWith('data: '))).toHaveLength(1);
    stream.close();
  });

  it('writes a comment every heartbeat interval', () => {
    const res = new FakeResponse();
    const stream = new SseStream(strictMock<Response>(res, 'response'), HEARTBEAT_MS);
    stream.open();
    const before = res.chunks.length;
    jest.advanceTimersByTime(HEARTBEAT_MS - 1);
    expect(res.chunks.slice(before)).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(res.chunks.slice(before)).toEqual([': keep-alive\n\n']);
    stream.close();
  });

  it('cannot be configured to leave more than 15 s between comments (PROTOCOL.md §6)', () => {
    expect(configSchema.parse({}).SSE_HEARTBEAT_MS).toBe(10_000);
    expect(configSchema.safeParse({ SSE_HEARTBEAT_MS: '15001' }).success).toBe(false);
  });

  it('closes once, stops the heartbeat, and tells its listeners', () => {
    const res = new FakeResponse();
    const stream = new SseStream(strictMock<Response>(res, 'response'), HEARTBEAT_MS);
    const closed = jest.fn();
    stream.onClose(closed);
    stream.open();
    res.emit('close');
    stream.close();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(res.writableEnded).toBe(true);
    const count = res.chunks.length;
    jest.advanceTimersByTime(60_000);
    stream.sendEvent(event);
    expect(res.chunks.length).toBe(count);
  });

  it('drops a client that does not read', () => {
    const res = new FakeResponse();
    const stream = new SseStream(strictMock<Response>(res, 'response'), HEARTBEAT_MS);
    stream.open();
    res.writableLength = 2 * 1024 * 1024;
    stream.sendEvent(event);
    expect(stream.isClosed).toBe(true);
  });
});
