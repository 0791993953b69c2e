import type {
  DescribeNetworkAclsCommandInput,
  DescribeNetworkAclsCommandOutput,
  DescribeNetworkInterfacesCommandInput,
  DescribeNetworkInterfacesCommandOutput,
  DescribeSubnetsCommandInput,
  DescribeSubnetsCommandOutput,
  DescribeVpcsCommandInput,
  DescribeVpcsCommandOutput,
  ModifyNetworkInterfaceAttributeCommandInput,
  ModifyNetworkInterfaceAttributeCommandOutput,
  NetworkAcl,
  ReplaceNetworkAclAssociationCommandInput,
  ReplaceNetworkAclAssociationCommandOutput,
} from '@aws-sdk/client-ec2';
import type { Out } from '../service-model';
import { usableAddresses } from '../util/cidr';
import { paginate } from '../util/pagination';
import type { Ec2Model } from './ec2-model';
import { matchesFilters, tagFilter } from './filters';
import type { NetworkAclEntryRecord } from './types';

function invalidFilter(ec2: Ec2Model, name: string): never {
  return ec2.fail('InvalidParameterValue', `The filter '${name}' is invalid`);
}

function page<T>(ec2: Ec2Model, items: T[], maxResults?: number, token?: string) {
  const result = paginate(items, maxResults, token, 1000);
  if (!result) return ec2.fail('InvalidParameterValue', 'The token is invalid');
  return result;
}

const PROTOCOL_NUMBERS: Record<string, string> = { tcp: '6', udp: '17', icmp: '1', all: '-1' };

/** Normalizes an ACL entry protocol to EC2's stored form (a number string, or -1). */
export function aclProtocol(protocol: string): string {
  return PROTOCOL_NUMBERS[protocol.toLowerCase()] ?? protocol;
}

function toEntry(entry: NetworkAclEntryRecord) {
  return {
    RuleNumber: entry.RuleNumber,
    Protocol: entry.Protocol,
    RuleAction: entry.RuleAction,
    Egress: entry.Egress,
    CidrBlock: entry.CidrBlock,
    PortRange: entry.PortRange ? { ...entry.PortRange } : undefined,
  };
}

/** DescribeNetworkAcls with ids and filters (incl. `association.subnet-id`). */
export function describeNetworkAcls(
  ec2: Ec2Model,
  input: DescribeNetworkAclsCommandInput,
): Out<DescribeNetworkAclsCommandOutput> {
  for (const id of input.NetworkAclIds ?? []) {
    if (!ec2.state.networkAcls[id]) {
      ec2.fail('InvalidNetworkAclID.NotFound', `The network ACL ID '${id}' does not exist`);
    }
  }
  const acls: NetworkAcl[] = [];
  for (const acl of Object.values(ec2.state.networkAcls)) {
    if (input.NetworkAclIds?.length && !input.NetworkAclIds.includes(acl.NetworkAclId)) continue;
    const associations = Object.values(ec2.state.aclAssociations).filter((a) => a.NetworkAclId === acl.NetworkAclId);
    const match = matchesFilters(input.Filters, (name) => {
      const tags = tagFilter(name, acl.Tags);
      if (tags) return tags;
      switch (name) {
        case 'network-acl-id':
          return [acl.NetworkAclId];
        case 'vpc-id':
          return [acl.VpcId];
        case 'default':
          return [String(acl.IsDefault)];
        case 'owner-id':
          return [ec2.accountId];
        case 'association.subnet-id':
          return associations.map((a) => a.SubnetId);
        case 'association.association-id':
          return associations.map((a) => a.NetworkAclAssociationId);
        case 'association.network-acl-id':
          return associations.map((a) => a.NetworkAclId);
        case 'entry.rule-action':
          return acl.Entries.map((e) => e.RuleAction);
        case 'entry.cidr':
          return acl.Entries.map((e) => e.CidrBlock);
        case 'entry.egress':
          return acl.Entries.map((e) => String(e.Egress));
        case 'entry.rule-number':
          return acl.Entries.map((e) => String(e.RuleNumber));
        case 'entry.protocol':
          return acl.Entries.map((e) => e.Protocol);
        default:
          return undefined;
      }
    });
    if (typeof match === 'object') invalidFilter(ec2, match.unsupported);
    if (!match) continue;
    acls.push({
      NetworkAclId: acl.NetworkAclId,
      VpcId: acl.VpcId,
      IsDefault: acl.IsDefault,
      OwnerId: ec2.accountId,
      Entries: [...acl.Entries].sort((a, b) => a.RuleNumber - b.RuleNumber).map(toEntry),
      Associations: associations.map((a) => ({ ...a })),
      Tags: acl.Tags.map((t) => ({ ...t })),
    });
  }
  const result = page(ec2, acls, input.MaxResults, input.NextToken);
  return { NetworkAcls: result.items, NextToken: result.nextToken };
}

