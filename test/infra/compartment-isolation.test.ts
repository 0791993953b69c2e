import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cellExportName,
  parseSiteAlarmName,
  platformExportName,
  siteAlarmName,
  siteSecretName,
} from '../../contracts/names';
import { type SynthesizedFleet, synthExample } from '../support/synth-fleet';
import {
  importedName,
  joinedString,
  onlyResource,
  policyStatements,
  resourcesOfType,
  securityGroupRules,
  tagsOf,
} from '../support/template-queries';

let synth: SynthesizedFleet;
beforeAll(() => {
  synth = synthExample();
});

const sites = () => synth.fleet.sites;

describe('network isolation of each site', () => {
  it('no security-group rule of any site names another site or itself, only shared platform groups', () => {
    // Prepare
    const env = synth.fleet.environment;

    for (const site of sites()) {
      const allowed = new Set([
        cellExportName(env, site.cell, 'loadBalancerSecurityGroupId'),
        platformExportName(env, 'databaseSecurityGroupId'),
        platformExportName(env, 'uploadsSecurityGroupId'),
        platformExportName(env, 'endpointSecurityGroupId'),
        platformExportName(env, 'logsEndpointSecurityGroupId'),
      ]);
      // Act
      const peers = securityGroupRules(synth.siteJson(site.id))
        .filter((r) => r.peerGroup !== undefined)
        .map((r) => ({ rule: r.resource, imported: importedName(r.peerGroup), raw: r.peerGroup }));

      // Assess
      expect(peers.length).toBeGreaterThan(0);
      for (const peer of peers) {
        expect(peer.imported, `${site.id} ${peer.rule} peers with ${JSON.stringify(peer.raw)}`).toBeDefined();
        expect(allowed.has(peer.imported as string), `${site.id} ${peer.rule} peers with ${peer.imported}`).toBe(true);
      }
    }
  });

  it('no site stack exports anything, so no other stack can name its groups', () => {
    for (const site of sites()) {
      const outputs = Object.values(synth.siteJson(site.id).Outputs ?? {});
      expect(outputs.filter((o) => o.Export)).toEqual([]);
    }
  });

  it("a site's only ingress is from its own cell's load balancer group on the container port", () => {
    for (const site of sites()) {
      // Act
      const ingress = securityGroupRules(synth.siteJson(site.id)).filter((r) => r.direction === 'ingress');

      // Assess: one rule in each of the site's two groups (primary and standby)
      expect(new Set(ingress.map((r) => r.holder)).size).toBe(2);
      expect(ingress).toEqual([
        expect.objectContaining({
          protocol: 'tcp',
          fromPort: synth.fleet.containerPort,
          toPort: synth.fleet.containerPort,
          peerGroup: {
            'Fn::ImportValue': cellExportName(synth.fleet.environment, site.cell, 'loadBalancerSecurityGroupId'),
          },
          cidr: undefined,
          prefixList: undefined,
        }),
        expect.objectContaining({
          protocol: 'tcp',
          fromPort: synth.fleet.containerPort,
          toPort: synth.fleet.containerPort,
          peerGroup: {
            'Fn::ImportValue': cellExportName(synth.fleet.environment, site.cell, 'loadBalancerSecurityGroupId'),
          },
          cidr: undefined,
          prefixList: undefined,
        }),
      ]);
    }
  });

  it('no site reaches 0.0.0.0/0 except HTTPS, and only when its config allows the internet', () => {
    for (const site of sites()) {
      // Act
      const open = securityGroupRules(synth.siteJson(site.id)).filter(
        (r) => r.cidr === '0.0.0.0/0' || r.cidrIpv6 === '::/0',
      );

      // Assess (once per group: primary and standby)
      if (site.internetEgress) {
        const https = expect.objectContaining({ direction: 'egress', protocol: 'tcp', fromPort: 443, toPort: 443 });
        expect(open, site.id).toEqual([https, https]);
      } else {
        expect(open, site.id).toEqual([]);
      }
    }
  });

  it('every egress rule of a site is one of the documented destinations, on its port', () => {
    for (const site of sites()) {
      const egress = securityGroupRules(synth.siteJson(site.id)).filter((r) => r.direction === 'egress');
      const described = egress.map(
        (r) => `${importedName(r.peerGroup) ?? importedName(r.prefixList) ?? r.cidr}:${r.fromPort}-${r.toPort}`,
      );
      const env = synth.fleet.environment;
      const expected = [
        `${platformExportName(env, 'databaseSecurityGroupId')}:3306-3306`,
        `${platformExportName(env, 'uploadsSecurityGroupId')}:2049-2049`,
        `${platformExportName(env, 'endpointSecurityGroupId')}:443-443`,
        `${platformExportName(env, 'logsEndpointSecurityGroupId')}:443-443`,
        `${platformExportName(env, 's3PrefixListId')}:443-443`,
        ...(site.internetEgress ? ['0.0.0.0/0:443-443'] : []),
      ];
      // The same destinations from the primary and the standby group.
      expect(described.sort(), site.id).toEqual([...expected, ...expected].sort());
    }
  });

  it("the standby group has exactly the primary group's rules, and nothing names it but the site record", () => {
    for (const site of sites()) {
      // Prepare
      const json = synth.siteJson(site.id);
      const groups = resourcesOfType(json, 'AWS::EC2::SecurityGroup');
      const byComponent = Object.fromEntries(groups.map(([id, r]) => [tagsOf(r)['bulkhead:component'], id]));

      // Act
      const rulesOf = (holder: string | undefined) =>
        securityGroupRules(json)
          .filter((r) => r.holder === holder)
          .map(({ direction, protocol, fromPort, toPort, peerGroup, cidr, prefixList }) =>
            JSON.stringify({ direction, protocol, fromPort, toPort, peerGroup, cidr, prefixList }),
          )
          .sort();

      // Assess
      expect(Object.keys(byComponent).sort()).toEqual(['site-sg', 'site-sg-standby']);
      expect(rulesOf(byComponent['site-sg-standby'])).toEqual(rulesOf(byComponent['site-sg']));
      expect(rulesOf(byComponent['site-sg']).length).toBeGreaterThan(0);
      const [, service] = onlyResource<{ NetworkConfiguration: unknown }>(json, 'AWS::ECS::Service');
      expect(JSON.stringify(service.Properties.NetworkConfiguration)).not.toContain(byComponent['site-sg-standby']);
    }
  });

  it("every site runs in subnets of its own, with its own ACL; a strict site's ACL keeps other ports inside the VPC", () => {
    for (const site of sites()) {
      // Prepare
      const template = synth.site(site.id);
      const json = synth.siteJson(site.id);

      // Act
      const subnets = resourcesOfType(json, 'AWS::EC2::Subnet');
      const entries = resourcesOfType(json, 'AWS::EC2::NetworkAclEntry').map(([, e]) => e.Properties ?? {});

      // Assess: own subnets with the derived CIDRs, an ACL association each, and the service in them.
      expect(subnets.map(([, s]) => s.Properties?.CidrBlock)).toEqual(site.subnetCidrs);
      template.resourceCountIs('AWS::EC2::NetworkAcl', 1);
      template.resourceCountIs('AWS::EC2::SubnetNetworkAclAssociation', subnets.length);
      template.hasResourceProperties('AWS::ECS::Service', {
        NetworkConfiguration: {
          AwsvpcConfiguration: { Subnets: subnets.map(([id]) => ({ Ref: id })) },
        },
      });
      const open = entries.filter((e) => e.CidrBlock === '0.0.0.0/0' && e.Protocol === -1);
      if (site.isolation === 'strict') {
        expect(open, site.id).toEqual([]);
        expect(entries.filter((e) => e.CidrBlock === '0.0.0.0/0').map((e) => e.PortRange)).toEqual(
          expect.arrayContaining([
            { From: 1024, To: 65535 },
            { From: 443, To: 443 },
          ]),
        );
      } else {
        expect(open.length, site.id).toBe(2);
      }
    }
  });
});

