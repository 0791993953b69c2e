import { createHash } from 'node:crypto';
import type { Tag as EcsTag } from '@aws-sdk/client-ecs';
import {
  SITE_ALARM_KINDS,
  siteAlarmName,
  siteNoticeTopicName,
  siteTaskRoleBoundaryName,
} from '../../../../contracts/names';
import { type SiteRecord, siteRecordParameterName } from '../../../../contracts/site-record';
import {
  Component,
  TAG_CELL,
  TAG_COMPONENT,
  TAG_ENV,
  TAG_ISOLATION,
  TAG_LISTENER_RULE,
  TAG_RESPONSE_POLICY,
  TAG_SECURITY_GROUP,
  TAG_SEVERITY_THRESHOLD,
  TAG_SITE,
} from '../../../../contracts/tag-names';
import { denyAllEntries } from '../ec2/ec2-model';
import type { RuleSpec } from '../ec2/security-groups';
import type { NetworkAclEntryRecord } from '../ec2/types';
import type { AwsModel } from '../model';
import { intToIpv4, ipv4ToInt } from '../util/cidr';
import { type Tag, tagList } from '../util/tags';
import type { CellHandles, FleetHandles, SeedFleetInput, SiteHandles } from './types';

const tcp = (port: number, peer: Partial<RuleSpec>, description?: string): RuleSpec => ({
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  Description: description,
  ...peer,
});

function ecsTags(tags: Tag[]): EcsTag[] {
  return tags.map((t) => ({ key: t.Key, value: t.Value }));
}

/** The `n`th block of `2^(32-prefix)` addresses from the start of `base`. */
function block(base: string, prefix: number, n: number): string {
  const start = ipv4ToInt(base.split('/')[0] ?? '0.0.0.0') + n * 2 ** (32 - prefix);
  return `${intToIpv4(start)}/${prefix}`;
}

/**
 * Builds a realistic Bulkhead environment in the model, the way the CDK app deploys it
 * (names and tags follow infra/shared: `tag-names.ts`, `site-record.ts` and the naming
 * functions of `contract.ts`): a VPC with public subnets (load balancer nodes) and private
 * subnets (standard sites), shared security groups (database 3306, VPC endpoints 443,
 * CloudWatch Logs endpoint 443, uploads/EFS 2049), the S3 gateway prefix list, a deny-all
 * network ACL tagged `bulkhead:component=quarantine-acl`, an evidence bucket with Object
 * Lock, an ops topic, the incident state machine and a backup vault; per cell an ECS
 * cluster `bulkhead-<env>-<cell>`, an ALB with its security group and an HTTP listener
 * whose default action is a fixed 404; per site a security group (ingress from its cell's
 * load balancer on the container port only; egress to the database, the endpoints, S3 and
 * EFS, plus 0.0.0.0/0:443 when `internetEgress`), a target group attached by a
 * host-header listener rule, a task role, a secret, a log group, alarms, a task definition
 * pinned by digest, a service named after the site (`propagateTags: SERVICE`, isolation
 * and response-policy tags) with its tasks RUNNING and healthy, and the site record in
 * SSM (`/bulkhead/<env>/sites/<id>`). Every site gets its own subnets associated with its
 * own network ACL (unless seeded with `sharedSubnets`, as a site deployed before that); the
 * quarantine ACL admits only HTTPS to the watch subnets, where the Logs endpoint's interface is. Every resource carries `bulkhead:env`,
 * `bulkhead:component` and, for site resources, `bulkhead:site`.
 */
