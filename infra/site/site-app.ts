import { type App, Aspects, type Environment, type IAspect, Tags, Validations } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FleetConfig, SiteConfig } from '../config/load-fleet';
import { StackName } from '../../contracts/names';
import { TAG_ENV } from '../shared/tags';
import { SiteStack } from './site-stack';

/**
 * The part of the app every synthesis needs (and `-c site=<id>` needs nothing else): the
 * environment tag, cdk-nag, and site stacks. Kept apart from the platform and response
 * stacks so a one-site synthesis does not even load their code.
 */

/**
 * CloudFormation's schemas of AWS::ElasticLoadBalancingV2::Listener and ::ListenerRule have no
 * `Tags` (cfn-lint E3002: "Additional properties are not allowed ('Tags' was unexpected)"),
 * though CDK renders the tags it applies to them, so a deploy would be refused. The response
 * plane finds rules by their listener and target group instead (README, "The tag contract").
 */
class NoTagsWhereCloudFormationHasNone implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof elbv2.CfnListener || node instanceof elbv2.CfnListenerRule) {
      node.addPropertyDeletionOverride('Tags');
    }
  }
}

/** Thrown for a `-c site=<id>` that names no site in the fleet. */
export class UnknownSiteError extends Error {
  override readonly name = 'UnknownSiteError';
}

/** The stacks' environment: the fleet's account and region when it names either, else none (environment-agnostic). */
export function stackEnvironment(fleet: FleetConfig): Environment | undefined {
  return fleet.account || fleet.region ? { account: fleet.account, region: fleet.region } : undefined;
}

/** Tags the app with the environment and (unless turned off) adds cdk-nag's AwsSolutions pack. */
export function prepareApp(app: App, fleet: FleetConfig, nag = true): void {
  Tags.of(app).add(TAG_ENV, fleet.environment);
  Aspects.of(app).add(new NoTagsWhereCloudFormationHasNone());
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** Adds one site's stack (`StackName.site`) to the app. */
export function addSiteStack(app: App, fleet: FleetConfig, site: SiteConfig): SiteStack {
  return new SiteStack(app, StackName.site(fleet.environment, site.id), {
    env: stackEnvironment(fleet),
    fleet,
    site,
    description: `Bulkhead ${fleet.environment}: site ${site.id} (cell ${site.cell})`,
  });
}

/** `-c site=<id>`: that site's stack alone. */
export function addSingleSite(
  app: App,
  fleet: FleetConfig,
  siteId: string,
  options: {
    /**
     * Whether to add cdk-nag's AwsSolutions pack.
     * @default true
     */
    nag?: boolean;
  } = {},
): SiteStack {
  const site = fleet.sites.find((s) => s.id === siteId);
  if (!site) {
    throw new UnknownSiteError(
      `-c site=${siteId}: no site with that id in ${fleet.source}. Sites: ${fleet.sites.map((s) => s.id).join(', ')}`,
    );
  }
  prepareApp(app, fleet, options.nag ?? true);
  return addSiteStack(app, fleet, site);
}