describe('refused connections of each site', () => {
  it('its own subnets log REJECT records to its own group, counted outbound, with an alarm at the fleet file threshold that the response plane hears', () => {
    for (const site of sites()) {
      // Prepare
      const json = synth.siteJson(site.id);
      const template = synth.site(site.id);

      // Act
      const subnets = resourcesOfType(json, 'AWS::EC2::Subnet').map(([id]) => id);
      const flowLogs = resourcesOfType(json, 'AWS::EC2::FlowLog').map(([, f]) => f.Properties ?? {});
      const [filter] = resourcesOfType(json, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties ?? {});

      // Assess
      expect(flowLogs.map((f) => f.ResourceId)).toEqual(subnets.map((id) => ({ Ref: id })));
      for (const f of flowLogs) expect(f).toMatchObject({ ResourceType: 'Subnet', TrafficType: 'REJECT' });
      expect(String(flowLogs[0]?.LogFormat)).toMatch(/\$\{action\} \$\{log-status\} \$\{flow-direction\}$/);
      expect(String(filter?.FilterPattern)).toContain('action = "REJECT"');
      expect(String(filter?.FilterPattern)).toContain('direction = "egress"');
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: siteAlarmName(synth.fleet.environment, site.id, 'rejected-connections'),
        Threshold: site.alarms.rejectedConnectionsPerFiveMinutes,
        Period: 300,
      });
      expect(
        parseSiteAlarmName(
          synth.fleet.environment,
          siteAlarmName(synth.fleet.environment, site.id, 'rejected-connections'),
        ),
      ).toEqual({
        site: site.id,
        kind: 'rejected-connections',
      });
    }
  });
});