export function seedFleet(model: AwsModel, input: SeedFleetInput): FleetHandles {
  const env = input.environment;
  const region = model.region;
  const account = model.accountId;
  const vpcCidr = input.vpcCidr ?? '10.40.0.0/16';
  const azCount = input.azs ?? 2;
  const port = input.containerPort ?? 8080;
  const azs = Array.from({ length: azCount }, (_, i) => `${region}${String.fromCharCode(97 + i)}`);
  const envTags = (component: string, extra: Record<string, string> = {}): Tag[] =>
    tagList({ [TAG_ENV]: env, [TAG_COMPONENT]: component, ...extra });
  const siteTags = (site: string, component: string, extra: Record<string, string> = {}): Tag[] =>
    envTags(component, { [TAG_SITE]: site, ...extra });

  // ---- network ----------------------------------------------------------------------
  const vpc = model.ec2.createVpc({ cidr: vpcCidr, tags: envTags(Component.network, { Name: `bulkhead-${env}` }) });
  const vpcBase = vpcCidr;
  const publicSubnets = azs.map((az, i) =>
    model.ec2.createSubnet({
      vpcId: vpc.VpcId,
      cidr: block(vpcBase, 24, i),
      availabilityZone: az,
      public: true,
      tags: envTags(Component.network, { Name: `bulkhead-${env}-public` }),
    }),
  );
  const privateSubnets = azs.map((az, i) =>
    model.ec2.createSubnet({
      vpcId: vpc.VpcId,
      cidr: block(vpcBase, 20, 1 + i),
      availabilityZone: az,
      tags: envTags(Component.network, { Name: `bulkhead-${env}-private` }),
    }),
  );
  const upperHalf = block(vpcBase, Number(vpcCidr.split('/')[1]) + 1, 1);
  const appCidrs = [...privateSubnets.map((s) => s.CidrBlock), upperHalf];

  const s3PrefixListId = model.ec2.createPrefixList({
    name: `com.amazonaws.${region}.s3`,
    cidrs: ['52.218.0.0/17', '3.5.64.0/21', '3.5.72.0/23', '52.92.0.0/17'],
  });
  const dbSg = model.ec2.createSecurityGroupWithRules({
    name: `bulkhead-${env}-db`,
    vpcId: vpc.VpcId,
    tags: envTags(Component.databaseSecurityGroup),
    ingress: appCidrs.map((c) => tcp(3306, { CidrIpv4: c }, 'MySQL from application subnets')),
  });
  const endpointsSg = model.ec2.createSecurityGroupWithRules({
    name: `bulkhead-${env}-endpoints`,
    vpcId: vpc.VpcId,
    tags: envTags(Component.endpointSecurityGroup),
    ingress: [tcp(443, { CidrIpv4: vpcCidr }, 'HTTPS from the VPC')],
  });
  const logsSg = model.ec2.createSecurityGroupWithRules({
    name: `bulkhead-${env}-logs-endpoint`,
    vpcId: vpc.VpcId,
    tags: envTags(Component.logsEndpointSecurityGroup),
    ingress: [tcp(443, { CidrIpv4: vpcCidr }, 'HTTPS from the VPC')],
  });
  const efsSg = model.ec2.createSecurityGroupWithRules({
    name: `bulkhead-${env}-efs`,
    vpcId: vpc.VpcId,
    tags: envTags(Component.uploadsSecurityGroup),
    ingress: appCidrs.map((c) => tcp(2049, { CidrIpv4: c }, 'NFS from application subnets')),
  });
  // The watch subnets hold only the Logs and GuardDuty data endpoints (infra/platform/network-stack.ts);
  // the quarantine ACL admits HTTPS to them and their answers, and nothing else.
  const watchSubnets = azs.map((az, i) =>
    model.ec2.createSubnet({
      vpcId: vpc.VpcId,
      cidr: block(vpcBase, 24, 112 + i),
      availabilityZone: az,
      tags: envTags(Component.network, { Name: `bulkhead-${env}-watch` }),
    }),
  );
  const quarantineAcl = model.ec2.createNetworkAcl({
    vpcId: vpc.VpcId,
    entries: [
      // The load balancer's health checks (infra/platform/network-stack.ts quarantineAclFor).
      ...publicSubnets.flatMap((p, i): NetworkAclEntryRecord[] => [
        {
          RuleNumber: 200 + i,
          Protocol: '6',
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: p.CidrBlock,
          PortRange: { From: port, To: port },
        },
        {
          RuleNumber: 200 + i,
          Protocol: '6',
          RuleAction: 'allow',
          Egress: true,
          CidrBlock: p.CidrBlock,
          PortRange: { From: 1024, To: 65535 },
        },
      ]),
      ...watchSubnets.flatMap((w, i): NetworkAclEntryRecord[] => [
        {
          RuleNumber: 100 + i,
          Protocol: '6',
          RuleAction: 'allow',
          Egress: true,
          CidrBlock: w.CidrBlock,
          PortRange: { From: 443, To: 443 },
        },
        {
          RuleNumber: 100 + i,
          Protocol: '6',
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: w.CidrBlock,
          PortRange: { From: 1024, To: 65535 },
        },
      ]),
      ...denyAllEntries(),
    ],
    tags: envTags(Component.quarantineAcl, { Name: `bulkhead-${env}-quarantine` }),
  });

  const logsEndpoint = model.ec2.createNetworkInterface({
    subnetId: (watchSubnets[0] as { SubnetId: string }).SubnetId,
    groups: [logsSg.GroupId],
    description: 'VPC Endpoint Interface (CloudWatch Logs)',
    interfaceType: 'vpc_endpoint',
    requesterManaged: true,
  });
  const database = model.ec2.createNetworkInterface({
    subnetId: (privateSubnets[0] as { SubnetId: string }).SubnetId,
    groups: [dbSg.GroupId],
    description: 'RDSNetworkInterface',
    requesterManaged: true,
  });

  // ---- shared services --------------------------------------------------------------
  const evidenceBucket = `bulkhead-${env}-evidence-${account}`;
  // (S3 buckets, SNS topics and state machines carry no tags in the model.)
  model.s3.createBucket(evidenceBucket, { objectLock: { mode: 'COMPLIANCE', days: 365 } });
  const opsTopicArn = model.sns.createTopic(`bulkhead-${env}-ops`);
  const stateMachineArn = model.sfn.createStateMachine(`bulkhead-${env}-incident`);
  const backupVaultName = `bulkhead-${env}`;
  model.backup.createVault(backupVaultName);
  const fileSystemId = `fs-${model.ids.hex(17)}`;
  const fileSystemArn = `arn:aws:elasticfilesystem:${region}:${account}:file-system/${fileSystemId}`;

  // ---- cells ----------------------------------------------------------------------
  const cells: Record<string, CellHandles> = {};
  for (const cellId of [...new Set(input.sites.map((s) => s.cell))]) {
    const lbSg = model.ec2.createSecurityGroupWithRules({
      name: `bulkhead-${env}-${cellId}-lb`,
      vpcId: vpc.VpcId,
      tags: envTags(Component.loadBalancerSecurityGroup, { [TAG_CELL]: cellId }),
      ingress: [
        tcp(80, { CidrIpv4: '0.0.0.0/0' }, 'HTTP from anywhere'),
        tcp(443, { CidrIpv4: '0.0.0.0/0' }, 'HTTPS from anywhere'),
      ],
      egress: appCidrs.map((c) => tcp(port, { CidrIpv4: c }, 'To site tasks')),
    });
    const cluster = model.ecs.createCluster({
      name: `bulkhead-${env}-${cellId}`,
      tags: ecsTags(envTags(Component.cluster, { [TAG_CELL]: cellId })),
    });
    const lbName = `bh-${env}-${cellId}`.slice(0, 32);
    const lb = model.elbv2.createLoadBalancer({
      name: lbName,
      subnetIds: publicSubnets.map((s) => s.SubnetId),
      securityGroups: [lbSg.GroupId],
      tags: envTags(Component.loadBalancer, { [TAG_CELL]: cellId }),
    });
    const listener = model.elbv2.createListener({
      loadBalancerArn: lb.LoadBalancerArn,
      port: 80,
      defaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not found' },
        },
      ],
      tags: envTags(Component.listener, { [TAG_CELL]: cellId }),
    });
    cells[cellId] = {
      cellId,
      clusterArn: cluster.clusterArn,
      clusterName: cluster.clusterName,
      loadBalancerArn: lb.LoadBalancerArn,
      loadBalancerName: lbName,
      listenerArn: listener.ListenerArn,
      lbSecurityGroupId: lbSg.GroupId,
    };
  }

  // ---- sites ------------------------------------------------------------------------
  const sites: Record<string, SiteHandles> = {};
  const priorities = new Map<string, number>();
  let siteSlot = 0;
  for (const site of input.sites) {
    const cell = cells[site.cell] as CellHandles;
    const id = site.id;
    const isolation = site.isolation ?? 'standard';
    const internetEgress = site.internetEgress ?? false;
    const name = `bulkhead-${env}-${id}`;
    const response = {
      policy: site.response?.policy ?? 'contain',
      severityThreshold: site.response?.severityThreshold ?? 7,
      forensicHoldMinutes: site.response?.forensicHoldMinutes ?? 30,
      autoRestore: site.response?.autoRestore ?? false,
      approvalTimeoutHours: site.response?.approvalTimeoutHours ?? 24,
    } as const;
    const contact = site.contact ?? `webmaster@${id}.example.com`;

    let subnetIds = privateSubnets.map((s) => s.SubnetId);
    let siteAclId: string | undefined;
    const aclAssociationIds: string[] = [];
    if (!site.sharedSubnets) {
      // Every site: its own subnets (one per AZ) and its own ACL (infra/site/site-compartment.ts ownSubnets).
      const own = azs.map((az, i) =>
        model.ec2.createSubnet({
          vpcId: vpc.VpcId,
          cidr: block(upperHalf, 26, siteSlot * azCount + i),
          availabilityZone: az,
          tags: siteTags(id, Component.subnet),
        }),
      );
      siteSlot++;
      const entries: NetworkAclEntryRecord[] =
        isolation === 'strict'
          ? [
              { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: vpcCidr },
              { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: vpcCidr },
              {
                RuleNumber: 110,
                Protocol: '6',
                RuleAction: 'allow',
                Egress: false,
                CidrBlock: '0.0.0.0/0',
                PortRange: { From: 1024, To: 65535 },
              },
              {
                RuleNumber: 110,
                Protocol: '6',
                RuleAction: 'allow',
                Egress: true,
                CidrBlock: '0.0.0.0/0',
                PortRange: { From: 443, To: 443 },
              },
              ...denyAllEntries(),
            ]
          : [
              { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' },
              { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' },
              ...denyAllEntries(),
            ];
      const acl = model.ec2.createNetworkAcl({
        vpcId: vpc.VpcId,
        entries,
        tags: siteTags(id, Component.networkAcl),
      });
      siteAclId = acl.NetworkAclId;
      for (const s of own) aclAssociationIds.push(model.ec2.associateAcl(s.SubnetId, acl.NetworkAclId));
      subnetIds = own.map((s) => s.SubnetId);
    }

    const egress: RuleSpec[] = [
      tcp(3306, { ReferencedGroupId: dbSg.GroupId }, 'MySQL'),
      tcp(443, { ReferencedGroupId: endpointsSg.GroupId }, 'VPC endpoints'),
      tcp(443, { ReferencedGroupId: logsSg.GroupId }, 'CloudWatch Logs endpoint'),
      tcp(443, { PrefixListId: s3PrefixListId }, 'S3 gateway endpoint'),
      tcp(2049, { ReferencedGroupId: efsSg.GroupId }, 'EFS'),
    ];
    if (internetEgress) egress.push(tcp(443, { CidrIpv4: '0.0.0.0/0' }, 'HTTPS to the internet'));
    const sg = model.ec2.createSecurityGroupWithRules({
      name,
      description: `Bulkhead site ${id}`,
      vpcId: vpc.VpcId,
      tags: siteTags(id, Component.siteSecurityGroup),
      ingress: [tcp(port, { ReferencedGroupId: cell.lbSecurityGroupId }, 'From the cell load balancer')],
      egress,
    });
    const standby = model.ec2.createSecurityGroupWithRules({
      name: `${name}-standby`,
      description: `Bulkhead site ${id} (standby)`,
      vpcId: vpc.VpcId,
      tags: siteTags(id, Component.siteStandbySecurityGroup),
      ingress: [tcp(port, { ReferencedGroupId: cell.lbSecurityGroupId }, 'From the cell load balancer')],
      egress,
    });

    const tg = model.elbv2.createTargetGroup({
      name: `bh-${env}-${id}`.slice(0, 32),
      vpcId: vpc.VpcId,
      port,
      healthCheck: input.healthCheck,
      deregistrationDelaySeconds: input.deregistrationDelaySeconds,
      tags: siteTags(id, Component.targetGroup),
    });
    const used = priorities.get(site.cell) ?? 0;
    const priority = site.priority ?? used + 10;
    priorities.set(site.cell, Math.max(used, priority));
    const domains = site.domains ?? [`${id}.example.com`];
    const rule = model.elbv2.addRule({
      listenerArn: cell.listenerArn,
      priority,
      conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: domains } }],
      actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
      tags: siteTags(id, Component.listenerRule),
    });

    // As the site stack makes it: a task role with its own permissions boundary (infra/site/site-compartment.ts).
    const role = model.iam.createRole({
      name: `${name}-task`,
      tags: siteTags(id, Component.taskRole),
      permissionsBoundary: `arn:aws:iam::${account}:policy/${siteTaskRoleBoundaryName(env, region, id)}`,
    });
    const secret = model.secretsManager.seedSecret({
      name: `bulkhead/${env}/sites/${id}/database`,
      value: JSON.stringify({
        // As the site stack writes it (infra/config/load-fleet.ts databaseNames).
        username: `site_${id.replaceAll('-', '_')}`,
        password: `seed-${id}`,
        dbname: `wp_${id.replaceAll('-', '_')}`,
      }),
      tags: siteTags(id, Component.secret),
    });
    const logGroupName = `/bulkhead/${env}/sites/${id}`;
    model.logs.createLogGroup(logGroupName);
    // The site's own notice topic, as its stack makes it (infra/shared/contract.ts siteNoticeTopicName).
    const contactTopicArn = model.sns.createTopic(siteNoticeTopicName(env, id));
    const alarmArns = SITE_ALARM_KINDS.map((kind) =>
      model.cloudwatch.createAlarm(siteAlarmName(env, id, kind), { tags: siteTags(id, Component.alarm) }),
    );

    const digest = createHash('sha256').update(`image:${id}`).digest('hex');
    const image = site.image ?? `${account}.dkr.ecr.${region}.amazonaws.com/bulkhead/${id}@sha256:${digest}`;
    const td = model.ecs.registerTaskDefinition({
      family: name,
      taskRoleArn: role.Arn,
      executionRoleArn: `arn:aws:iam::${account}:role/bulkhead-${env}-execution`,
      cpu: '512',
      memory: '1024',
      containerDefinitions: [
        {
          name: 'wordpress',
          image,
          essential: true,
          readonlyRootFilesystem: true,
          user: '33:33',
          portMappings: [{ containerPort: port, protocol: 'tcp' }],
          secrets: [{ name: 'WORDPRESS_DB', valueFrom: secret.ARN }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': logGroupName, 'awslogs-region': region, 'awslogs-stream-prefix': 'wordpress' },
          },
        },
      ],
      tags: ecsTags(siteTags(id, Component.taskDefinition)),
    });
    const service = model.ecs.createService({
      cluster: cell.clusterArn,
      name: id,
      taskDefinition: td.taskDefinitionArn,
      desiredCount: site.desiredCount ?? 1,
      subnets: subnetIds,
      securityGroups: [sg.GroupId],
      loadBalancers: [{ targetGroupArn: tg.TargetGroupArn, containerName: 'wordpress', containerPort: port }],
      propagateTags: 'SERVICE',
      enableECSManagedTags: true,
      healthCheckGracePeriodSeconds: site.healthCheckGracePeriodSeconds ?? 60,
      // As the site stack configures it (infra/site/site-compartment.ts: circuitBreaker { rollback: true }).
      circuitBreaker: { enable: true, rollback: true },
      tags: ecsTags(
        siteTags(id, Component.service, {
          [TAG_ISOLATION]: isolation,
          [TAG_RESPONSE_POLICY]: response.policy,
          [TAG_SEVERITY_THRESHOLD]: String(response.severityThreshold),
          [TAG_SECURITY_GROUP]: sg.GroupId,
          [TAG_LISTENER_RULE]: rule.RuleArn,
        }),
      ),
      running: true,
    });
    const taskArns = model.ecs.tasksOf(service.serviceArn, 'RUNNING').map((t) => t.taskArn);
    if (input.seedLogs ?? true) {
      for (const arn of taskArns) {
        const taskId = arn.split('/').pop();
        model.logs.seedEvents(logGroupName, `wordpress/wordpress/${taskId}`, [
          {
            message: `[${id}] AH00558: apache2: Could not reliably determine the server's fully qualified domain name`,
          },
          { message: `[${id}] 10.40.0.10 - - "GET / HTTP/1.1" 200 5123` },
          { message: `[${id}] 10.40.0.10 - - "GET /wp-login.php HTTP/1.1" 200 4471` },
        ]);
      }
    }

    const accessPointArn = `arn:aws:elasticfilesystem:${region}:${account}:access-point/fsap-${model.ids.hex(17)}`;
    const [repository = image, digestRef = ''] = image.split('@');
    const record: SiteRecord = {
      version: 1,
      environment: env,
      site: id,
      cell: site.cell,
      securityGroupId: sg.GroupId,
      standbySecurityGroupId: standby.GroupId,
      listenerArn: cell.listenerArn,
      listenerRuleArn: rule.RuleArn,
      targetGroupArn: tg.TargetGroupArn,
      taskRoleArn: role.Arn,
      taskRoleName: role.RoleName,
      clusterArn: cell.clusterArn,
      serviceName: service.serviceName,
      taskDefinitionFamily: td.family,
      logGroupName,
      secretArn: secret.ARN,
      accessPointArn,
      fileSystemArn,
      containerPort: port,
      isolation,
      ...(siteAclId ? { networkAclId: siteAclId, subnetIds } : {}),
      image: { repository, digest: digestRef },
      contact,
      noticeTopicArn: contactTopicArn,
      response,
    };
    const siteRecordParameter = siteRecordParameterName(env, id);
    model.ssm.seedParameter(siteRecordParameter, JSON.stringify(record), siteTags(id, Component.siteRecord));

    sites[id] = {
      siteId: id,
      cell: site.cell,
      environment: env,
      isolation,
      internetEgress,
      containerPort: port,
      securityGroupId: sg.GroupId,
      standbySecurityGroupId: standby.GroupId,
      clusterArn: cell.clusterArn,
      clusterName: cell.clusterName,
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      taskDefinitionArn: td.taskDefinitionArn,
      family: td.family,
      image,
      targetGroupArn: tg.TargetGroupArn,
      listenerArn: cell.listenerArn,
      listenerRuleArn: rule.RuleArn,
      priority,
      domains,
      taskRoleName: role.RoleName,
      taskRoleArn: role.Arn,
      secretArn: secret.ARN,
      secretName: secret.Name,
      logGroupName,
      contactTopicArn,
      accessPointArn,
      siteRecordParameter,
      alarmArns,
      subnetIds,
      siteAclId,
      aclAssociationIds,
      taskArns,
    };
  }

  const fleet: FleetHandles = {
    environment: env,
    vpcId: vpc.VpcId,
    vpcCidr,
    publicSubnetIds: publicSubnets.map((s) => s.SubnetId),
    privateSubnetIds: privateSubnets.map((s) => s.SubnetId),
    dbSecurityGroupId: dbSg.GroupId,
    endpointsSecurityGroupId: endpointsSg.GroupId,
    logsEndpointSecurityGroupId: logsSg.GroupId,
    efsSecurityGroupId: efsSg.GroupId,
    s3PrefixListId,
    quarantineAclId: quarantineAcl.NetworkAclId,
    watchSubnetIds: watchSubnets.map((w) => w.SubnetId),
    logsEndpointIp: logsEndpoint.PrivateIpAddress,
    databaseIp: database.PrivateIpAddress,
    evidenceBucket,
    opsTopicArn,
    stateMachineArn,
    backupVaultName,
    fileSystemArn,
    cells,
    sites,
  };
  model.ecs.flushEvents();
  model.fleet = fleet;
  model.fleets[fleet.environment] = fleet;
  return fleet;
}
