/**
 * Names that Jest, Node and promise resolution probe on any value they are handed (printing
 * it, matching it, awaiting it): absent, not an unexpected use.
 */
const PROBED = new Set<string | symbol>(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType', 'constructor']);

/**
 * A stand-in for a `T` that has only the members it is given: using any other member throws,
 * naming it, so a test fails where the code under test reaches for something the test did not
 * expect (not later on `undefined is not a function`). Member names are checked against `T`;
 * their types are not, so a jest.fn or a small fake does.
 */
export function strictMock<T extends object>(members: { [K in keyof T]?: unknown }, name = 'strict mock'): T {
  return new Proxy(members, {
    get(target, prop, receiver) {
      if (Reflect.has(target, prop)) return Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === 'symbol' || PROBED.has(prop)) return undefined;
      throw new Error(`${name}: unexpected use of .${prop}`);
    },
    set(target, prop, value, receiver) {
      if (Reflect.has(target, prop)) return Reflect.set(target, prop, value, receiver);
      throw new Error(`${name}: unexpected write to .${String(prop)}`);
    },
  }) as T;
}
