import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may go (PROTOCOL.md §10): a loopback, private, link-local or unique-local
 * target, also after DNS resolution, is refused unless WEBHOOK_ALLOW_PRIVATE=true. Fail
 * closed: only addresses ipaddr.js calls plain `unicast` (public) are delivered to; every
 * special range (unspecified, broadcast, multicast, carrier-grade NAT, reserved, and IPv6
 * forms that embed an IPv4 address: NAT64, 6to4, Teredo) is refused like a private one.
 */

/** Special ranges ipaddr.js 1.9 still calls `unicast`: benchmarking (often internal) and IPv6 site-local (the old private range). */
const IPV4_ALSO_NOT_PUBLIC = { benchmarking: ipaddr.IPv4.parseCIDR('198.18.0.0/15') };
const IPV6_ALSO_NOT_PUBLIC = { siteLocal: ipaddr.IPv6.parseCIDR('fec0::/10') };

/** `public`, or the special range an address is in (`loopback`, `private`, `linkLocal`, `uniqueLocal`, …). */
export function addressRange(address: string): string {
  const parsed = ipaddr.parse(address);
  // ::ffff:127.0.0.1 is 127.0.0.1 to the network stack.
  const ip = parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed;
  const range = ip.range();
  if (range !== 'unicast') return range;
  return ip instanceof ipaddr.IPv4
    ? ipaddr.subnetMatch(ip, IPV4_ALSO_NOT_PUBLIC, 'public')
    : ipaddr.subnetMatch(ip, IPV6_ALSO_NOT_PUBLIC, 'public');
}

/**
 * The IP address a URL's host names literally, normalised as the WHATWG URL parser does
 * (`127.1`, `0x7f000001` and `2130706433` are 127.0.0.1; `[::1]` is ::1), or null for a name.
 */
export function literalAddress(host: string): string | null {
  let hostname: string;
  try {
    hostname = new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}/`).hostname;
  } catch {
    return null;
  }
  const bare = hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) ? bare : null;
}

/** A target refused by the private-address rule: nothing is sent to it. */
export class WebhookTargetRefused extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`webhook target ${host} is ${address === host ? '' : `${address}, `}a ${range} address (WEBHOOK_ALLOW_PRIVATE is false)`);
    this.name = 'WebhookTargetRefused';
  }
}

export interface ResolvedTarget {
  /** The address the request connects to: the one that was checked (no second DNS lookup). */
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Resolves a URL's host once and checks every address it has: if any is not public (and
 * private targets are not allowed) the target is refused, since the system could connect to
 * either. Resolves with the address to connect to, so that DNS cannot answer differently
 * between the check and the connection (rebinding).
 */
export async function resolveTarget(url: URL, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<ResolvedTarget> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = literalAddress(url.hostname);
  const addresses = literal ? [{ address: literal, family: isIP(literal) }] : await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const range = addressRange(address);
      if (range !== 'public') throw new WebhookTargetRefused(host, address, range);
    }
  }
  const { address, family } = addresses[0];
  return { address, family: family === 6 ? 6 : 4 };
}
