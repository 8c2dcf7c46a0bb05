import { HeraldError } from '@herald/contracts';
import type { Logger } from '@herald/observability';
import type { HeraldSocket } from '../common/herald-socket.types';
import type { EventsResumeService } from '../delivery/events-resume.service';
import type { FeedbackService } from '../feedback/feedback.service';
import type { ChatService } from '../runs/chat.service';
import type { RunCommandsService } from '../runs/run-commands.service';
import { ClientEventHandlers, MAX_IN_FLIGHT_PER_SOCKET } from './client-event-handlers.service';
import { strictMock } from '@herald/test-support/strict-mock';

type Listener = (...args: unknown[]) => void;

class FakeSocket {
  readonly data = { userId: 'u1', expiresAt: Date.now() + 60_000 };
  private readonly byEvent = new Map<string, Listener>();
  private any: ((event: string, ...args: unknown[]) => void) | undefined;
  on(event: string, listener: Listener) {
    this.byEvent.set(event, listener);
  }
  onAny(listener: (event: string, ...args: unknown[]) => void) {
    this.any = listener;
  }
  /** What Socket.IO does with an incoming event: catch-all listeners first, then the event's own. */
  receive(event: string, ...args: unknown[]) {
    this.any?.(event, ...args);
    this.byEvent.get(event)?.(...args);
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(overrides: { send?: jest.Mock } = {}) {
  const chat = {
    send: overrides.send ?? jest.fn().mockResolvedValue({ conversationId: 'c', runId: 'r', messageId: 'm', userMessageId: 'um' }),
  };
  const runs = { cancel: jest.fn().mockResolvedValue({}), respond: jest.fn().mockResolvedValue({}) };
  const resume = { resume: jest.fn().mockResolvedValue({ replayed: 0, lastId: '0' }) };
  const feedback = { rate: jest.fn().mockResolvedValue({ feedback: null }) };
  const logger = { error: jest.fn() };
  const handlers = new ClientEventHandlers(
    strictMock<ChatService>(chat, 'chat'),
    strictMock<RunCommandsService>(runs, 'runs'),
    strictMock<EventsResumeService>(resume, 'resume'),
    strictMock<FeedbackService>(feedback, 'feedback'),
    strictMock<Logger>(logger, 'logger'),
  );
  const socket = new FakeSocket();
  handlers.bind(strictMock<HeraldSocket>(socket, 'socket'));
  return { socket, chat, runs, resume, feedback, logger };
}

describe('ClientEventHandlers', () => {
  it('acks { ok: true, ...result } and passes the user and payload', async () => {
    const { socket, chat } = setup();
    const ack = jest.fn();
    socket.receive('chat:send', { content: 'hi' }, ack);
    await flush();
    expect(chat.send).toHaveBeenCalledWith('u1', { content: 'hi' });
    expect(ack).toHaveBeenCalledWith({ ok: true, conversationId: 'c', runId: 'r', messageId: 'm', userMessageId: 'um' });
  });

  it('acks HeraldErrors with their body and anything else as INTERNAL (logged, never sent)', async () => {
    const send = jest
      .fn()
      .mockRejectedValueOnce(new HeraldError('RATE_LIMITED', 'slow', 900))
      .mockRejectedValueOnce(new Error('db password wrong'));
    const { socket, logger } = setup({ send });
    const acks = [jest.fn(), jest.fn()];
    socket.receive('chat:send', {}, acks[0]);
    socket.receive('chat:send', {}, acks[1]);
    await flush();
    expect(acks[0]).toHaveBeenCalledWith({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow', retryAfterMs: 900 } });
    expect(acks[1].mock.calls[0][0]).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(acks[1].mock.calls[0][0])).not.toMatch(/password/);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('processes events without a callback', async () => {
    const { socket, runs } = setup();
    socket.receive('run:cancel', { runId: 'x' });
    await flush();
    expect(runs.cancel).toHaveBeenCalledWith('u1', { runId: 'x' });
  });

  it('hands message:feedback to the feedback service with the socket user', async () => {
    const { socket, feedback } = setup();
    const ack = jest.fn();
    socket.receive('message:feedback', { messageId: 'm', rating: 'up' }, ack);
    await flush();
    expect(feedback.rate).toHaveBeenCalledWith('u1', { messageId: 'm', rating: 'up' });
    expect(ack).toHaveBeenCalledWith({ ok: true, feedback: null });
  });

  it('answers unknown events with INVALID_INPUT, and only those', async () => {
    const { socket } = setup();
    const unknown = jest.fn();
    const known = jest.fn();
    socket.receive('nope', { a: 1 }, unknown);
    socket.receive('run:respond', {}, known);
    await flush();
    expect(unknown).toHaveBeenCalledWith({ ok: false, error: { code: 'INVALID_INPUT', message: 'Unknown event "nope".' } });
    expect(known).toHaveBeenCalledTimes(1);
    expect(known.mock.calls[0][0]).toEqual({ ok: true });
  });

  it('asks a client with too many requests in flight to slow down', async () => {
    const pending: Array<() => void> = [];
    const send = jest.fn(() => new Promise((resolve) => pending.push(() => resolve({}))));
    const { socket } = setup({ send });
    for (let i = 0; i < MAX_IN_FLIGHT_PER_SOCKET; i++) socket.receive('chat:send', {}, jest.fn());
    const over = jest.fn();
    socket.receive('chat:send', {}, over);
    await flush();
    expect(over).toHaveBeenCalledWith({ ok: false, error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: 1000 }) });
    expect(send).toHaveBeenCalledTimes(MAX_IN_FLIGHT_PER_SOCKET);
    pending.splice(0).forEach((resolve) => resolve());
    await flush();
    const after = jest.fn();
    socket.receive('chat:send', {}, after);
    await flush();
    pending.splice(0).forEach((resolve) => resolve());
    await flush();
    expect(after.mock.calls[0][0]).toMatchObject({ ok: true });
  });
});
