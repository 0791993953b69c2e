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
