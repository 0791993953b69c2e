import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DIGEST_SORT_PREFIX, imageLedgerKey, sitePartition } from '../../contracts/incident-table';
import { TAG_ENV, TAG_SITE } from '../../contracts/tag-names';
import { LedgerError } from './errors';

export { LedgerError };

/**
 * The ledger of images: per site, every digest that went live, when, and what is known
 * about it. Items live in the incident table as `SITE#<site>` / `DIGEST#<digest>`.
 * A digest is known-good when an operator marked it, or when it had run `goodAfter`
 * (default 24 h) before the incident being restored was detected; a digest seen in an
 * incident is suspect and is never chosen automatically.
 */

export const DEFAULT_GOOD_AFTER_MS = 24 * 60 * 60 * 1000;
const DIGEST = /@(sha256:[0-9a-f]{64})$/;

export interface LedgerEntry {
  readonly site: string;
  readonly digest: string;
  readonly repository: string;
  readonly firstLiveAt: string;
  readonly lastLiveAt: string;
  readonly deployments: number;
  readonly status?: 'known-good' | 'suspect';
  readonly markedBy?: string;
  readonly suspectIncidentId?: string;
}

export class Ledger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Records that `image` (repository@digest) went live for a site at `at`. Idempotent per digest. */
  async recordLive(site: string, image: string, at: string): Promise<LedgerEntry> {
    const match = DIGEST.exec(image);
    if (!match) throw new LedgerError(`image ${image} is not pinned by digest; the ledger records digests only`);
    const digest = match[1] as string;
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: imageLedgerKey(site, digest),
        UpdateExpression:
          'SET site = :site, digest = :digest, repository = :repo, firstLiveAt = if_not_exists(firstLiveAt, :at), lastLiveAt = :at ADD deployments :one',
        ExpressionAttributeValues: {
          ':site': site,
          ':digest': digest,
          ':repo': image.slice(0, -(digest.length + 1)),
          ':at': at,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes as LedgerEntry;
  }

  /** Marks a digest seen in an incident: never chosen again automatically. */
  async markSuspect(site: string, digest: string, incidentId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: imageLedgerKey(site, digest),
        UpdateExpression:
          'SET #status = :suspect, suspectIncidentId = if_not_exists(suspectIncidentId, :id), site = :site, digest = :digest',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':suspect': 'suspect', ':id': incidentId, ':site': site, ':digest': digest },
      }),
    );
  }

  /** An operator vouches for a digest. Refused for a suspect digest. */
  async markKnownGood(site: string, digest: string, by: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: imageLedgerKey(site, digest),
          UpdateExpression: 'SET #status = :good, markedBy = :by',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#status) OR #status <> :suspect)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':good': 'known-good', ':by': by, ':suspect': 'suspect' },
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') {
        throw new LedgerError(
          `${digest} is not a digest ${site} ran, or it is suspect (seen in an incident); it cannot be marked known-good`,
        );
      }
      throw error;
    }
  }

  async entries(site: string): Promise<LedgerEntry[]> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :digest)',
        ExpressionAttributeValues: { ':pk': sitePartition(site), ':digest': DIGEST_SORT_PREFIX },
        ConsistentRead: true,
      }),
    );
    return (result.Items ?? []) as LedgerEntry[];
  }
}

/** Why a digest was chosen (or why none could be). */
export type DigestChoice =
  | { readonly digest: string; readonly repository: string; readonly reason: string }
  | { readonly digest?: undefined; readonly reason: string };

/**
 * The digest to restore: the operator's choice (refused if suspect or unknown to the
 * ledger), or the newest known-good digest that went live before the incident was detected.
 */
export function chooseRestoreDigest(
  entries: readonly LedgerEntry[],
  options: { readonly detectedAt: string; readonly requested?: string; readonly goodAfterMs?: number },
): DigestChoice {
  if (options.requested) {
    const entry = entries.find((e) => e.digest === options.requested);
    if (!entry)
      return {
        reason: `${options.requested} is not a digest this site has run; restore only to a digest in its ledger`,
      };
    if (entry.status === 'suspect')
      return {
        reason: `${options.requested} is suspect (seen in incident ${entry.suspectIncidentId}); it is never restored`,
      };
    return { digest: entry.digest, repository: entry.repository, reason: 'chosen by the operator' };
  }
  const goodAfter = options.goodAfterMs ?? DEFAULT_GOOD_AFTER_MS;
  const detected = Date.parse(options.detectedAt);
  const candidates = entries
    .filter((e) => e.status !== 'suspect' && Date.parse(e.firstLiveAt) < detected)
    .filter((e) => e.status === 'known-good' || Date.parse(e.firstLiveAt) + goodAfter <= detected)
    .sort((a, b) => Date.parse(b.firstLiveAt) - Date.parse(a.firstLiveAt));
  const best = candidates[0];
  if (!best) {
    return {
      reason: `no known-good digest went live before ${options.detectedAt} (known-good: marked by an operator, or ran ${goodAfter / 3_600_000} h before the incident without being seen in one)`,
    };
  }
  return {
    digest: best.digest,
    repository: best.repository,
    reason:
      best.status === 'known-good'
        ? `marked known-good by ${best.markedBy}`
        : `ran since ${best.firstLiveAt}, ${goodAfter / 3_600_000} h or more before the incident`,
  };
}

/**
 * Called on an ECS "SERVICE_DEPLOYMENT_COMPLETED" event: records the image the service now
 * runs, if the service is one of this environment's sites.
 */
export async function recordDeploymentFromService(
  ecs: ECSClient,
  ledger: Ledger,
  environment: string,
  clusterArn: string,
  serviceArn: string,
  at: string,
): Promise<LedgerEntry | { ignored: string }> {
  const described = await ecs.send(
    new DescribeServicesCommand({ cluster: clusterArn, services: [serviceArn], include: ['TAGS'] }),
  );
  const service = described.services?.[0];
  const tags = Object.fromEntries((service?.tags ?? []).map((t) => [t.key, t.value]));
  const site = tags[TAG_SITE];
  if (!service?.taskDefinition || tags[TAG_ENV] !== environment || !site) {
    return { ignored: `service ${serviceArn} is not a site of ${environment}` };
  }
  const definition = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }));
  const image = definition.taskDefinition?.containerDefinitions?.find((c) => c.essential !== false)?.image;
  if (!image) return { ignored: `task definition ${service.taskDefinition} has no image` };
  return ledger.recordLive(site, image, at);
}
