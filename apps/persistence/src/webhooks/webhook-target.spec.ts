import { addressRange, literalAddress, resolveTarget, WebhookTargetRefused, type Resolver } from './webhook-target';

describe('webhook targets (the private-address rule)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['febf:ffff::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fec0::1', 'siteLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
  ])('%s is %s, not public', (address, range) => {
    expect(addressRange(address)).toBe(range);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', 'fbff::1', '2001:4860:4860::8888'])(
    '%s is public',
    (address) => {
      expect(addressRange(address)).toBe('public');
    },
  );

  it('reads a URL host as the URL parser does: shorthand, hexadecimal and integer IPv4, bracketed IPv6', () => {
    expect(literalAddress('127.1')).toBe('127.0.0.1');
    expect(literalAddress('0x7f000001')).toBe('127.0.0.1');
    expect(literalAddress('2130706433')).toBe('127.0.0.1');
    expect(literalAddress('0177.0.0.1')).toBe('127.0.0.1');
    expect(literalAddress('[::1]')).toBe('::1');
    expect(literalAddress('::1')).toBe('::1');
    expect(literalAddress('[0:0:0:0:0:0:0:1]')).toBe('::1');
    expect(literalAddress('[::ffff:127.0.0.1]')).toBe('::ffff:7f00:1');
    expect(literalAddress('example.com')).toBeNull();
    expect(literalAddress('localhost')).toBeNull();
  });

  const resolver =
    (table: Record<string, string[]>): Resolver =>
    async (host) =>
      (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it.each([
    'http://127.1/hook',
    'http://0x7f000001/hook',
    'http://[::1]:8080/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://0.0.0.0/hook',
    'http://169.254.169.254/latest/meta-data',
    'https://[fd00::1]/hook',
    'https://[fe80::1]/hook',
  ])('refuses %s without resolving anything', async (url) => {
    const resolve = jest.fn(resolver({}));
    await expect(resolveTarget(new URL(url), false, resolve)).rejects.toBeInstanceOf(WebhookTargetRefused);
    expect(resolve).not.toHaveBeenCalled();
  });

  it('refuses a name that resolves to a private address, or to a public and a private one', async () => {
    const resolve = resolver({
      localhost: ['127.0.0.1', '::1'],
      'internal.example.com': ['10.0.0.7'],
      'mixed.example.com': ['93.184.216.34', '192.168.0.10'],
      'mapped.example.com': ['::ffff:10.0.0.1'],
    });
    for (const host of ['localhost', 'internal.example.com', 'mixed.example.com', 'mapped.example.com']) {
      const refusal = await resolveTarget(new URL(`https://${host}/hook`), false, resolve).catch((err: unknown) => err);
      expect({ host, refused: refusal instanceof WebhookTargetRefused }).toEqual({ host, refused: true });
    }
  });

  it('pins a public name to the address it checked, and lets private targets through when allowed', async () => {
    const resolve = resolver({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'], localhost: ['127.0.0.1'] });
    expect(await resolveTarget(new URL('https://hooks.example.com/x'), false, resolve)).toEqual({ address: '93.184.216.34', family: 4 });
    expect(await resolveTarget(new URL('http://localhost:9/x'), true, resolve)).toEqual({ address: '127.0.0.1', family: 4 });
    expect(await resolveTarget(new URL('http://[::1]:9/x'), true, resolve)).toEqual({ address: '::1', family: 6 });
    await expect(resolveTarget(new URL('https://nowhere.example.com/x'), false, resolve)).rejects.toThrow(/has no address/);
  });
});
