import {
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, installAwsModel } from '../support/aws-model';
import { allowAllEntries, denyAllEntries } from '../support/aws-model/ec2/ec2-model';

const ec2 = new EC2Client({ region: 'eu-west-1' });
const tcp = (port: number, peer: Record<string, string>) => ({
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  ...peer,
});

/**
 * A VPC with a task subnet (its own ACL), an endpoint subnet holding an interface endpoint and
 * a database interface, and a task whose group allows HTTPS out, MySQL to the database group and
 * HTTPS to the endpoint group.
 */
function world(aws: AwsModel) {
  const vpc = aws.ec2.createVpc({ cidr: '10.0.0.0/16' });
  const taskSubnet = aws.ec2.createSubnet({ vpcId: vpc.VpcId, cidr: '10.0.128.0/26', availabilityZone: 'eu-west-1a' });
  const endpointSubnet = aws.ec2.createSubnet({
    vpcId: vpc.VpcId,
    cidr: '10.0.0.0/24',
    availabilityZone: 'eu-west-1a',
  });
  const siteAcl = aws.ec2.createNetworkAcl({ vpcId: vpc.VpcId, entries: allowAllEntries() });
  const association = aws.ec2.associateAcl(taskSubnet.SubnetId, siteAcl.NetworkAclId);
  const quarantineAcl = aws.ec2.createNetworkAcl({
    vpcId: vpc.VpcId,
    entries: [
      {
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: true,
        CidrBlock: endpointSubnet.CidrBlock,
        PortRange: { From: 443, To: 443 },
      },
      {
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: false,
        CidrBlock: endpointSubnet.CidrBlock,
        PortRange: { From: 1024, To: 65535 },
      },
      ...denyAllEntries(),
    ],
  });
  const endpointGroup = aws.ec2.createSecurityGroupWithRules({
    name: 'logs',
    vpcId: vpc.VpcId,
    ingress: [tcp(443, { CidrIpv4: '10.0.0.0/16' })],
  });
  const dbGroup = aws.ec2.createSecurityGroupWithRules({
    name: 'db',
    vpcId: vpc.VpcId,
    ingress: [tcp(3306, { CidrIpv4: '10.0.0.0/16' })],
  });
  const siteGroup = aws.ec2.createSecurityGroupWithRules({
    name: 'site',
    vpcId: vpc.VpcId,
    egress: [
      tcp(443, { CidrIpv4: '0.0.0.0/0' }),
      tcp(3306, { ReferencedGroupId: dbGroup.GroupId }),
      tcp(443, { ReferencedGroupId: endpointGroup.GroupId }),
    ],
  });
  const logsEndpoint = aws.ec2.createNetworkInterface({
    subnetId: endpointSubnet.SubnetId,
    groups: [endpointGroup.GroupId],
    description: 'VPC Endpoint Interface vpce-logs',
    interfaceType: 'vpc_endpoint',
    requesterManaged: true,
  });
  const database = aws.ec2.createNetworkInterface({
    subnetId: endpointSubnet.SubnetId,
    groups: [dbGroup.GroupId],
    description: 'RDSNetworkInterface',
  });
  const task = aws.ec2.createNetworkInterface({
    subnetId: taskSubnet.SubnetId,
    groups: [siteGroup.GroupId],
    description: 'task',
  });
  return { vpc, taskSubnet, siteAcl, association, quarantineAcl, siteGroup, dbGroup, logsEndpoint, database, task };
}

