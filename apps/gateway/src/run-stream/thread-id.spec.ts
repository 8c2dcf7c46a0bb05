import { conversationIdOfThread, THREAD_ID_NAMESPACE, uuidV5 } from './thread-id';

describe('conversationIdOfThread (PROTOCOL.md §8 ids)', () => {
  it('computes RFC 9562 UUIDv5 (the RFC’s DNS example)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('takes a UUID as the conversation id itself, lower-cased', () => {
    expect(conversationIdOfThread('alice', 'A1B2C3D4-1111-4222-8333-944455556666')).toBe('a1b2c3d4-1111-4222-8333-944455556666');
  });

  it('names a client’s own id by the UUIDv5 of the user and that id: stable, and different for each user', () => {
    const alice = conversationIdOfThread('alice', 'chat:42');
    expect(alice).toBe(uuidV5('alice\u0000chat:42', THREAD_ID_NAMESPACE));
    expect(conversationIdOfThread('alice', 'chat:42')).toBe(alice);
    expect(conversationIdOfThread('bob', 'chat:42')).not.toBe(alice);
    expect(conversationIdOfThread('alice', 'chat:43')).not.toBe(alice);
    expect(alice).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([[''], ['x'.repeat(129)], ['has space'], ['ünïcode'], ['a/b'], [42], [null]])('refuses %p with INVALID_INPUT', (id) => {
    expect(() => conversationIdOfThread('alice', id, 'id')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^id:/) }),
    );
  });

  it('accepts 128 characters of the allowed set', () => {
    expect(() => conversationIdOfThread('alice', 'aZ09_.:-'.repeat(16))).not.toThrow();
  });
});
