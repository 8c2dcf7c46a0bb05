import { isAdmin } from './roles';

describe('isAdmin', () => {
  it.each([
    [{ role: 'admin' }, true],
    [{ roles: ['reader', 'admin'] }, true],
    [{ role: 'user' }, false],
    [{ roles: 'admin' }, false],
    [{ role: ['admin'] }, false],
    [{}, false],
  ])('%p → %p', (claims, expected) => expect(isAdmin(claims)).toBe(expected));
});