describe('EC2 connection tracking (model)', () => {
  let aws: AwsModel;
  let w: ReturnType<typeof world>;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    w = world(aws);
  });
  afterEach(() => aws.restore());

  it('opens flows the groups and ACLs admit, says which ones go through NAT or an endpoint, and records a refused one', () => {
    // Act
    const internet = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: '198.51.100.7',
      port: 443,
    });
    const logs = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: w.logsEndpoint.PrivateIpAddress,
      port: 443,
    });
    const ssh = aws.ec2.openFlow({ sourceEniId: w.task.NetworkInterfaceId, destinationIp: '198.51.100.7', port: 22 });

    // Assess
    expect(internet).toMatchObject({ state: 'established', via: 'nat-gateway', tracked: true });
    expect(logs).toMatchObject({ state: 'established', via: 'interface-endpoint', tracked: true });
    expect(ssh.state).toBe('refused');
    expect(ssh.endedBy).toMatch(/security group: egress .*198\.51\.100\.7:22/);
  });

  it('keeps tracked flows established when the rules that admitted them are revoked; new ones are refused', async () => {
    // Prepare
    const internet = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: '198.51.100.7',
      port: 443,
    });
    const db = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: w.database.PrivateIpAddress,
      port: 3306,
    });

    // Act
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: w.siteGroup.GroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: w.dbGroup.GroupId }] },
        ],
      }),
    );
    const again = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: '198.51.100.7',
      port: 443,
    });

    // Assess
    expect(aws.ec2.state.flows[internet.FlowId]?.state).toBe('established');
    expect(aws.ec2.state.flows[db.FlowId]?.state).toBe('established');
    expect(again.state).toBe('refused');
  });

  it('ends every flow a swap to the quarantine ACL denies, either way, and keeps the one it admits', async () => {
    // Prepare
    const internet = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: '198.51.100.7',
      port: 443,
    });
    const db = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: w.database.PrivateIpAddress,
      port: 3306,
    });
    const logs = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: w.logsEndpoint.PrivateIpAddress,
      port: 443,
    });

    // Act
    const out = await ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: w.association,
        NetworkAclId: w.quarantineAcl.NetworkAclId,
      }),
    );

    // Assess
    expect(out.NewAssociationId).toMatch(/^aclassoc-/);
    expect(aws.ec2.state.flows[internet.FlowId]).toMatchObject({ state: 'ended' });
    expect(aws.ec2.state.flows[internet.FlowId]?.endedBy).toContain(w.quarantineAcl.NetworkAclId);
    expect(aws.ec2.state.flows[db.FlowId]?.state).toBe('ended');
    expect(aws.ec2.state.flows[logs.FlowId]?.state).toBe('established');
  });

  it('ends an untracked flow (all traffic allowed both ways) as soon as the rule admitting it goes', async () => {
    // Prepare: a group open to everything, both ways, makes the direct flow untracked.
    const open = aws.ec2.createSecurityGroupWithRules({
      name: 'open',
      vpcId: w.vpc.VpcId,
      ingress: [{ IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' }],
      egress: [{ IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' }],
    });
    const peer = aws.ec2.createNetworkInterface({
      subnetId: w.taskSubnet.SubnetId,
      groups: [open.GroupId],
      description: 'peer',
    });
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: w.task.NetworkInterfaceId,
        Groups: [open.GroupId],
      }),
    );
    const direct = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: peer.PrivateIpAddress,
      port: 8080,
    });
    const viaNat = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: '198.51.100.7',
      port: 443,
    });

    // Act
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: open.GroupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );

    // Assess
    expect(direct.tracked).toBe(false);
    expect(aws.ec2.state.flows[direct.FlowId]?.state).toBe('ended');
    expect(viaNat.tracked).toBe(true);
    expect(aws.ec2.state.flows[viaNat.FlowId]?.state).toBe('established');
  });

  it('ends the flows of an interface that goes away', () => {
    // Prepare
    const internet = aws.ec2.openFlow({
      sourceEniId: w.task.NetworkInterfaceId,
      destinationIp: '198.51.100.7',
      port: 443,
    });

    // Act
    aws.ec2.deleteNetworkInterface(w.task.NetworkInterfaceId);

    // Assess
    expect(aws.ec2.state.flows[internet.FlowId]?.state).toBe('ended');
  });
});
