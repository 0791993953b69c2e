/** IPv4 helpers for rule and ACL evaluation. IPv6 is stored but never evaluated. */

export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return Number.NaN;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return Number.NaN;
    const n = Number(part);
    if (n > 255) return Number.NaN;
    value = value * 256 + n;
  }
  return value;
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Whether `cidr` is a well-formed IPv4 CIDR block (`a.b.c.d/n`). */
export function isIpv4Cidr(cidr: string): boolean {
  const [ip, prefix, extra] = cidr.split('/');
  if (extra !== undefined || ip === undefined || prefix === undefined) return false;
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return false;
  return !Number.isNaN(ipv4ToInt(ip));
}

/** Whether `cidr` looks like an IPv6 CIDR block. */
export function isIpv6Cidr(cidr: string): boolean {
  const [ip, prefix, extra] = cidr.split('/');
  if (extra !== undefined || ip === undefined || prefix === undefined) return false;
  return ip.includes(':') && /^\d{1,3}$/.test(prefix) && Number(prefix) <= 128;
}

/** Whether the IPv4 address falls inside the IPv4 CIDR block. */
export function cidrContains(cidr: string, ip: string): boolean {
  if (!isIpv4Cidr(cidr)) return false;
  const [base, prefixText] = cidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  const start = ipv4ToInt(base) - (ipv4ToInt(base) % size);
  const addr = ipv4ToInt(ip);
  return addr >= start && addr < start + size;
}

/** The `index`th host address of a block, skipping the 4 addresses AWS reserves at the start. */
export function hostAddress(cidr: string, index: number): string {
  const [base, prefixText] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(prefixText));
  const start = ipv4ToInt(base) - (ipv4ToInt(base) % size);
  if (index + 4 >= size - 1) throw new RangeError(`no free address left in ${cidr}`);
  return intToIpv4(start + 4 + index);
}

/** Number of usable addresses AWS leaves in a subnet (5 are reserved). */
export function usableAddresses(cidr: string): number {
  const prefix = Number(cidr.split('/')[1]);
  return 2 ** (32 - prefix) - 5;
}
