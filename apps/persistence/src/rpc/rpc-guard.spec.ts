import { ErrorCode, HeraldError } from '@herald/contracts';
import { containsNul, guardRpc } from './rpc-guard';

describe('guardRpc', () => {
  it('refuses a payload with a NUL anywhere as INVALID_INPUT, without calling the handler', async () => {
    const handle = jest.fn(async () => 'done');
    await expect(guardRpc({ userId: 'a\u0000b' }, handle)).rejects.toMatchObject({ code: ErrorCode.INVALID_INPUT });
    await expect(guardRpc({ nested: { list: ['ok', 'x\u0000'] } }, handle)).rejects.toMatchObject({ code: ErrorCode.INVALID_INPUT });
    expect(handle).not.toHaveBeenCalled();
  });

  it('turns a database that cannot be reached into UNAVAILABLE', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(guardRpc({}, () => Promise.reject(refused))).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    const shutdown = Object.assign(new Error('terminating connection'), { driverError: { code: '57P01' } });
    await expect(guardRpc({}, () => Promise.reject(shutdown))).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });

  it("strips the query parameters (users' data) from other database errors", async () => {
    const failed = Object.assign(new Error('value too long'), { code: '22001', query: 'INSERT …', parameters: ['secret message'] });
    const thrown = await guardRpc({}, () => Promise.reject(failed)).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ message: 'database error: value too long', code: '22001' });
    expect(JSON.stringify(thrown)).not.toContain('secret message');
    expect((thrown as { parameters?: unknown }).parameters).toBeUndefined();
  });

  it('passes HeraldErrors and other failures through unchanged', async () => {
    const notFound = new HeraldError(ErrorCode.NOT_FOUND, 'Conversation not found');
    await expect(guardRpc({}, () => Promise.reject(notFound))).rejects.toBe(notFound);
    const bug = new TypeError('oops');
    await expect(guardRpc({}, () => Promise.reject(bug))).rejects.toBe(bug);
    await expect(guardRpc({ ok: 'yes' }, async () => 42)).resolves.toBe(42);
  });

  it('reports database errors, and only those, to onDatabaseError', async () => {
    const seen: unknown[] = [];
    const report = (err: unknown) => seen.push(err);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const missing = Object.assign(new Error('relation "x" does not exist'), { code: '42P01' });
    await guardRpc({}, () => Promise.reject(refused), report).catch(() => undefined);
    await guardRpc({}, () => Promise.reject(missing), report).catch(() => undefined);
    await guardRpc({}, () => Promise.reject(new HeraldError(ErrorCode.NOT_FOUND, 'no')), report).catch(() => undefined);
    await guardRpc({}, () => Promise.reject(new TypeError('oops')), report).catch(() => undefined);
    await guardRpc({}, async () => 1, report);
    expect(seen).toEqual([refused, missing]);
  });

  it('finds NULs only in strings', () => {
    expect(containsNul({ a: 1, b: [true, null, 'x'] })).toBe(false);
    expect(containsNul(['\u0000'])).toBe(true);
  });
});
