import { parseEventSubject, subjects, userIdFromToken, userToken } from './subjects';

describe('subjects', () => {
  const s = subjects('herald');

  it.each(['*', '>', 'a.b c', 'alice@example.com', 'ünïcødé', '  ', 'x'.repeat(128)])('encodes %p as one safe token', (userId) => {
    const token = userToken(userId);
    expect(token).toMatch(/^[\w-]+$/);
    expect(userIdFromToken(token)).toBe(userId);
    const subject = s.events(userId, 'c1', 'r1');
    expect(subject.split('.')).toHaveLength(5);
    expect(parseEventSubject(subject)).toEqual({ userId, conversationId: 'c1', runId: 'r1' });
  });

  it('never lets one user id produce a wildcard matching another', () => {
    expect(s.liveOfUser('*')).not.toContain('.*.');
    expect(s.liveOfUser('>')).toBe(`herald.live.${userToken('>')}.>`);
    expect(userToken('a')).not.toBe(userToken('b'));
  });

  it('namespaces every name so two deployments do not meet', () => {
    const a = subjects('alpha');
    const b = subjects('beta');
    expect(a.runRequest).not.toBe(b.runRequest);
    expect(a.streams.events).toBe('ALPHA_EVENTS');
    expect(a.keys.runCancelled('r')).toMatch(/^alpha:/);
    expect(a.bullmqPrefix).not.toBe(b.bullmqPrefix);
  });

  it('gives every user Redis keys of their own, whatever characters the id or a clientMessageId holds', () => {
    const ids = ['a', 'a:b', 'a:b:c', '*', 'ünï', 'x'.repeat(128)];
    for (const key of ['connections', 'replays'] as const) {
      const keys = ids.map((id) => s.keys[key](id));
      expect(new Set(keys).size).toBe(ids.length);
      for (const k of keys) expect(k).toMatch(/^herald:[a-z]+:[\w-]+$/);
    }
    const pairs = [
      ['a', 'b:c'],
      ['a:b', 'c'],
      ['a', 'b'],
      ['b', 'a'],
    ] as const;
    const keys = pairs.map(([user, cmid]) => s.keys.clientMessage(user, cmid));
    expect(new Set(keys).size).toBe(pairs.length);
    expect(s.keys.readRateLimit).not.toBe(s.keys.rateLimit);
    expect(subjects('alpha').keys.connections('u')).toMatch(/^alpha:/);
  });

  it('refuses a namespace that is not a subject token', () => {
    expect(() => subjects('a.b')).toThrow(/HERALD_NAMESPACE/);
    expect(() => subjects('A')).toThrow();
    expect(() => subjects('')).toThrow();
  });

  it('does not capture request/reply subjects in the streams', () => {
    expect(s.rpc('run.admit').startsWith('herald.evt.')).toBe(false);
    expect(s.rpc('run.admit')).not.toBe(s.runRequest);
  });
});
