import { etagOf, ifNoneMatchHits, ifNoneMatchTags, parseRunEtag, runEtagOf } from './etag';

describe('etag', () => {
  it('is stable for the same body and differs for another', () => {
    expect(etagOf('{"a":1}')).toBe(etagOf('{"a":1}'));
    expect(etagOf('{"a":1}')).not.toBe(etagOf('{"a":2}'));
    expect(etagOf('x')).toMatch(/^"[\w-]+"$/);
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    const tag = etagOf('body');
    expect(ifNoneMatchHits(tag, tag)).toBe(true);
    expect(ifNoneMatchHits(`"other", ${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits(`W/${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits('*', tag)).toBe(true);
    expect(ifNoneMatchHits('"other"', tag)).toBe(false);
    expect(ifNoneMatchHits(undefined, tag)).toBe(false);
  });
});

describe('run ETags', () => {
  const snapshot = {
    runId: '9b2f6c1e-3a4d-4e5f-8a7b-6c5d4e3f2a1b',
    conversationId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
    status: 'running' as const,
    progress: 0.5,
    lastEventId: '1042',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: null,
  };
  const body = JSON.stringify(snapshot);

  it('names the conversation and last event of a settled snapshot, and parses back (weak or strong)', () => {
    const tag = runEtagOf(snapshot, body);
    expect(tag).toMatch(/^"r:1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f:1042:[\w-]{27}"$/);
    expect(parseRunEtag(tag)).toEqual({ tag, conversationId: snapshot.conversationId, lastEventId: '1042' });
    expect(parseRunEtag(`W/${tag}`)?.tag).toBe(tag);
    expect(runEtagOf(snapshot, `${body} `)).not.toBe(tag);
  });

  it.each([
    ['a queued run', { status: 'queued' as const }],
    ['a run without events', { lastEventId: null }],
    ['a run whose start is not folded in yet', { startedAt: null }],
  ])('gives %s a plain body hash, which parseRunEtag refuses', (_label, patch) => {
    const tag = runEtagOf({ ...snapshot, ...patch }, body);
    expect(tag).toBe(etagOf(body));
    expect(parseRunEtag(tag)).toBeNull();
  });

  it('refuses tags that are not its own', () => {
    expect(parseRunEtag('"r:not-a-uuid:1:abc"')).toBeNull();
    expect(parseRunEtag(`"r:${snapshot.conversationId}:01:${'a'.repeat(27)}"`)).toBeNull();
    expect(parseRunEtag('*')).toBeNull();
  });

  it('lists If-None-Match tags', () => {
    expect(ifNoneMatchTags(' "a", W/"b" ,')).toEqual(['"a"', 'W/"b"']);
    expect(ifNoneMatchTags(['"a"', '"b"'])).toEqual(['"a"', '"b"']);
    expect(ifNoneMatchTags(undefined)).toEqual([]);
  });
});
