/**
 * How the VPC's address space is split: the lower half holds the shared subnets (public,
 * egress, isolated; CDK allocates them from the start of the block), the upper half holds
 * strict sites' own subnets, one block per `subnetSlot` and one subnet per AZ in it.
 */
export interface NetworkLayout {
  readonly vpcCidr: string;
  readonly maxAzs: number;
  /** AZ names when the fleet file pins them; otherwise the region's first `maxAzs` at deploy time. */
  readonly availabilityZones?: readonly string[];
  /** Prefix length CDK uses for each shared subnet. */
  readonly sharedSubnetPrefix: number;
  readonly strictSubnetPrefix: number;
  /** How many strict sites fit in the upper half. */
  readonly strictSlots: number;
}

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function networkLayout(
  vpcCidr: string,
  maxAzs: number,
  strictSubnetPrefix: number,
  availabilityZones?: readonly string[],
): NetworkLayout {
  const prefix = Number(vpcCidr.split('/')[1]);
  // Three tiers (public, egress, isolated) times the AZs, in the lower half.
  const sharedBits = Math.ceil(Math.log2(3 * maxAzs));
  const strictBlockSize = 2 ** (32 - strictSubnetPrefix) * maxAzs;
  const halfSize = 2 ** (32 - prefix - 1);
  return {
    vpcCidr,
    maxAzs,
    availabilityZones,
    sharedSubnetPrefix: prefix + 1 + sharedBits,
    strictSubnetPrefix,
    strictSlots: Math.floor(halfSize / strictBlockSize),
  };
}

/** The CIDR blocks of a strict site's own subnets, one per AZ, for its slot. */
export function strictSubnetCidrs(layout: NetworkLayout, slot: number): string[] {
  if (!Number.isInteger(slot) || slot < 0 || slot >= layout.strictSlots) {
    throw new RangeError(`subnet slot ${slot} is outside 0..${layout.strictSlots - 1}`);
  }
  const upperHalf = ipv4ToInt(strictRange(layout.vpcCidr).split('/')[0] as string);
  const subnetSize = 2 ** (32 - layout.strictSubnetPrefix);
  return Array.from({ length: layout.maxAzs }, (_, az) => {
    const start = upperHalf + (slot * layout.maxAzs + az) * subnetSize;
    return `${intToIpv4(start)}/${layout.strictSubnetPrefix}`;
  });
}

/** The upper half of the VPC block, where strict sites' own subnets live. */
export function strictRange(vpcCidr: string): string {
  const [base, prefixText] = vpcCidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const network = ipv4ToInt(base) - (ipv4ToInt(base) % 2 ** (32 - prefix));
  return `${intToIpv4(network + 2 ** (32 - prefix - 1))}/${prefix + 1}`;
}
