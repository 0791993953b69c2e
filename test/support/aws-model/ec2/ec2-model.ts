import { type Handler, ServiceModel } from '../service-model';
import { cidrContains, hostAddress } from '../util/cidr';
import type { Tag } from '../util/tags';
import {
  describeNetworkAcls,
  describeNetworkInterfaces,
  describeSubnets,
  describeVpcs,
  modifyNetworkInterfaceAttribute,
  replaceNetworkAclAssociation,
} from './network';
import {
  addRules,
  authorize,
  createSecurityGroup,
  describeSecurityGroupRules,
  describeSecurityGroups,
  modifySecurityGroupRules,
  type RuleSpec,
  revoke,
} from './security-groups';
import { createTags, deleteTags, describeTags } from './tags';
import {
  afterAclChange,
  afterInterfaceDeleted,
  afterSecurityGroupChange,
  type OpenFlowInput,
  openFlow,
} from './connection-tracking';
import type {
  Ec2State,
  FlowRecord,
  NetworkAclEntryRecord,
  NetworkAclRecord,
  NetworkInterfaceRecord,
  SecurityGroupRecord,
  SubnetRecord,
  VpcRecord,
} from './types';

/** Entries of a new VPC's default ACL: allow everything, then the `*` deny. */
export function allowAllEntries(): NetworkAclEntryRecord[] {
  return [
    { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' },
    { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' },
    ...denyAllEntries(),
  ];
}

/** The `*` rules every ACL ends with (rule number 32767, deny). */
export function denyAllEntries(): NetworkAclEntryRecord[] {
  return [
    {
      RuleNumber: 32767,
      Protocol: '-1',
      RuleAction: 'deny',
      Egress: false,
      CidrBlock: '0.0.0.0/0',
    },
    { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: true, CidrBlock: '0.0.0.0/0' },
  ];
}

/**
 * EC2: VPCs, subnets, security groups and their rules (with `sgr-` ids), network ACLs and
 * their subnet associations, network interfaces, managed prefix lists and tags.
 */
export class Ec2Model extends ServiceModel<Ec2State> {
  readonly service = 'EC2' as const;
  /**
   * At most this many items per page of a paginated Describe call (tests set it to make
   * callers follow NextToken); the reference's MaxResults is only an upper bound.
   */
  pageLimit?: number;
  /** Called when a flow ends (benchmarks time "established flows cut" with it). */
  onFlowEnded?: (flow: FlowRecord) => void;

  override resetState(): void {
    super.resetState();
    this.pageLimit = undefined;
    this.onFlowEnded = undefined;
  }

  protected initialState(): Ec2State {
    return {
      vpcs: {},
      subnets: {},
      securityGroups: {},
      rules: {},
      networkAcls: {},
      aclAssociations: {},
      networkInterfaces: {},
      prefixLists: {},
      flows: {},
      rulesPerGroupQuota: 60,
    };
  }

  handlers(): Record<string, Handler> {
    // Connection tracking (connection-tracking.ts): what a change does to established flows.
    const afterGroups =
      <I, O>(handler: (i: I) => O) =>
      (i: I): O => {
        const out = handler(i);
        afterSecurityGroupChange(this);
        return out;
      };
    return {
      DescribeSecurityGroups: (i: Parameters<typeof describeSecurityGroups>[1]) => describeSecurityGroups(this, i),
      DescribeSecurityGroupRules: (i: Parameters<typeof describeSecurityGroupRules>[1]) =>
        describeSecurityGroupRules(this, i),
      AuthorizeSecurityGroupIngress: afterGroups((i: Parameters<typeof authorize>[1]) => authorize(this, i, false)),
      AuthorizeSecurityGroupEgress: afterGroups((i: Parameters<typeof authorize>[1]) => authorize(this, i, true)),
      RevokeSecurityGroupIngress: afterGroups((i: Parameters<typeof revoke>[1]) => revoke(this, i, false)),
      RevokeSecurityGroupEgress: afterGroups((i: Parameters<typeof revoke>[1]) => revoke(this, i, true)),
      ModifySecurityGroupRules: afterGroups((i: Parameters<typeof modifySecurityGroupRules>[1]) =>
        modifySecurityGroupRules(this, i),
      ),
      CreateSecurityGroup: (i: Parameters<typeof createSecurityGroup>[1]) => createSecurityGroup(this, i),
      DescribeNetworkAcls: (i: Parameters<typeof describeNetworkAcls>[1]) => describeNetworkAcls(this, i),
      ReplaceNetworkAclAssociation: (i: Parameters<typeof replaceNetworkAclAssociation>[1]) => {
        const subnetId = this.state.aclAssociations[i.AssociationId ?? '']?.SubnetId;
        const out = replaceNetworkAclAssociation(this, i);
        if (subnetId) afterAclChange(this, [subnetId]);
        return out;
      },
      DescribeNetworkInterfaces: (i: Parameters<typeof describeNetworkInterfaces>[1]) =>
        describeNetworkInterfaces(this, i),
      ModifyNetworkInterfaceAttribute: afterGroups((i: Parameters<typeof modifyNetworkInterfaceAttribute>[1]) =>
        modifyNetworkInterfaceAttribute(this, i),
      ),
      DescribeSubnets: (i: Parameters<typeof describeSubnets>[1]) => describeSubnets(this, i),
      DescribeVpcs: (i: Parameters<typeof describeVpcs>[1]) => describeVpcs(this, i),
      CreateTags: (i: Parameters<typeof createTags>[1]) => createTags(this, i),
      DeleteTags: (i: Parameters<typeof deleteTags>[1]) => deleteTags(this, i),
      DescribeTags: (i: Parameters<typeof describeTags>[1]) => describeTags(this, i),
    };
  }

  /** Creates a VPC with its default network ACL and default security group. */
  createVpc(options: { cidr: string; isDefault?: boolean; tags?: Tag[] }): VpcRecord {
    const vpc: VpcRecord = {
      VpcId: this.model.ids.ec2('vpc'),
      CidrBlock: options.cidr,
      IsDefault: options.isDefault ?? false,
      Tags: options.tags ?? [],
    };
    this.state.vpcs[vpc.VpcId] = vpc;
    this.createNetworkAcl({ vpcId: vpc.VpcId, isDefault: true, entries: allowAllEntries() });
    const sg = this.createSecurityGroupRecord({
      GroupName: 'default',
      Description: 'default VPC security group',
      VpcId: vpc.VpcId,
      Tags: [],
    });
    addRules(this, sg.GroupId, false, [{ IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupId: sg.GroupId }]);
    return vpc;
  }

  /** Creates a subnet associated with its VPC's default ACL. */
  createSubnet(options: {
    vpcId: string;
    cidr: string;
    availabilityZone: string;
    public?: boolean;
    tags?: Tag[];
  }): SubnetRecord {
    const vpc = this.state.vpcs[options.vpcId];
    if (!vpc) throw new Error(`aws-model: no VPC ${options.vpcId}`);
    const subnet: SubnetRecord = {
      SubnetId: this.model.ids.ec2('subnet'),
      VpcId: options.vpcId,
      CidrBlock: options.cidr,
      AvailabilityZone: options.availabilityZone,
      AvailabilityZoneId: `${this.region.slice(0, 3)}${this.region.slice(-1)}-az${options.availabilityZone.charCodeAt(options.availabilityZone.length - 1) - 96}`,
      MapPublicIpOnLaunch: options.public ?? false,
      Tags: options.tags ?? [],
      nextHost: 0,
    };
    this.state.subnets[subnet.SubnetId] = subnet;
    const defaultAcl = Object.values(this.state.networkAcls).find((a) => a.VpcId === vpc.VpcId && a.IsDefault);
    if (defaultAcl) this.associateAcl(subnet.SubnetId, defaultAcl.NetworkAclId);
    return subnet;
  }

  /** Stores a group; `defaultEgress` adds EC2's allow-all egress rule (CreateSecurityGroup does). */
  createSecurityGroupRecord(options: {
    GroupName: string;
    Description: string;
    VpcId: string;
    Tags: Tag[];
    defaultEgress?: boolean;
  }): SecurityGroupRecord {
    const group: SecurityGroupRecord = {
      GroupId: this.model.ids.ec2('sg'),
      GroupName: options.GroupName,
      Description: options.Description,
      VpcId: options.VpcId,
      OwnerId: this.accountId,
      Tags: options.Tags,
    };
    this.state.securityGroups[group.GroupId] = group;
    if (options.defaultEgress ?? true) {
      addRules(this, group.GroupId, true, [{ IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' }]);
    }
    return group;
  }

  /** Seeding shortcut: a group with exactly these rules (no default egress). */
  createSecurityGroupWithRules(options: {
    name: string;
    description?: string;
    vpcId: string;
    tags?: Tag[];
    ingress?: RuleSpec[];
    egress?: RuleSpec[];
  }): SecurityGroupRecord {
    const group = this.createSecurityGroupRecord({
      GroupName: options.name,
      Description: options.description ?? options.name,
      VpcId: options.vpcId,
      Tags: options.tags ?? [],
      defaultEgress: false,
    });
    addRules(this, group.GroupId, false, options.ingress ?? []);
    addRules(this, group.GroupId, true, options.egress ?? []);
    return group;
  }

  /** A managed prefix list (such as `com.amazonaws.<region>.s3`). */
  createPrefixList(options: { name: string; cidrs: string[] }): string {
    const id = `pl-${this.model.ids.hex(8)}`;
    this.state.prefixLists[id] = {
      PrefixListId: id,
      PrefixListName: options.name,
      Cidrs: options.cidrs,
    };
    return id;
  }

  /** A network ACL; `entries` should end with {@link denyAllEntries}. */
  createNetworkAcl(options: {
    vpcId: string;
    entries?: NetworkAclEntryRecord[];
    tags?: Tag[];
    isDefault?: boolean;
  }): NetworkAclRecord {
    const acl: NetworkAclRecord = {
      NetworkAclId: this.model.ids.ec2('acl'),
      VpcId: options.vpcId,
      IsDefault: options.isDefault ?? false,
      Entries: options.entries ?? denyAllEntries(),
      Tags: options.tags ?? [],
    };
    this.state.networkAcls[acl.NetworkAclId] = acl;
    return acl;
  }

  /** Associates a subnet with an ACL, replacing its current association; returns the new id. */
  associateAcl(subnetId: string, networkAclId: string): string {
    for (const [id, assoc] of Object.entries(this.state.aclAssociations)) {
      if (assoc.SubnetId === subnetId) delete this.state.aclAssociations[id];
    }
    const id = this.model.ids.ec2('aclassoc');
    this.state.aclAssociations[id] = {
      NetworkAclAssociationId: id,
      NetworkAclId: networkAclId,
      SubnetId: subnetId,
    };
    afterAclChange(this, [subnetId]);
    return id;
  }

  /** The ACL a subnet is associated with. */
  aclOf(subnetId: string): NetworkAclRecord | undefined {
    const assoc = Object.values(this.state.aclAssociations).find((a) => a.SubnetId === subnetId);
    return assoc ? this.state.networkAcls[assoc.NetworkAclId] : undefined;
  }

  /** Creates an in-use interface with the next free address of the subnet. */
  createNetworkInterface(options: {
    subnetId: string;
    groups: string[];
    description: string;
    requesterId?: string;
    requesterManaged?: boolean;
    interfaceType?: string;
    attachmentId?: string;
    tags?: Tag[];
  }): NetworkInterfaceRecord {
    const subnet = this.state.subnets[options.subnetId];
    if (!subnet) throw new Error(`aws-model: no subnet ${options.subnetId}`);
    const ip = hostAddress(subnet.CidrBlock, subnet.nextHost++);
    const eni: NetworkInterfaceRecord = {
      NetworkInterfaceId: this.model.ids.ec2('eni'),
      SubnetId: subnet.SubnetId,
      VpcId: subnet.VpcId,
      AvailabilityZone: subnet.AvailabilityZone,
      Description: options.description,
      Groups: [...options.groups],
      PrivateIpAddress: ip,
      MacAddress: `0a:${this.model.ids.hex(10).match(/../g)?.join(':')}`,
      InterfaceType: options.interfaceType ?? 'interface',
      RequesterId: options.requesterId,
      RequesterManaged: options.requesterManaged ?? false,
      Status: 'in-use',
      Tags: options.tags ?? [],
      AttachmentId: options.attachmentId,
    };
    this.state.networkInterfaces[eni.NetworkInterfaceId] = eni;
    return eni;
  }

  deleteNetworkInterface(id: string): void {
    const eni = this.state.networkInterfaces[id];
    delete this.state.networkInterfaces[id];
    if (eni) afterInterfaceDeleted(this, id, eni.PrivateIpAddress);
  }

  /**
   * Opens a TCP connection from a task's interface (connection-tracking.ts): established if
   * groups and ACLs admit it now, else recorded as refused.
   */
  openFlow(input: OpenFlowInput): FlowRecord {
    return openFlow(this, input);
  }

  /** Flows opened from (or to) an interface, in the order they were opened. */
  flowsOf(eniId: string): FlowRecord[] {
    const eni = this.state.networkInterfaces[eniId];
    return Object.values(this.state.flows).filter(
      (f) => f.sourceEniId === eniId || (eni !== undefined && f.destinationIp === eni.PrivateIpAddress),
    );
  }

  /** The interface holding a private IPv4 address in a VPC. */
  interfaceByIp(ip: string, vpcId?: string): NetworkInterfaceRecord | undefined {
    return Object.values(this.state.networkInterfaces).find(
      (e) => e.PrivateIpAddress === ip && (vpcId === undefined || e.VpcId === vpcId),
    );
  }

  /** The subnet of a VPC whose block holds the address. */
  subnetForIp(ip: string, vpcId: string): SubnetRecord | undefined {
    return Object.values(this.state.subnets).find((s) => s.VpcId === vpcId && cidrContains(s.CidrBlock, ip));
  }
}
