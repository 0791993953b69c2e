/** IPv4 CIDR arithmetic for the network audit. Pure. */

export interface AddressRange {
  readonly start: number;
  readonly end: number;
  readonly cidr: string;
}

/** `10.0.0.0/16` → its first and last address, or undefined when it is not an IPv4 CIDR. */
export function parseIpv4Cidr(text: unknown): AddressRange | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = Math.floor(address / size) * size;
  return { start, end: start + size - 1, cidr: text.trim() };
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** Whether `outer` holds every address of `inner`. */
export function rangeContains(outer: AddressRange, inner: AddressRange): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

/** `0.0.0.0/0`: the internet route, not an address inside the VPC. */
export function isDefaultRoute(range: AddressRange): boolean {
  return range.start === 0 && range.end === 2 ** 32 - 1;
}

/** An address range of either family, as big integers (IPv6 needs 128 bits). */
export interface AnyRange {
  readonly family: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
  readonly cidr: string;
}

function parseIpv6Address(text: string): bigint | undefined {
  let head = text;
  let tailV4: bigint | undefined;
  const v4 = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (v4) {
    const range = parseIpv4Cidr(v4[2]);
    if (!range) return undefined;
    head = `${v4[1]}0:0`;
    tailV4 = BigInt(range.start);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const left = part(halves[0] as string);
  const right = halves.length === 2 ? part(halves[1] as string) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return tailV4 === undefined ? value : (value & ~0xffffffffn) | tailV4;
}

/** `10.0.0.0/8`, `10.1.2.3`, `2001:db8::/32` or `::1` → its range; undefined when it is neither family. */
export function parseCidr(text: unknown): AnyRange | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  const v4 = parseIpv4Cidr(trimmed);
  if (v4) return { family: 4, start: BigInt(v4.start), end: BigInt(v4.end), cidr: trimmed };
  const match = /^([0-9a-f:.]+)(?:\/(\d{1,3}))?$/i.exec(trimmed);
  if (!match || !match[1]?.includes(':')) return undefined;
  const address = parseIpv6Address(match[1]);
  const bits = match[2] === undefined ? 128 : Number(match[2]);
  if (address === undefined || bits > 128) return undefined;
  const size = 1n << BigInt(128 - bits);
  const start = (address / size) * size;
  return { family: 6, start, end: start + size - 1n, cidr: trimmed };
}

export function anyRangesOverlap(a: AnyRange, b: AnyRange): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

export function anyRangeContains(outer: AnyRange, inner: AnyRange): boolean {
  return outer.family === inner.family && outer.start <= inner.start && inner.end <= outer.end;
}

/**
 * The IpAddress condition: "Specify an IP address or range using IPv4 or IPv6 CIDR notation";
 * an address of one family is never inside a range of the other.
 */
export function ipInCidr(address: string, cidr: string): boolean {
  const a = parseCidr(address);
  const c = parseCidr(cidr);
  return a !== undefined && c !== undefined && anyRangeContains(c, a);
}
