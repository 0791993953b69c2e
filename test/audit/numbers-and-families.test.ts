import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import {
  exampleAssembly,
  logicalIdOf,
  type MutableTemplate,
  mutated,
  resourceOf,
  siteStackName,
} from './audit-support';

/**
 * Numbers and families, platform things and database users outside site stacks
 * (tools/audit/storage-paths.ts, network-paths.ts, database-paths.ts): POSIX ids compared as
 * numbers, platform access points, IPv6 for tasks with IPv6 addresses, egress to ranges outside
 * the VPC, a database-user resource in a platform stack.
 */
let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

const A = 'acme-shop';
const B = 'bakery';
const DATA = 'Bulkhead-example-Data';

function accessPoint(t: MutableTemplate) {
  return resourceOf(t, 'AWS::EFS::AccessPoint').resource.Properties as {
    PosixUser: { Uid: unknown; Gid: unknown };
    RootDirectory: { Path: string };
  };
}

function siteGroup(t: MutableTemplate) {
  return resourceOf(t, 'AWS::EC2::SecurityGroup', 'site-sg').id;
}

describe('storage: POSIX ids are numbers', () => {
  it('names two access points whose uids are the same number written differently (0297256435 and 297256435)', () => {
    // Prepare
    let uid = '';
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        uid = String(accessPoint(t).PosixUser.Uid);
      },
    });
    const both = mutated(changed, {
      [siteStackName(B)]: (t) => {
        accessPoint(t).PosixUser.Uid = `0${uid}`;
      },
    });

    // Act
    const result = auditAssembly(both);

    // Assess
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}: ${f.summary}`)).toEqual([
      `storage ${A}→${B}: ${A} and ${B} write uploads as the same POSIX uid ${uid}`,
      `storage ${B}→${A}: ${B} and ${A} write uploads as the same POSIX uid ${uid}`,
    ]);
  });

  it('is compliant when the uids are different numbers that share a prefix as text (42 and 420)', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        accessPoint(t).PosixUser.Uid = 42;
      },
      [siteStackName(B)]: (t) => {
        accessPoint(t).PosixUser.Uid = '420';
      },
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  it("names a task definition that mounts a platform access point rooted above the sites' directories", () => {
    // Prepare: a platform access point on the uploads file system at /sites, mounted by A.
    const changed = mutated(assembly, {
      [DATA]: (t) => {
        const fs = logicalIdOf(t, 'AWS::EFS::FileSystem');
        t.Resources.MaintenancePoint = {
          Type: 'AWS::EFS::AccessPoint',
          Properties: {
            FileSystemId: { Ref: fs },
            PosixUser: { Uid: '1000', Gid: '1000' },
            RootDirectory: { Path: '/sites' },
          },
        };
        t.Outputs = { ...t.Outputs, MP: { Value: { Ref: 'MaintenancePoint' }, Export: { Name: 'maintenance-ap' } } };
      },
      [siteStackName(A)]: (t) => {
        const td = t.Resources[logicalIdOf(t, 'AWS::ECS::TaskDefinition')] as MutableTemplate['Resources'][string];
        const volume = (
          td.Properties.Volumes as { EFSVolumeConfiguration?: { AuthorizationConfig: { AccessPointId: unknown } } }[]
        ).find((v) => v.EFSVolumeConfiguration);
        if (volume?.EFSVolumeConfiguration)
          volume.EFSVolumeConfiguration.AuthorizationConfig.AccessPointId = { 'Fn::ImportValue': 'maintenance-ap' };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    const storage = result.findings.filter((f) => f.kind === 'storage');
    expect(storage.map((f) => `${f.from}→${f.to}`).sort()).toEqual([`${A}→${B}`, `${A}→clinic`, `${A}→dentist`]);
    expect(storage[0]?.summary).toMatch(
      /mounts the platform's access point MaintenancePoint, which sees \S+'s uploads \(access point uid 1000 gid 1000 root \/sites\)$/,
    );
  });
});

describe('network: IPv6 and ranges outside the VPC', () => {
  /**
   * Gives a site's own subnets IPv6 blocks and its own ACL IPv6 allow entries (every site has
   * its own subnets and ACL: docs/network.md), as a dual-stack deployment would.
   */
  const dualStack = (base: number) => (t: MutableTemplate) => {
    let n = 0;
    let acl: string | undefined;
    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type === 'AWS::EC2::Subnet') r.Properties.Ipv6CidrBlock = `2001:db8:40:${base + n++}::/64`;
      if (r.Type === 'AWS::EC2::NetworkAcl') acl = id;
    }
    for (const egress of [false, true]) {
      t.Resources[egress ? 'V6AclOut' : 'V6AclIn'] = {
        Type: 'AWS::EC2::NetworkAclEntry',
        Properties: {
          NetworkAclId: { Ref: acl },
          RuleNumber: 90,
          Protocol: -1,
          RuleAction: 'allow',
          Egress: egress,
          Ipv6CidrBlock: '::/0',
        },
      };
    }
  };
  const v6Rules = {
    [siteStackName(A)]: (t: MutableTemplate) => {
      t.Resources.V6Out = {
        Type: 'AWS::EC2::SecurityGroupEgress',
        Properties: {
          GroupId: { 'Fn::GetAtt': [siteGroup(t), 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 8080,
          ToPort: 8080,
          CidrIpv6: '::/0',
        },
      };
    },
    [siteStackName(B)]: (t: MutableTemplate) => {
      t.Resources.V6In = {
        Type: 'AWS::EC2::SecurityGroupIngress',
        Properties: {
          GroupId: { 'Fn::GetAtt': [siteGroup(t), 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 8080,
          ToPort: 8080,
          CidrIpv6: '::/0',
        },
      };
    },
  };

  const dualStackSites = {
    [siteStackName(A)]: (t: MutableTemplate) => {
      dualStack(0)(t);
      v6Rules[siteStackName(A)]?.(t);
    },
    [siteStackName(B)]: (t: MutableTemplate) => {
      dualStack(8)(t);
      v6Rules[siteStackName(B)]?.(t);
    },
  };

  it('names IPv6 rules between sites whose tasks have IPv6 addresses', () => {
    // Prepare
    const changed = mutated(assembly, dualStackSites);

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}`)).toEqual([`network ${A}→${B}`]);
    // The groups' rules and, since every site has its own ACL, the ACL entries that let IPv6 through.
    expect(result.findings[0]?.rules.map((r) => r.logicalId)).toEqual(['V6Out', 'V6In', 'V6AclOut', 'V6AclIn']);
  });

  it('is compliant with the same IPv6 rules when the tasks have no IPv6 address', () => {
    // Prepare
    const changed = mutated(assembly, v6Rules);

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  const egress80 = (cidr: string) => ({
    [siteStackName(B)]: (t: MutableTemplate) => {
      t.Resources.Out80 = {
        Type: 'AWS::EC2::SecurityGroupEgress',
        Properties: {
          GroupId: { 'Fn::GetAtt': [siteGroup(t), 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 80,
          ToPort: 80,
          CidrIp: cidr,
        },
      };
    },
  });

  it("is compliant with egress on 80 to an outside range, as to 0.0.0.0/0: that is the load balancer's public front door", () => {
    // Act
    const outside = auditAssembly(mutated(assembly, egress80('198.51.100.0/24')));
    const internet = auditAssembly(mutated(assembly, egress80('0.0.0.0/0')));

    // Assess
    expect(outside.findings).toEqual([]);
    expect(internet.findings).toEqual([]);
  });

  it('names egress on 80 to a range inside the VPC: it reaches the load balancer from inside, and through it a site', () => {
    // Act
    const result = auditAssembly(mutated(assembly, egress80('10.40.0.0/16')));

    // Assess: both cells' load balancers are inside the VPC.
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}`)).toEqual([
      `network ${B}→${A}`,
      `network ${B}→clinic`,
      `network ${B}→dentist`,
    ]);
    expect(result.findings[0]?.summary).toMatch(
      /through shared group Bulkhead-example-Cell-blue\/LoadBalancerSecurityGroup\w+/,
    );
  });
});

describe('database: a database-user resource outside the site stacks', () => {
  it("names a platform database-user resource that gives A's secret B's account", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        t.Outputs = {
          ...t.Outputs,
          S: { Value: { Ref: logicalIdOf(t, 'AWS::SecretsManager::Secret') }, Export: { Name: 'acme-secret' } },
        };
      },
      [DATA]: (t) => {
        t.Resources.MigrationUser = {
          Type: 'Custom::BulkheadDatabaseUser',
          Properties: {
            ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:bulkhead-example-db-user',
            SiteId: B,
            Schema: 'wp_bakery',
            User: 'site_bakery',
            SecretArn: { 'Fn::ImportValue': 'acme-secret' },
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([
      expect.objectContaining({
        kind: 'database',
        from: A,
        to: B,
        summary: `the platform's database user resource MigrationUser (${DATA}) takes its password from ${A}'s secret and is for ${B}: ${A}'s credentials log in to ${B}'s database`,
      }),
    ]);
  });

  it('is compliant when a platform database-user resource uses a platform secret', () => {
    // Prepare
    const changed = mutated(assembly, {
      [DATA]: (t) => {
        t.Resources.MigrationSecret = {
          Type: 'AWS::SecretsManager::Secret',
          Properties: { Name: 'bulkhead/example/migration' },
        };
        t.Resources.MigrationUser = {
          Type: 'Custom::BulkheadDatabaseUser',
          Properties: {
            ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:bulkhead-example-db-user',
            SiteId: B,
            SecretArn: { Ref: 'MigrationSecret' },
          },
        };
      },
    });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });
});
