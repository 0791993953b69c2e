/**
 * How the VPC's address space is split (docs/network.md): the lower half holds the shared
 * subnets (public, egress, isolated; CDK allocates them from the start of the block) and, in
 * its last block, which CDK never reaches, the watch subnets (the CloudWatch Logs and GuardDuty
 * data endpoints: the only destinations the quarantine ACL admits). The upper half, the site
 * range, holds every site's own subnets, one block per slot (`subnetSlot`, or derived from the
 * site id) and one subnet per AZ in it.
 */
export interface NetworkLayout {
  readonly vpcCidr: string;
  readonly maxAzs: number;
  /** AZ names when the fleet file pins them; otherwise the region's first `maxAzs` at deploy time. */
  readonly availabilityZones?: readonly string[];
  /** Prefix length CDK uses for each shared subnet. */
  readonly sharedSubnetPrefix: number;
  /** Prefix length of each site's own subnets (the fleet file's `network.strictSubnetPrefix`). */
  readonly strictSubnetPrefix: number;
  /** How many sites' subnet blocks fit in the upper half (the site range). */
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

/** The CIDR blocks of a site's own subnets, one per AZ, for its slot. */
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

/**
 * The watch subnets, one per AZ, in the last shared-size block of the lower half: CDK fills the
 * lower half from its start with 3 tiers x AZs blocks (6 or 9 of 8 or 16), so the last block
 * is always free. Only the CloudWatch Logs and GuardDuty data endpoints live there, so the
 * quarantine ACL can admit exactly them.
 */
export function watchSubnetCidrs(layout: NetworkLayout): string[] {
  const [base, prefixText] = layout.vpcCidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const network = ipv4ToInt(base) - (ipv4ToInt(base) % 2 ** (32 - prefix));
  const blockSize = 2 ** (32 - layout.sharedSubnetPrefix);
  const lastBlock = network + 2 ** (32 - prefix - 1) - blockSize;
  const azBits = Math.ceil(Math.log2(layout.maxAzs));
  const subnetPrefix = layout.sharedSubnetPrefix + azBits;
  return Array.from(
    { length: layout.maxAzs },
    (_, az) => `${intToIpv4(lastBlock + az * 2 ** (32 - subnetPrefix))}/${subnetPrefix}`,
  );
}

/** Addresses a subnet offers to tasks: AWS reserves five in each ("the first four IP addresses and the last IP address in each subnet CIDR block", VPC User Guide, "Subnet CIDR blocks"). */
export function usableSubnetAddresses(prefix: number): number {
  return 2 ** (32 - prefix) - 5;
}

/** The upper half of the VPC block (the site range), where every site's own subnets live. */
export function strictRange(vpcCidr: string): string {
  const [base, prefixText] = vpcCidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const network = ipv4ToInt(base) - (ipv4ToInt(base) % 2 ** (32 - prefix));
  return `${intToIpv4(network + 2 ** (32 - prefix - 1))}/${prefix + 1}`;
}

/** The first and last address of a CIDR block. */
function cidrBounds(cidr: string): [number, number] {
  const [base, prefixText] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(prefixText));
  const start = ipv4ToInt(base) - (ipv4ToInt(base) % size);
  return [start, start + size - 1];
}

/**
 * Whether two blocks share an address. Peered VPCs must not: "The requester VPC and accepter
 * VPC cannot have overlapping CIDR blocks. If you create a VPC peering connection request
 * between VPCs with overlapping CIDR blocks, the VPC peering connection has a status of
 * `failed`" (CloudFormation template reference, AWS::EC2::VPCPeeringConnection).
 */
export function cidrsOverlap(a: string, b: string): boolean {
  const [aStart, aEnd] = cidrBounds(a);
  const [bStart, bEnd] = cidrBounds(b);
  return aStart <= bEnd && bStart <= aEnd;
}

/** The lower half of the VPC block: its shared subnets (public, isolated, egress) and the watch subnets. */
export function sharedRange(vpcCidr: string): string {
  const [base, prefixText] = vpcCidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const network = ipv4ToInt(base) - (ipv4ToInt(base) % 2 ** (32 - prefix));
  return `${intToIpv4(network)}/${prefix + 1}`;
}
