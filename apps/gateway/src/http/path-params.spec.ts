import { HeraldError } from '@herald/contracts';
import { uuidParam, withParam } from './path-params';

const ID = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';

describe('uuidParam', () => {
  it('lower-cases UUIDs and refuses anything else as NOT_FOUND', () => {
    expect(uuidParam(ID)).toBe(ID.toLowerCase());
    const err = (() => {
      try {
        uuidParam('nope');
      } catch (e) {
        return e;
      }
    })();
    expect(HeraldError.is(err) && err.code).toBe('NOT_FOUND');
  });
});

describe('withParam', () => {
  it('adds the field to an object body', () => {
    expect(withParam({ content: 'hi' }, 'conversationId', 'new')).toEqual({ content: 'hi', conversationId: 'new' });
  });

  it('accepts the same value in the body and refuses another', () => {
    expect(withParam({ runId: ID.toLowerCase() }, 'runId', ID)).toEqual({ runId: ID });
    expect(() => withParam({ runId: 'other' }, 'runId', ID)).toThrow(HeraldError);
  });

  it('leaves non-objects for the schema to refuse', () => {
    expect(withParam(undefined, 'x', 'y')).toBeUndefined();
    expect(withParam([1], 'x', 'y')).toEqual([1]);
    expect(withParam('s', 'x', 'y')).toBe('s');
  });

  it('keeps a __proto__ key visible to validation', () => {
    const body = JSON.parse('{"__proto__": {"polluted": true}, "content": "x"}');
    const merged = withParam(body, 'conversationId', 'new') as Record<string, unknown>;
    expect(Object.keys(merged)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
