import { SITE_ID_PATTERN } from './ids';

/**
 * GuardDuty Runtime Monitoring facts Bulkhead relies on, in one place. Dependency-free so
 * Lambda code (the coverage function) and the CLI (siteops doctor) can import it.
 *
 * On Fargate the GuardDuty security agent runs as a sidecar that GuardDuty adds to each new
 * task; the task execution role pulls it from GuardDuty's own Amazon ECR repository in the
 * region ("To further restrict the Amazon ECR permissions, you can add the Amazon ECR
 * repository URI that hosts the GuardDuty security agent for AWS Fargate (Amazon ECS only)":
 * https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html).
 */

/** The repository's name in every region. */
export const GUARDDUTY_AGENT_REPOSITORY = 'aws-guardduty-agent-fargate';

/**
 * The account that hosts the agent repository, per region, from "ECR Repository for GuardDuty
 * agent on AWS Fargate (Amazon ECS only)"
 * (https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html) and,
 * for AWS GovCloud (US), "GuardDuty in AWS GovCloud (US)". Only the regions whose entries were
 * read from the guide are listed; a fleet in another region is refused at synthesis with the
 * page to copy its entry from (GUARDDUTY_AGENT_DOCUMENTATION).
 */
export const GUARDDUTY_AGENT_ACCOUNTS: Readonly<Record<string, string>> = {
  'us-west-2': '733349766148',
  'eu-west-3': '665651866788',
  'ap-south-1': '251508486986',
  'ap-south-2': '950823858135',
  'ca-central-1': '354763396469',
  'me-central-1': '000014521398',
  'eu-west-2': '892757235363',
  'us-west-1': '684579721401',
  'us-east-1': '593207742271',
  'us-east-2': '307168627858',
  'eu-west-1': '694911143906',
  'sa-east-1': '758426053663',
  'eu-north-1': '591436053604',
  'eu-central-1': '323658145986',
  'eu-central-2': '529164026651',
  'ap-southeast-1': '174946120834',
  'ap-southeast-2': '005257825471',
  'us-gov-east-1': '383115532789',
  'us-gov-west-1': '383110348953',
};

/** The GuardDuty page that lists the agent repository's account per region (named by UnknownGuardDutyRegionError's message). */
export const GUARDDUTY_AGENT_DOCUMENTATION =
  'https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html';

/** ECR actions the execution role needs to pull an image (the guide's list, less GetAuthorizationToken, which takes `*`). */
export const ECR_PULL_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'];

/**
 * The cluster tag GuardDuty reads: "GuardDutyManaged: true" includes a cluster in automated
 * agent configuration when the account manages the agent per cluster, and "false" excludes it
 * when the account manages it for all clusters
 * (https://docs.aws.amazon.com/guardduty/latest/ug/managing-gdu-agent-ecs-automated.html).
 * Bulkhead's clusters carry `true`, so they are covered under either approach.
 */
export const GUARDDUTY_MANAGED_TAG = 'GuardDutyManaged';

/** The EventBridge detail-types of coverage changes (Amazon EventBridge events reference, GuardDuty). */
export const COVERAGE_UNHEALTHY = 'GuardDuty Runtime Protection Unhealthy';
/** The detail-type of a coverage change back to healthy (the response stack's coverage rule, runtime/coverage). */
export const COVERAGE_HEALTHY = 'GuardDuty Runtime Protection Healthy';

/** Thrown by guardDutyAgentRepositoryArn for a region whose agent account is not listed here (synthesis stops). */
export class UnknownGuardDutyRegionError extends Error {
  override readonly name = 'UnknownGuardDutyRegionError';
}

/** The agent repository's ARN in a region, or an error naming the page to copy it from. */
export function guardDutyAgentRepositoryArn(region: string, partition = 'aws'): string {
  const account = GUARDDUTY_AGENT_ACCOUNTS[region];
  if (!account) {
    throw new UnknownGuardDutyRegionError(
      `GuardDuty's agent repository for ${region} is not in contracts/guardduty.ts: add the account of "${GUARDDUTY_AGENT_REPOSITORY}" for ${region} from ${GUARDDUTY_AGENT_DOCUMENTATION}`,
    );
  }
  return `arn:${partition}:ecr:${region}:${account}:repository/${GUARDDUTY_AGENT_REPOSITORY}`;
}

/** Site ids the issue texts point at: task families `bulkhead-<env>-<id>` and service names. */
export function candidateSites(environment: string, texts: readonly string[]): string[] {
  const family = new RegExp(
    `(?:task-definition/)?bulkhead-${environment.replace(/[-]/g, '\\-')}-([a-z0-9-]{2,24}?)(?::\\d+)?(?=['"\\s,;)]|$)`,
    'g',
  );
  const found = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(family)) if (m[1] && SITE_ID_PATTERN.test(m[1])) found.add(m[1]);
    for (const m of text.matchAll(/service name\(s\):\s*'([^']*)'/gi)) {
      for (const name of (m[1] ?? '').split(/[,\s]+/)) if (SITE_ID_PATTERN.test(name)) found.add(name);
    }
    for (const m of text.matchAll(/Service '([^']*)'/g)) if (m[1] && SITE_ID_PATTERN.test(m[1])) found.add(m[1]);
  }
  return [...found].sort();
}

/**
 * GuardDuty Extended Threat Detection's attack sequence about an ECS cluster (GuardDuty User
 * Guide, "GuardDuty attack sequence finding types": "AttackSequence:ECS/CompromisedCluster ...
 * A sequence of suspicious actions performed by potentially compromised Amazon ECS cluster.
 * Default severity: Critical"). Its resources are in `service.detection.sequence.resources`
 * (the API reference's `Service.Detection.Sequence`, `ResourceV2`).
 */
export const ECS_ATTACK_SEQUENCE_TYPE = 'AttackSequence:ECS/CompromisedCluster';
/**
 * `resource.resourceType` of an attack sequence finding. Not an enum member of the API
 * reference (`Resource.ResourceType` is a free string); AWS's sample attack sequence findings
 * carry `"resource": {"resourceType": "AttackSequence"}` with `service.featureName`
 * `"Correlation"`, as EventBridge delivers them (the test findings of Panther's managed rule
 * `AWS.GuardDuty.CriticalSeverityFinding`, panther-labs/pypanther: AttackSequence:IAM and :S3
 * findings from 2025). No public sample of an ECS attack sequence was found.
 */
export const ATTACK_SEQUENCE_RESOURCE_TYPE = 'AttackSequence';
