import { Duration, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { CellConfig, FleetConfig } from '../config/load-fleet';
import { type CellExportKey, cellClusterName } from '../../contracts/names';
import { exportCellValues } from '../shared/stack-exports';
import { GUARDDUTY_MANAGED_TAG } from '../../contracts/guardduty';
import { Component, TAG_CELL, tagComponent } from '../shared/tags';
import { CellFirewall } from './cell-firewall';

export interface CellStackProps extends StackProps {
  /** The validated fleet. */
  readonly fleet: FleetConfig;
  /** The cell this stack builds. */
  readonly cell: CellConfig;
  /** The VPC the cell runs in: the platform's, or the cell's own (`cells[].network.cidr`). */
  readonly vpc: ec2.IVpc;
  /** Prefix list of the subnets site tasks run in. */
  readonly appSubnets: ec2.IPrefixList;
  /** Bucket that receives the load balancer's access logs. */
  readonly accessLogs: s3.IBucket;
}

/**
 * A cell: one ECS cluster and one internet-facing load balancer for at most ~90 sites (an
 * ALB holds 100 rules and 100 target groups, not raisable). The load balancer's group sends
 * only to the app subnets on the container port: one rule, whatever the number of sites.
 * Sites attach their own listener rules and target groups from their own stacks.
 */
export class CellStack extends Stack {
  readonly cluster: ecs.Cluster;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly listener: elbv2.ApplicationListener;
  readonly firewall: CellFirewall;

  constructor(scope: Construct, id: string, props: CellStackProps) {
    super(scope, id, props);
    const { fleet, cell, vpc } = props;
    Tags.of(this).add(TAG_CELL, cell.id);

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      clusterName: cellClusterName(fleet.environment, cell.id),
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    tagComponent(this.cluster, Component.cluster);
    // Covered by GuardDuty's automated agent whether the account manages it for all clusters
    // or per cluster (contracts/guardduty.ts).
    Tags.of(this.cluster).add(GUARDDUTY_MANAGED_TAG, 'true');

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: `Bulkhead cell ${cell.id} load balancer: web in, container port out to app subnets only`,
    });
    for (const port of [80, 443]) {
      this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `Web traffic on ${port}`);
    }
    this.loadBalancerSecurityGroup.addEgressRule(
      ec2.Peer.prefixList(props.appSubnets.prefixListId),
      ec2.Port.tcp(fleet.containerPort),
      'To site tasks on the container port (each site admits only this group)',
    );
    tagComponent(this.loadBalancerSecurityGroup, Component.loadBalancerSecurityGroup);
    Validations.of(this.loadBalancerSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'An internet-facing load balancer for public websites must accept HTTP/HTTPS from anywhere.',
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.loadBalancerSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: true,
      idleTimeout: Duration.seconds(60),
    });
    this.loadBalancer.logAccessLogs(props.accessLogs, `cells/${cell.id}`);
    tagComponent(this.loadBalancer, Component.loadBalancer);

    const notFound = elbv2.ListenerAction.fixedResponse(404, {
      contentType: 'text/plain',
      messageBody: 'No site is configured for this host name.',
    });
    // HTTPS from the first deploy. The listener never changes as sites come and go: each site
    // adds its own certificate to it by SNI from its own stack (infra/site/site-compartment.ts);
    // the cell's certificate is only the default, for clients without SNI or unknown hosts.
    if (!cell.certificateArn) {
      throw new Error(`cell ${cell.id} has no certificateArn (the fleet check requires one)`);
    }
    this.listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(cell.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultAction: notFound,
      open: false,
    });
    this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    tagComponent(this.listener, Component.listener);

    // AWS WAF in front of the cell's sites: managed rules for WordPress and a rate limit per site
    // (infra/platform/cell-firewall.ts). Its rules are the cell's sites': adding a site to a cell
    // updates the cell's web ACL too (docs/design.md).
    this.firewall = new CellFirewall(this, 'Firewall', {
      environment: fleet.environment,
      cellId: cell.id,
      sites: fleet.sites.filter((s) => cell.siteIds.includes(s.id)),
      loadBalancerArn: this.loadBalancer.loadBalancerArn,
    });

    const exports: Record<CellExportKey, string> = {
      clusterName: this.cluster.clusterName,
      clusterArn: this.cluster.clusterArn,
      listenerArn: this.listener.listenerArn,
      loadBalancerSecurityGroupId: this.loadBalancerSecurityGroup.securityGroupId,
      loadBalancerFullName: this.loadBalancer.loadBalancerFullName,
    };
    exportCellValues(this, fleet.environment, cell.id, exports);
  }
}
