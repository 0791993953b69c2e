import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { type SiteRecord, siteRecordParameterName } from '../../contracts/site-record';

const siteRecordSchema = z
  .object({
    version: z.literal(1),
    environment: z.string(),
    site: z.string(),
    cell: z.string(),
    securityGroupId: z.string().regex(/^sg-[0-9a-f]+$/),
    standbySecurityGroupId: z
      .string()
      .regex(/^sg-[0-9a-f]+$/)
      .optional(),
    listenerArn: z.string(),
    listenerRuleArn: z.string(),
    targetGroupArn: z.string(),
    taskRoleArn: z.string(),
    taskRoleName: z.string(),
    clusterArn: z.string(),
    serviceName: z.string(),
    taskDefinitionFamily: z.string(),
    logGroupName: z.string(),
    secretArn: z.string(),
    accessPointArn: z.string(),
    fileSystemArn: z.string(),
    containerPort: z.coerce.number().int(),
    isolation: z.enum(['standard', 'strict']),
    networkAclId: z.string().optional(),
    subnetIds: z.array(z.string()).optional(),
    quarantineAclId: z
      .string()
      .regex(/^acl-[0-9a-f]+$/)
      .optional(),
    logsEndpointSecurityGroupId: z
      .string()
      .regex(/^sg-[0-9a-f]+$/)
      .optional(),
    image: z.object({ repository: z.string(), digest: z.string() }),
    contact: z.string(),
    noticeTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/)
      .optional(),
    response: z.object({
      policy: z.enum(['contain', 'shed', 'notify']),
      severityThreshold: z.coerce.number(),
      forensicHoldMinutes: z.coerce.number().int(),
      autoRestore: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]),
      approvalTimeoutHours: z.coerce.number().int().min(1).max(168).optional(),
    }),
  })
  .loose();

/** A site record that is missing or unreadable. */
export class SiteRecordError extends Error {
  override readonly name = 'SiteRecordError';
  constructor(
    readonly site: string,
    readonly reason: 'missing' | 'malformed' | 'foreign',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Reads `/bulkhead/<env>/sites/<site>` (one call) and checks it belongs to this site and environment. */
export async function loadSiteRecord(ssm: SSMClient, environment: string, site: string): Promise<SiteRecord> {
  const name = siteRecordParameterName(environment, site);
  let value: string | undefined;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound || (error as Error).name === 'ParameterNotFound') {
      throw new SiteRecordError(
        site,
        'missing',
        `no site record ${name}: ${site} is not a deployed Bulkhead site in ${environment}`,
        { cause: error },
      );
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '');
  } catch (error) {
    throw new SiteRecordError(site, 'malformed', `site record ${name} is not JSON`, { cause: error });
  }
  const record = siteRecordSchema.safeParse(parsed);
  if (!record.success) {
    throw new SiteRecordError(
      site,
      'malformed',
      `site record ${name} is malformed: ${record.error.issues[0]?.message ?? ''}`,
    );
  }
  if (record.data.site !== site || record.data.environment !== environment) {
    throw new SiteRecordError(
      site,
      'foreign',
      `site record ${name} names ${record.data.site} in ${record.data.environment}`,
    );
  }
  return record.data as SiteRecord;
}

/** What a site's listener rule does when the site serves: forward to its target group. */
export function siteForwardActions(record: Pick<SiteRecord, 'targetGroupArn'>): Action[] {
  return [{ Type: 'forward', TargetGroupArn: record.targetGroupArn }];
}

/**
 * The actions to put back on a site's listener rule: the saved ones, or, when none were saved
 * (the rule already answered a fixed response when the site was contained, and incidents
 * saved before that was handled), the site's own forward action from its record. Never an
 * empty list: ELB refuses a rule without a forward, fixed-response or redirect action.
 */
export function actionsToPutBack(
  saved: { readonly actions?: readonly Action[] } | undefined,
  record: Pick<SiteRecord, 'targetGroupArn'>,
): Action[] {
  return saved?.actions?.length ? [...saved.actions] : siteForwardActions(record);
}