/**
 * ReplaceNetworkAclAssociation: moves the subnet to another ACL in the same VPC. The old
 * association id stops existing; the answer carries the new one.
 */
export function replaceNetworkAclAssociation(
  ec2: Ec2Model,
  input: ReplaceNetworkAclAssociationCommandInput,
): Out<ReplaceNetworkAclAssociationCommandOutput> {
  const association = ec2.state.aclAssociations[input.AssociationId ?? ''];
  if (!association) {
    ec2.fail('InvalidAssociationID.NotFound', `The association ID '${input.AssociationId}' does not exist`);
  }
  const acl = ec2.state.networkAcls[input.NetworkAclId ?? ''];
  if (!acl) ec2.fail('InvalidNetworkAclID.NotFound', `The network ACL ID '${input.NetworkAclId}' does not exist`);
  const subnet = ec2.state.subnets[association.SubnetId];
  if (subnet && subnet.VpcId !== acl.VpcId) {
    ec2.fail(
      'InvalidParameterValue',
      `Network ACL ${acl.NetworkAclId} and subnet ${subnet.SubnetId} belong to different VPCs`,
    );
  }
  delete ec2.state.aclAssociations[association.NetworkAclAssociationId];
  const id = ec2.model.ids.ec2('aclassoc');
  ec2.state.aclAssociations[id] = {
    NetworkAclAssociationId: id,
    NetworkAclId: acl.NetworkAclId,
    SubnetId: association.SubnetId,
  };
  return { NewAssociationId: id };
}

