import type { Tag } from '../util/tags';

/** A VPC. Only what rule and ACL evaluation needs. */
export interface VpcRecord {
  VpcId: string;
  CidrBlock: string;
  IsDefault: boolean;
  Tags: Tag[];
}

export interface SubnetRecord {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  AvailabilityZoneId: string;
  MapPublicIpOnLaunch: boolean;
  Tags: Tag[];
  /** Next host index handed out by IP allocation. */
  nextHost: number;
}

export interface SecurityGroupRecord {
  GroupId: string;
  GroupName: string;
  Description: string;
  VpcId: string;
  OwnerId: string;
  Tags: Tag[];
}

/** One security group rule, the unit `sgr-` ids name. */
export interface SgRuleRecord {
  SecurityGroupRuleId: string;
  GroupId: string;
  IsEgress: boolean;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` or a protocol number. */
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupId?: string;
  ReferencedUserId?: string;
  Description?: string;
  Tags: Tag[];
}

export interface NetworkAclEntryRecord {
  RuleNumber: number;
  /** `-1` (all) or a protocol number as a string (`6` tcp, `17` udp). */
  Protocol: string;
  RuleAction: 'allow' | 'deny';
  Egress: boolean;
  CidrBlock: string;
  PortRange?: { From: number; To: number };
}

export interface NetworkAclRecord {
  NetworkAclId: string;
  VpcId: string;
  IsDefault: boolean;
  Entries: NetworkAclEntryRecord[];
  Tags: Tag[];
}

export interface AclAssociationRecord {
  NetworkAclAssociationId: string;
  NetworkAclId: string;
  SubnetId: string;
}

export interface NetworkInterfaceRecord {
  NetworkInterfaceId: string;
  SubnetId: string;
  VpcId: string;
  AvailabilityZone: string;
  Description: string;
  Groups: string[];
  PrivateIpAddress: string;
  MacAddress: string;
  InterfaceType: string;
  RequesterId?: string;
  RequesterManaged: boolean;
  Status: 'available' | 'in-use';
  Tags: Tag[];
  AttachmentId?: string;
}

export interface PrefixListRecord {
  PrefixListId: string;
  PrefixListName: string;
  Cidrs: string[];
}

/**
 * One TCP connection a task opened (a flow record of the model's connection tracking,
 * `connection-tracking.ts`). Opened by tests; ended by what AWS documents ends it.
 */
export interface FlowRecord {
  FlowId: string;
  /** The interface that opened it (a task's). */
  sourceEniId: string;
  sourceIp: string;
  sourceSubnetId: string;
  destinationIp: string;
  /** The destination's subnet when it is in the VPC (an endpoint, the database), else undefined. */
  destinationSubnetId?: string;
  port: number;
  /** What carries it: straight to a VPC address, a NAT gateway, or an interface VPC endpoint. */
  via: 'direct' | 'nat-gateway' | 'interface-endpoint';
  /** Whether the security group tracks it (decides whether a rule change ends it). */
  tracked: boolean;
  /** `refused`: never established (what a flow log records as REJECT). */
  state: 'established' | 'ended' | 'refused';
  /** Why it ended or was refused (the layer and the rule or association that cut it). */
  endedBy?: string;
  /** A test's own name for it ("reverse shell", "logs"). */
  label?: string;
}

/** Everything EC2 holds. Plain data so it can be cloned and rolled back. */
export interface Ec2State {
  vpcs: Record<string, VpcRecord>;
  subnets: Record<string, SubnetRecord>;
  securityGroups: Record<string, SecurityGroupRecord>;
  rules: Record<string, SgRuleRecord>;
  networkAcls: Record<string, NetworkAclRecord>;
  aclAssociations: Record<string, AclAssociationRecord>;
  networkInterfaces: Record<string, NetworkInterfaceRecord>;
  prefixLists: Record<string, PrefixListRecord>;
  /** Connections tasks opened (connection tracking, `connection-tracking.ts`). */
  flows: Record<string, FlowRecord>;
  /** Default quota "Inbound or outbound rules per security group" (60 each). */
  rulesPerGroupQuota: number;
}
