import {
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import { Component } from '../../../contracts/tag-names';
import type { AclAssociation, SiteNetworkPort } from '../ports';
import {
  closeIngress,
  finishQuarantine,
  type GroupQuarantineOutcome,
  quarantineGroup,
  readSiteGroup,
  type SiteGroupState,
  siteTagFilters,
} from '../quarantine-group';

export interface Ec2SiteNetworkProps {
  /** EC2 with patient retries (throttled calls wait for the bucket to refill). */
  readonly ec2: EC2Client;
  /** EC2 without retries: a throttled revoke answers at once, so containment can rewrite instead of wait. */
  readonly ec2Fast: EC2Client;
  /** The environment whose tags find the site's resources. */
  readonly environment: string;
}

/** The site's network through EC2: security groups and network ACL associations. */
export class Ec2SiteNetwork implements SiteNetworkPort {
  constructor(private readonly props: Ec2SiteNetworkProps) {}

  readSiteGroup(site: string, groupIdHint?: string): Promise<SiteGroupState | undefined> {
    return readSiteGroup(this.props.ec2, this.props.environment, site, groupIdHint);
  }

  async readGroup(groupId: string): Promise<SiteGroupState | undefined> {
    const found = (await this.props.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0];
    if (!found?.GroupId) return undefined;
    return { groupId, ingress: found.IpPermissions ?? [], egress: found.IpPermissionsEgress ?? [] };
  }

  async readSiteAclAssociations(site: string): Promise<readonly AclAssociation[]> {
    const found = await this.props.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: siteTagFilters(this.props.environment, site, Component.networkAcl) }),
    );
    return (found.NetworkAcls ?? []).flatMap((acl) =>
      (acl.Associations ?? [])
        .filter((a) => a.NetworkAclAssociationId && a.SubnetId)
        .map((a) => ({
          subnetId: a.SubnetId as string,
          networkAclId: acl.NetworkAclId as string,
          associationId: a.NetworkAclAssociationId as string,
        })),
    );
  }

  async subnetsOnQuarantineAcl(subnetIds: readonly string[], quarantineAclId: string): Promise<ReadonlySet<string>> {
    const found = await this.props.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [...subnetIds] }] }),
    );
    return new Set(
      (found.NetworkAcls ?? [])
        .filter((acl) => acl.NetworkAclId === quarantineAclId)
        .flatMap((acl) => (acl.Associations ?? []).map((a) => a.SubnetId as string)),
    );
  }

  async swapToQuarantineAcl(associationId: string, quarantineAclId: string): Promise<string | undefined> {
    // EC2 API Reference, ReplaceNetworkAclAssociation: "Changes which network ACL a subnet is
    // associated with"; it answers with the new association's id (NewAssociationId), which
    // release needs to put the subnet back.
    const result = await this.props.ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: associationId,
        NetworkAclId: quarantineAclId,
      }),
    );
    return result.NewAssociationId;
  }

  quarantineGroup(
    group: SiteGroupState,
    options: { readonly fastFirst: boolean; readonly holdIngress: boolean; readonly logsEndpointGroupId: string },
  ): Promise<GroupQuarantineOutcome> {
    const { ec2, ec2Fast } = this.props;
    return quarantineGroup(options.fastFirst ? ec2Fast : ec2, ec2, group, options.logsEndpointGroupId, {
      holdIngress: options.holdIngress,
    });
  }

  closeIngress(group: SiteGroupState): Promise<number> {
    return closeIngress(this.props.ec2Fast, this.props.ec2, group);
  }

  finishQuarantine(group: SiteGroupState, interimRuleIds: readonly string[]): Promise<void> {
    return finishQuarantine(this.props.ec2, group, interimRuleIds);
  }
}
