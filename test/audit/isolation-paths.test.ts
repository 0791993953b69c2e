import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly, type Finding, pairVerdict } from '../../tools/audit';
import {
  exampleAssembly,
  type MutableTemplate,
  mutated,
  resourceOf,
  siteStackName,
  taskRolePolicy,
  withoutTaskRoleBoundaries,
} from './audit-support';

let assembly: CloudAssembly;
beforeAll(() => {
  // Paths through a task role's own permissions: from the shape without its boundary (audit-support.ts).
  assembly = withoutTaskRoleBoundaries(exampleAssembly());
});

/** acme-shop may reach the internet on 443 (egress 0.0.0.0/0); bakery may not. Both are in cell blue. */
const A = 'acme-shop';
const B = 'bakery';

function groupOf(template: MutableTemplate) {
  return resourceOf(template, 'AWS::EC2::SecurityGroup', 'site-sg');
}

function findingsBetween(findings: readonly Finding[], from: string, to: string, kind: Finding['kind']) {
  return findings.filter((f) => f.from === from && f.to === to && f.kind === kind);
}

describe('network paths', () => {
  it("names an ingress rule of B's group from A's group (imported across stacks) with A's egress that reaches it", () => {
    // Prepare: A exports its group id; B admits it on 443, where A's 0.0.0.0/0 egress goes.
    let aGroup = '';
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        aGroup = groupOf(t).id;
        t.Outputs = {
          ...t.Outputs,
          LeakedGroup: { Value: { 'Fn::GetAtt': [aGroup, 'GroupId'] }, Export: { Name: 'leaked-acme-sg' } },
        };
      },
      [siteStackName(B)]: (t) => {
        t.Resources.FromAcme = {
          Type: 'AWS::EC2::SecurityGroupIngress',
          Properties: {
            GroupId: { 'Fn::GetAtt': [groupOf(t).id, 'GroupId'] },
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            SourceSecurityGroupId: { 'Fn::ImportValue': 'leaked-acme-sg' },
            Description: 'debugging, remove me',
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.passed).toBe(false);
    const [finding, ...others] = findingsBetween(result.findings, A, B, 'network');
    expect(others).toEqual([]);
    // Every site has subnets and an ACL of its own (issue 14): the path crosses A's ACL out and B's in.
    expect(finding?.summary).toBe(`${A} may connect to ${B} on tcp 443 (security groups and network ACLs allow it)`);
    expect(finding?.rules).toEqual([
      {
        stack: siteStackName(A),
        logicalId: aGroup,
        rule: 'egress tcp 443 to 0.0.0.0/0 "HTTPS to the internet (site config: internetEgress)"',
      },
      {
        stack: siteStackName(B),
        logicalId: 'FromAcme',
        rule: `ingress tcp 443 from group {${siteStackName(A)}/${aGroup}} on group {${siteStackName(B)}/${groupOf(changed.stacks.find((s) => s.name === siteStackName(B))?.template as unknown as MutableTemplate).id}} "debugging, remove me"`,
      },
      {
        stack: siteStackName(A),
        logicalId: expect.stringMatching(/^CompartmentAclEgress/),
        rule: 'network ACL egress #100 allow all traffic to 0.0.0.0/0',
      },
      {
        stack: siteStackName(B),
        logicalId: expect.stringMatching(/^CompartmentAclIngress/),
        rule: 'network ACL ingress #100 allow all traffic from 0.0.0.0/0',
      },
    ]);
    // Only that pair: B cannot send to A, and the other sites are untouched.
    expect(result.findings.every((f) => f.from === A && f.to === B)).toBe(true);
    expect(pairVerdict(result, B, A)?.ok).toBe(true);
  });

  it('does not count an ingress rule that the sender has no egress for (security groups need both)', () => {
    // Prepare: B admits A's group on the container port, but A sends only 443 outside the platform.
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        t.Outputs = {
          ...t.Outputs,
          G: { Value: { 'Fn::GetAtt': [groupOf(t).id, 'GroupId'] }, Export: { Name: 'acme-sg' } },
        };
      },
      [siteStackName(B)]: (t) => {
        t.Resources.FromAcme = {
          Type: 'AWS::EC2::SecurityGroupIngress',
          Properties: {
            GroupId: { 'Fn::GetAtt': [groupOf(t).id, 'GroupId'] },
            IpProtocol: 'tcp',
            FromPort: 8080,
            ToPort: 8080,
            SourceSecurityGroupId: { 'Fn::ImportValue': 'acme-sg' },
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([]);
  });

  it("names an egress rule from A to a shared group that sends on to B (the cell's load balancer)", () => {
    // Prepare: bakery (cell blue, no internet) may now send to the blue load balancer's group on 80.
    let bakeryGroup = '';
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        bakeryGroup = groupOf(t).id;
        t.Resources.ToLoadBalancer = {
          Type: 'AWS::EC2::SecurityGroupEgress',
          Properties: {
            GroupId: { 'Fn::GetAtt': [bakeryGroup, 'GroupId'] },
            IpProtocol: 'tcp',
            FromPort: 80,
            ToPort: 80,
            DestinationSecurityGroupId: { 'Fn::ImportValue': 'bulkhead-example-cell-blue-lb-sg-id' },
            Description: 'call our own API through the load balancer',
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess: bakery → blue LB → acme-shop (also in blue); the green sites admit only the green LB.
    const [finding, ...others] = findingsBetween(result.findings, B, A, 'network');
    expect(others).toEqual([]);
    expect(finding?.summary).toMatch(
      /^bakery may reach acme-shop through shared group Bulkhead-example-Cell-blue\/LoadBalancerSecurityGroup\w+ \(tcp 80, then tcp 8080\)$/,
    );
    const rules = finding?.rules ?? [];
    expect(rules[0]).toEqual({
      stack: siteStackName(B),
      logicalId: 'ToLoadBalancer',
      rule: expect.stringMatching(
        /^egress tcp 80 to group \{Bulkhead-example-Cell-blue\/LoadBalancerSecurityGroup\w+\} on group .* "call our own API through the load balancer"$/,
      ),
    });
    expect(rules[1]).toEqual(
      expect.objectContaining({
        stack: 'Bulkhead-example-Cell-blue',
        rule: 'ingress tcp 80 from 0.0.0.0/0 "Web traffic on 80"',
      }),
    );
    // B's own ACL lets the call out (issue 14: every site has subnets and an ACL of its own).
    expect(rules[2]).toEqual(
      expect.objectContaining({
        stack: siteStackName(B),
        rule: 'network ACL egress #100 allow all traffic to 0.0.0.0/0',
      }),
    );
    expect(rules[3]?.rule).toMatch(/^egress tcp 8080 to prefix list \{Bulkhead-example-Network\/AppSubnets\w+\}/);
    expect(rules[5]).toEqual(
      expect.objectContaining({
        stack: siteStackName(A),
        rule: 'network ACL ingress #100 allow all traffic from 0.0.0.0/0',
      }),
    );
    expect(rules[4]).toEqual(
      expect.objectContaining({
        stack: siteStackName(A),
        rule: expect.stringMatching(
          /^ingress tcp 8080 from group \{Bulkhead-example-Cell-blue\/LoadBalancerSecurityGroup\w+\}/,
        ),
      }),
    );
    expect(result.findings.map((f) => `${f.from}→${f.to}`)).toEqual([`${B}→${A}`]);
  });

  it("finds two sites that share a group which admits itself, and a strict site's ACL can stop it", () => {
    // Prepare: dentist's service also joins clinic's (strict) group, which admits itself on 8080.
    const clinicStack = siteStackName('clinic');
    let clinicGroup = '';
    const shared = (t: MutableTemplate) => {
      clinicGroup = groupOf(t).id;
      t.Outputs = {
        ...t.Outputs,
        G: { Value: { 'Fn::GetAtt': [clinicGroup, 'GroupId'] }, Export: { Name: 'clinic-sg' } },
      };
      t.Resources.Self = {
        Type: 'AWS::EC2::SecurityGroupIngress',
        Properties: {
          GroupId: { 'Fn::GetAtt': [clinicGroup, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 8080,
          ToPort: 8080,
          SourceSecurityGroupId: { 'Fn::GetAtt': [clinicGroup, 'GroupId'] },
        },
      };
      t.Resources.SelfOut = {
        Type: 'AWS::EC2::SecurityGroupEgress',
        Properties: {
          GroupId: { 'Fn::GetAtt': [clinicGroup, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 8080,
          ToPort: 8080,
          DestinationSecurityGroupId: { 'Fn::GetAtt': [clinicGroup, 'GroupId'] },
        },
      };
    };
    const joinClinic = (t: MutableTemplate) => {
      const service = resourceOf(t, 'AWS::ECS::Service').resource;
      const config = (service.Properties.NetworkConfiguration as { AwsvpcConfiguration: { SecurityGroups: unknown[] } })
        .AwsvpcConfiguration;
      config.SecurityGroups.push({ 'Fn::ImportValue': 'clinic-sg' });
    };
    const open = mutated(assembly, { [clinicStack]: shared, [siteStackName('dentist')]: joinClinic });
    const denied = mutated(assembly, {
      [clinicStack]: (t) => {
        shared(t);
        // A deny for the VPC's range ahead of the allow entry of clinic's own ACL. (A deny of
        // dentist's own two subnets alone is not enough for the audit: it still names the path,
        // erring on the side of a finding; to be narrowed, see the stop note of 2026-12-07.)
        t.Resources.DenyVpc = {
          Type: 'AWS::EC2::NetworkAclEntry',
          Properties: {
            NetworkAclId: { Ref: resourceOf(t, 'AWS::EC2::NetworkAcl').id },
            RuleNumber: 50,
            Protocol: -1,
            RuleAction: 'deny',
            Egress: false,
            CidrBlock: '10.40.0.0/16',
          },
        };
      },
      [siteStackName('dentist')]: joinClinic,
    });

    // Act
    const openResult = auditAssembly(open);
    const deniedResult = auditAssembly(denied);

    // Assess: both directions while the ACL allows; into clinic it is cut by the ACL's deny.
    const into = findingsBetween(openResult.findings, 'dentist', 'clinic', 'network');
    expect(into).toHaveLength(1);
    expect(into[0]?.rules.map((r) => r.logicalId)).toEqual([
      'SelfOut',
      'Self',
      expect.stringMatching(/^CompartmentAclEgress/), // dentist's own ACL (issue 14), out
      expect.stringMatching(/^CompartmentAclIngress/), // clinic's, in
    ]);
    // clinic is strict: its ACL admits only the VPC's own addresses (and answers).
    expect(into[0]?.rules[3]?.rule).toBe('network ACL ingress #100 allow all traffic from 10.40.0.0/16');
    expect(findingsBetween(openResult.findings, 'clinic', 'dentist', 'network')).toHaveLength(1);
    expect(findingsBetween(deniedResult.findings, 'dentist', 'clinic', 'network')).toEqual([]);
    expect(findingsBetween(deniedResult.findings, 'clinic', 'dentist', 'network')).toHaveLength(1);
  });
});

describe('IAM paths', () => {
  it("names a task-role statement widened to every secret (secret:*) as a path to every other site's secret", () => {
    // Prepare
    let policy = '';
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const found = taskRolePolicy(t);
        policy = found.id;
        found.document.Statement.push({
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:*',
        });
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    const others = result.sites.map((s) => s.id).filter((id) => id !== A);
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}`)).toEqual(others.map((id) => `iam ${A}→${id}`));
    for (const finding of result.findings) {
      expect(finding.summary).toMatch(
        new RegExp(
          `^${A}'s task role CompartmentTaskRole\\w+ may use ${finding.to}'s secrets under bulkhead/example/sites/${finding.to}/`,
        ),
      );
      expect(finding.rules).toEqual([
        {
          stack: siteStackName(A),
          logicalId: policy,
          rule: `Statement[2] of policy ${policy}: Allow secretsmanager:GetSecretValue on arn:aws:secretsmanager:eu-west-1:111122223333:secret:*`,
        },
      ]);
    }
  });

  it('names the Sid and follows a separate policy that attaches to the task role from another stack', () => {
    // Prepare: a policy in the Response stack names A's task role by an imported name.
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const role = resourceOf(t, 'AWS::IAM::Role', 'task-role').id;
        t.Outputs = { ...t.Outputs, R: { Value: { Ref: role }, Export: { Name: 'acme-task-role' } } };
      },
      'Bulkhead-example-Response': (t) => {
        t.Resources.Convenience = {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'convenience',
            Roles: [{ 'Fn::ImportValue': 'acme-task-role' }],
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'ReadLogs',
                  Effect: 'Allow',
                  Action: ['logs:GetLogEvents'],
                  Resource: 'arn:aws:logs:*:*:log-group:/bulkhead/example/sites/b*',
                },
              ],
            },
          },
        };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess: /sites/b* matches bakery's log group only.
    expect(result.findings).toEqual([
      {
        kind: 'iam',
        from: A,
        to: B,
        summary: expect.stringMatching(/may use bakery's log group \/bulkhead\/example\/sites\/bakery/),
        rules: [
          {
            stack: 'Bulkhead-example-Response',
            logicalId: 'Convenience',
            rule: 'Sid ReadLogs of policy convenience: Allow logs:GetLogEvents on arn:aws:logs:*:*:log-group:/bulkhead/example/sites/b*',
          },
        ],
      },
    ]);
  });

  it("names a mount statement without the access-point condition: it reaches every site's uploads", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        const mount = taskRolePolicy(t).document.Statement.find((s) => s.Sid === 'MountOwnUploadsOnly') as Record<
          string,
          unknown
        >;
        delete mount.Condition;
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toHaveLength(3);
    for (const f of result.findings) {
      expect(f).toEqual(
        expect.objectContaining({
          kind: 'iam',
          from: B,
          summary: expect.stringContaining(`uploads file system through access point`),
        }),
      );
      expect(f.rules[0]?.rule).toMatch(
        /^Sid MountOwnUploadsOnly of policy \w+: Allow elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite on arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system\/\{Bulkhead-example-Data\/Uploads\w+\}$/,
      );
    }
  });
});

describe('database paths', () => {
  it("names A's database-user resource when its Schema is another site's schema", () => {
    // Prepare
    let userResource = '';
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const found = resourceOf(t, 'Custom::BulkheadDatabaseUser');
        userResource = found.id;
        found.resource.Properties.Schema = 'wp_bakery';
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([
      {
        kind: 'database',
        from: A,
        to: B,
        summary: `${A}'s database user is granted ${B}'s schema wp_bakery`,
        rules: [{ stack: siteStackName(A), logicalId: userResource, rule: 'Schema: wp_bakery' }],
      },
    ]);
    expect(result.questions[1]?.answer).toBe('no');
  });

  it('reads a Schema other than the derived one as a MySQL GRANT pattern (_ and % are wildcards)', () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName('dentist')]: (t) => {
        resourceOf(t, 'Custom::BulkheadDatabaseUser').resource.Properties.Schema = 'wp\\_c%';
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess: wp\_c% matches wp_clinic only.
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}: ${f.summary}`)).toEqual([
      "database dentist→clinic: dentist's database user grant pattern wp\\_c% matches clinic's schema (MySQL GRANT wildcards _ and %)",
    ]);
  });

  it("names a User that is another site's account", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        resourceOf(t, 'Custom::BulkheadDatabaseUser').resource.Properties.User = 'site_clinic';
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([
      expect.objectContaining({
        kind: 'database',
        from: A,
        to: 'clinic',
        summary: `${A}'s database user resource manages clinic's account site_clinic`,
        rules: [expect.objectContaining({ rule: 'User: site_clinic' })],
      }),
    ]);
  });
});

describe('storage paths', () => {
  it('names two access points that share a POSIX uid, both ways', () => {
    // Prepare: bakery takes acme-shop's uid (its gid stays its own).
    let uid = '';
    let aPoint = '';
    let bPoint = '';
    const base = mutated(assembly, {});
    const aTemplate = base.stacks.find((s) => s.name === siteStackName(A))?.template as unknown as MutableTemplate;
    const aFound = resourceOf(aTemplate, 'AWS::EFS::AccessPoint');
    aPoint = aFound.id;
    uid = (aFound.resource.Properties.PosixUser as { Uid: string }).Uid;
    const changed = mutated(base, {
      [siteStackName(B)]: (t) => {
        const found = resourceOf(t, 'AWS::EFS::AccessPoint');
        bPoint = found.id;
        (found.resource.Properties.PosixUser as { Uid: string }).Uid = uid;
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}: ${f.summary}`)).toEqual([
      `storage ${A}→${B}: ${A} and ${B} write uploads as the same POSIX uid ${uid}`,
      `storage ${B}→${A}: ${B} and ${A} write uploads as the same POSIX uid ${uid}`,
    ]);
    const [first] = result.findings;
    expect(first?.rules.map((r) => `${r.stack}/${r.logicalId}`)).toEqual([
      `${siteStackName(A)}/${aPoint}`,
      `${siteStackName(B)}/${bPoint}`,
    ]);
    expect(first?.rules[1]?.rule).toMatch(new RegExp(`^access point uid ${uid} gid \\d+ root /sites/bakery$`));
    expect(result.questions[2]?.answer).toBe('no');
  });

  it("names an access point whose root directory lies inside another site's", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        (resourceOf(t, 'AWS::EFS::AccessPoint').resource.Properties.RootDirectory as { Path: string }).Path =
          '/sites/acme-shop/../acme-shop/bakery/';
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    const how = 'overlapping root directories /sites/acme-shop and /sites/acme-shop/bakery';
    expect(result.findings.map((f) => `${f.from}→${f.to}: ${f.summary}`)).toEqual([
      `${A}→${B}: ${A} and ${B} have ${how}`,
      `${B}→${A}: ${B} and ${A} have ${how}`,
    ]);
    expect(result.findings.every((f) => f.kind === 'storage')).toBe(true);
  });

  it("names a task definition that mounts another site's access point", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const ap = resourceOf(t, 'AWS::EFS::AccessPoint').id;
        t.Outputs = { ...t.Outputs, AP: { Value: { Ref: ap }, Export: { Name: 'acme-ap' } } };
      },
      [siteStackName(B)]: (t) => {
        const volumes = resourceOf(t, 'AWS::ECS::TaskDefinition').resource.Properties.Volumes as {
          EFSVolumeConfiguration?: { AuthorizationConfig: { AccessPointId: unknown } };
        }[];
        const efs = volumes.find((v) => v.EFSVolumeConfiguration)?.EFSVolumeConfiguration;
        if (efs) efs.AuthorizationConfig.AccessPointId = { 'Fn::ImportValue': 'acme-ap' };
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(findingsBetween(result.findings, B, A, 'storage')).toEqual([
      expect.objectContaining({ summary: `${B}'s task definition mounts ${A}'s access point` }),
    ]);
  });
});