/** DescribeSubnets with ids and filters. */
export function describeSubnets(ec2: Ec2Model, input: DescribeSubnetsCommandInput): Out<DescribeSubnetsCommandOutput> {
  for (const id of input.SubnetIds ?? []) {
    if (!ec2.state.subnets[id]) ec2.fail('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
  }
  const subnets = Object.values(ec2.state.subnets)
    .filter((s) => !input.SubnetIds?.length || input.SubnetIds.includes(s.SubnetId))
    .filter((s) => {
      const match = matchesFilters(input.Filters, (name) => {
        const tags = tagFilter(name, s.Tags);
        if (tags) return tags;
        switch (name) {
          case 'subnet-id':
            return [s.SubnetId];
          case 'vpc-id':
            return [s.VpcId];
          case 'cidr-block':
          case 'cidr':
          case 'cidrBlock':
            return [s.CidrBlock];
          case 'availability-zone':
          case 'availabilityZone':
            return [s.AvailabilityZone];
          case 'owner-id':
            return [ec2.accountId];
          case 'state':
            return ['available'];
          default:
            return undefined;
        }
      });
      if (typeof match === 'object') invalidFilter(ec2, match.unsupported);
      return match;
    })
    .map((s) => {
      const used = Object.values(ec2.state.networkInterfaces).filter((e) => e.SubnetId === s.SubnetId).length;
      return {
        SubnetId: s.SubnetId,
        VpcId: s.VpcId,
        CidrBlock: s.CidrBlock,
        AvailabilityZone: s.AvailabilityZone,
        AvailabilityZoneId: s.AvailabilityZoneId,
        AvailableIpAddressCount: usableAddresses(s.CidrBlock) - used,
        DefaultForAz: false,
        MapPublicIpOnLaunch: s.MapPublicIpOnLaunch,
        State: 'available' as const,
        OwnerId: ec2.accountId,
        SubnetArn: ec2.arn('ec2', `subnet/${s.SubnetId}`),
        Tags: s.Tags.length ? s.Tags.map((t) => ({ ...t })) : undefined,
      };
    });
  const result = page(ec2, subnets, input.MaxResults, input.NextToken);
  return { Subnets: result.items, NextToken: result.nextToken };
}

/** DescribeVpcs with ids and filters. */
export function describeVpcs(ec2: Ec2Model, input: DescribeVpcsCommandInput): Out<DescribeVpcsCommandOutput> {
  for (const id of input.VpcIds ?? []) {
    if (!ec2.state.vpcs[id]) ec2.fail('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
  }
  const vpcs = Object.values(ec2.state.vpcs)
    .filter((v) => !input.VpcIds?.length || input.VpcIds.includes(v.VpcId))
    .filter((v) => {
      const match = matchesFilters(input.Filters, (name) => {
        const tags = tagFilter(name, v.Tags);
        if (tags) return tags;
        if (name === 'vpc-id') return [v.VpcId];
        if (name === 'cidr' || name === 'cidr-block-association.cidr-block') return [v.CidrBlock];
        if (name === 'is-default' || name === 'isDefault') return [String(v.IsDefault)];
        return undefined;
      });
      if (typeof match === 'object') invalidFilter(ec2, match.unsupported);
      return match;
    })
    .map((v) => ({
      VpcId: v.VpcId,
      CidrBlock: v.CidrBlock,
      IsDefault: v.IsDefault,
      State: 'available' as const,
      OwnerId: ec2.accountId,
      Tags: v.Tags.length ? v.Tags.map((t) => ({ ...t })) : undefined,
    }));
  const result = page(ec2, vpcs, input.MaxResults, input.NextToken);
  return { Vpcs: result.items, NextToken: result.nextToken };
}

/** DescribeNetworkInterfaces with ids and filters. */
export function describeNetworkInterfaces(
  ec2: Ec2Model,
  input: DescribeNetworkInterfacesCommandInput,
): Out<DescribeNetworkInterfacesCommandOutput> {
  // MaxResults: "You cannot specify this parameter and the network interface IDs parameter
  // in the same request." The code EC2 answers with is not in the reference; the model uses
  // EC2's general one for conflicting parameters.
  if (input.MaxResults !== undefined && input.NetworkInterfaceIds?.length) {
    ec2.fail(
      'InvalidParameterCombination',
      'The parameter NetworkInterfaceIds cannot be used with the parameter maxResults',
    );
  }
  if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
    ec2.fail(
      'InvalidParameterValue',
      `Value (${input.MaxResults}) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  }
  for (const id of input.NetworkInterfaceIds ?? []) {
    if (!ec2.state.networkInterfaces[id]) {
      ec2.fail('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    }
  }
  const enis = Object.values(ec2.state.networkInterfaces)
    .filter((e) => !input.NetworkInterfaceIds?.length || input.NetworkInterfaceIds.includes(e.NetworkInterfaceId))
    .filter((e) => {
      const match = matchesFilters(input.Filters, (name) => {
        const tags = tagFilter(name, e.Tags);
        if (tags) return tags;
        switch (name) {
          case 'network-interface-id':
            return [e.NetworkInterfaceId];
          case 'subnet-id':
            return [e.SubnetId];
          case 'vpc-id':
            return [e.VpcId];
          case 'group-id':
            return e.Groups;
          case 'group-name':
            return e.Groups.map((g) => ec2.state.securityGroups[g]?.GroupName);
          case 'private-ip-address':
          case 'addresses.private-ip-address':
            return [e.PrivateIpAddress];
          case 'description':
            return [e.Description];
          case 'status':
            return [e.Status];
          case 'requester-managed':
            return [String(e.RequesterManaged)];
          case 'requester-id':
            return [e.RequesterId];
          case 'interface-type':
            return [e.InterfaceType];
          case 'availability-zone':
            return [e.AvailabilityZone];
          case 'mac-address':
            return [e.MacAddress];
          case 'owner-id':
            return [ec2.accountId];
          default:
            return undefined;
        }
      });
      if (typeof match === 'object') invalidFilter(ec2, match.unsupported);
      return match;
    })
    .map((e) => ({
      NetworkInterfaceId: e.NetworkInterfaceId,
      SubnetId: e.SubnetId,
      VpcId: e.VpcId,
      AvailabilityZone: e.AvailabilityZone,
      Description: e.Description,
      Groups: e.Groups.map((g) => ({
        GroupId: g,
        GroupName: ec2.state.securityGroups[g]?.GroupName,
      })),
      InterfaceType: e.InterfaceType as 'interface',
      MacAddress: e.MacAddress,
      OwnerId: ec2.accountId,
      PrivateIpAddress: e.PrivateIpAddress,
      PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: e.PrivateIpAddress }],
      RequesterId: e.RequesterId,
      RequesterManaged: e.RequesterManaged,
      SourceDestCheck: true,
      Status: e.Status,
      Attachment: e.AttachmentId
        ? { AttachmentId: e.AttachmentId, Status: 'attached' as const, DeviceIndex: 1 }
        : undefined,
      TagSet: e.Tags.map((t) => ({ ...t })),
    }));
  // Paginated only when asked (MaxResults or NextToken); ec2.pageLimit can make pages smaller
  // than MaxResults ("The maximum number of items to return for this request").
  const paged = input.MaxResults !== undefined || input.NextToken !== undefined;
  const size = paged ? Math.min(input.MaxResults ?? 1000, ec2.pageLimit ?? 1000) : enis.length || 1;
  const result = page(ec2, enis, size, input.NextToken);
  return { NetworkInterfaces: result.items, NextToken: result.nextToken };
}

/**
 * ModifyNetworkInterfaceAttribute (security groups and description). Interfaces that a
 * service manages for you (ECS task and load balancer interfaces, `RequesterManaged`)
 * cannot be modified: ECS documents that its managed interfaces can't be changed, and
 * EC2 refuses the call. The code is `AuthFailure` as public reports show it (not a
 * documented contract).
 */
export function modifyNetworkInterfaceAttribute(
  ec2: Ec2Model,
  input: ModifyNetworkInterfaceAttributeCommandInput,
): Out<ModifyNetworkInterfaceAttributeCommandOutput> {
  const eni = ec2.state.networkInterfaces[input.NetworkInterfaceId ?? ''];
  if (!eni) {
    return ec2.fail(
      'InvalidNetworkInterfaceID.NotFound',
      `The networkInterface ID '${input.NetworkInterfaceId}' does not exist`,
    );
  }
  if (eni.RequesterManaged) {
    ec2.fail('AuthFailure', 'You do not have permission to access the specified resource.', { status: 403 });
  }
  if (input.Groups) {
    if (input.Groups.length === 0) ec2.fail('InvalidParameterValue', 'The security group list must not be empty');
    for (const id of input.Groups) {
      const group = ec2.state.securityGroups[id];
      if (!group) ec2.fail('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      if (group.VpcId !== eni.VpcId) {
        ec2.fail(
          'InvalidParameterValue',
          `Security group ${id} and interface ${eni.NetworkInterfaceId} belong to different networks.`,
        );
      }
    }
    eni.Groups = [...input.Groups];
  }
  if (input.Description?.Value !== undefined) eni.Description = input.Description.Value;
  return {};
}