describe('runtime of each site', () => {
  it('every image is pinned by digest, to the digest in the fleet file', () => {
    for (const site of sites()) {
      const [, taskDefinition] = onlyResource<{ ContainerDefinitions: { Image: unknown }[] }>(
        synth.siteJson(site.id),
        'AWS::ECS::TaskDefinition',
      );
      for (const container of taskDefinition.Properties.ContainerDefinitions) {
        const image = joinedString(container.Image);
        expect(image, site.id).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(image.endsWith(`/${site.image.repositoryName}@${site.image.digest}`), image).toBe(true);
      }
    }
  });

  it('containers run with a read-only root filesystem and no public IP', () => {
    for (const site of sites()) {
      const template = synth.site(site.id);
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({ ReadonlyRootFilesystem: true })],
      });
      template.hasResourceProperties('AWS::ECS::Service', {
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
        PropagateTags: 'SERVICE',
      });
    }
  });

  it('no secret sits in a plain environment variable: credentials come through `secrets` from its own secret', () => {
    for (const site of sites()) {
      const json = synth.siteJson(site.id);
      const [secretId, secret] = onlyResource(json, 'AWS::SecretsManager::Secret');
      const [, taskDefinition] = onlyResource<{
        ContainerDefinitions: {
          Environment?: unknown[];
          Secrets: { Name: string; ValueFrom: unknown }[];
        }[];
      }>(json, 'AWS::ECS::TaskDefinition');
      for (const container of taskDefinition.Properties.ContainerDefinitions) {
        expect(container.Environment ?? []).toEqual([]);
        expect(container.Secrets.map((s) => s.Name).sort()).toEqual([
          'WORDPRESS_DB_HOST',
          'WORDPRESS_DB_NAME',
          'WORDPRESS_DB_PASSWORD',
          'WORDPRESS_DB_USER',
        ]);
        for (const secret of container.Secrets) {
          expect(secret.ValueFrom).toEqual({
            'Fn::Join': ['', [{ Ref: secretId }, expect.stringMatching(/^:[a-z]+::$/)]],
          });
        }
      }
      // The secret's value is generated by Secrets Manager, never written in the template.
      expect(secret.Properties?.SecretString).toBeUndefined();
      expect(secret.Properties?.GenerateSecretString).toMatchObject({
        GenerateStringKey: 'password',
      });
      // The contract name, then the stack instance (a re-created stack never meets its retained secret).
      expect(joinedString(secret.Properties?.Name)).toBe(`${siteSecretName(synth.fleet.environment, site.id)}-<ref>`);
    }
  });

  it("each role's Secrets Manager access names exactly its own site's secret", () => {
    for (const site of sites()) {
      const json = synth.siteJson(site.id);
      const [secretId] = onlyResource(json, 'AWS::SecretsManager::Secret');
      const statements = policyStatements(json);
      const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
      expect(secretStatements.length).toBe(2); // task role and execution role
      for (const statement of secretStatements) expect(statement.Resource).toEqual({ Ref: secretId });
    }
  });

  it('the task role mounts the uploads file system only through its own access point', () => {
    for (const site of sites()) {
      const json = synth.siteJson(site.id);
      const [accessPointId] = onlyResource(json, 'AWS::EFS::AccessPoint');
      synth.site(site.id).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
              Condition: {
                StringEquals: {
                  'elasticfilesystem:AccessPointArn': {
                    'Fn::Join': ['', [Match.stringLikeRegexp('access-point/$'), { Ref: accessPointId }]],
                  },
                },
              },
            }),
          ]),
        },
      });
      synth.site(site.id).hasResourceProperties('AWS::ECS::TaskDefinition', {
        Volumes: Match.arrayWith([
          {
            Name: 'uploads',
            EFSVolumeConfiguration: Match.objectLike({
              TransitEncryption: 'ENABLED',
              AuthorizationConfig: { AccessPointId: { Ref: accessPointId }, IAM: 'ENABLED' },
            }),
          },
        ]),
      });
    }
  });

  it('access points have distinct uid/gid and root directories', () => {
    // Act
    const points = sites().map((site) => {
      const [, ap] = onlyResource<{
        PosixUser: { Uid: string; Gid: string };
        RootDirectory: { Path: string; CreationInfo: { OwnerUid: string } };
      }>(synth.siteJson(site.id), 'AWS::EFS::AccessPoint');
      const props = ap.Properties;
      return {
        site: site.id,
        uid: props.PosixUser.Uid,
        gid: props.PosixUser.Gid,
        path: props.RootDirectory.Path,
        owner: props.RootDirectory.CreationInfo.OwnerUid,
      };
    });

    // Assess
    expect(new Set(points.map((p) => p.uid)).size).toBe(points.length);
    expect(new Set(points.map((p) => p.gid)).size).toBe(points.length);
    expect(new Set(points.map((p) => p.path)).size).toBe(points.length);
    for (const p of points) {
      expect(p.path).toBe(`/sites/${p.site}`);
      expect(p.owner).toBe(p.uid);
      expect(Number(p.uid)).toBeGreaterThanOrEqual(10000);
    }
  });

  it('the database user is made by the shared provider with the derived names and the site secret', () => {
    for (const site of sites()) {
      const json = synth.siteJson(site.id);
      const [secretId] = onlyResource(json, 'AWS::SecretsManager::Secret');
      synth.site(site.id).hasResourceProperties('Custom::BulkheadDatabaseUser', {
        ServiceToken: {
          'Fn::ImportValue': platformExportName(synth.fleet.environment, 'databaseUserServiceToken'),
        },
        SiteId: site.id,
        Schema: site.database.schema,
        User: site.database.user,
        SecretArn: { Ref: secretId },
        MaxConnections: String(synth.fleet.database.maxConnectionsPerSite),
      });
      expect(resourcesOfType(json, 'AWS::Lambda::Function')).toEqual([]);
    }
  });

  it('each site has its own listener rule for its domains, target group, log group and two alarms', () => {
    for (const site of sites()) {
      const template = synth.site(site.id);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        ListenerArn: {
          'Fn::ImportValue': cellExportName(synth.fleet.environment, site.cell, 'listenerArn'),
        },
        Priority: site.listenerPriority,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [...site.domains] } }],
      });
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
      // The contract name, then the stack instance (a re-created stack never meets its retained log group).
      const [[, logGroup]] = resourcesOfType(synth.siteJson(site.id), 'AWS::Logs::LogGroup') as unknown as [
        [string, { Properties: Record<string, unknown> }],
      ];
      expect(joinedString(logGroup.Properties.LogGroupName)).toBe(
        `/bulkhead/${synth.fleet.environment}/sites/${site.id}/<ref>`,
      );
      template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `bulkhead.${synth.fleet.environment}.${site.id}.error-rate`,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `bulkhead.${synth.fleet.environment}.${site.id}.egress`,
      });
    }
  });

  it('data-holding resources are kept when a stack is deleted', () => {
    for (const site of sites()) {
      const template = synth.site(site.id);
      template.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('publishes the site record the response plane reads, naming only its own resources', () => {
    for (const site of sites()) {
      const json = synth.siteJson(site.id);
      const [, parameter] = onlyResource<{ Name: string; Value: unknown }>(json, 'AWS::SSM::Parameter');
      expect(parameter.Properties.Name).toBe(`/bulkhead/${synth.fleet.environment}/sites/${site.id}`);
      const value = JSON.stringify(parameter.Properties.Value);
      const sgIds = resourcesOfType(json, 'AWS::EC2::SecurityGroup').map(([id]) => id);
      const [ruleId] = onlyResource(json, 'AWS::ElasticLoadBalancingV2::ListenerRule');
      const [roleId] = resourcesOfType(json, 'AWS::IAM::Role').find(([id]) => id.includes('TaskRole')) ?? [];
      for (const logicalId of [...sgIds, ruleId, roleId]) expect(value).toContain(logicalId);
      expect(sgIds).toHaveLength(2);
      expect(value).toContain(`\\"policy\\":\\"${site.response.policy}\\"`);
      expect(value).toContain(`\\"isolation\\":\\"${site.isolation}\\"`);
    }
  });

  it("tags each service (and so its tasks) with the site's isolation, policy and threshold", () => {
    for (const site of sites()) {
      const [, service] = onlyResource(synth.siteJson(site.id), 'AWS::ECS::Service');
      expect(tagsOf(service)).toMatchObject({
        'bulkhead:site': site.id,
        'bulkhead:isolation': site.isolation,
        'bulkhead:response-policy': site.response.policy,
        'bulkhead:severity-threshold': String(site.response.severityThreshold),
      });
    }
  });
});
