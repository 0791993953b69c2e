import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { containHandler } from '../../runtime/contain/index';
import type { AuditItem } from '../../runtime/console/audit-log';
import {
  type ClaimedIdentity,
  type ConsoleResponse,
  DRILL_EVENT_BUS_ENV,
  drillEventBusName,
  type ResultMap,
} from '../../contracts/console-api';
import { type DrillEvent, deliveredEvent } from '../../runtime/console/drill';
import { consoleDeps, createConsoleRun } from '../../runtime/console/index';
import type { ConsoleDeps } from '../../runtime/console/console';
import { operatorRoleName } from '../../contracts/names';
import { callConsole, useConsole } from '../support/console-gateway';
import { type IncidentRecord, IncidentStore } from '../../runtime/shared/incident-store';
import type { CallRecord } from '../support/aws-model';
import type { SiteSnapshot } from '../support/aws-model';
import { type ResponseWorld, setUpResponseWorld, type WorldSite } from '../support/response-world';

/**
 * The response world (AWS model, seeded fleet, incident table) plus what the ops console
 * needs: its environment, a database-user function that accepts password changes, and (no
 * EventBridge in the model) a `putEvents` that does what the drill rule does: hand the event,
 * as EventBridge delivers it, to the containment function.
 */
export interface ConsoleWorld extends ResponseWorld {
  /** Drill events "put" so far, as delivered. */
  readonly delivered: ReturnType<typeof deliveredEvent>[];
  readonly dbUserCalls: unknown[];
  /** Replaces some of the console's dependencies from now on (they add up, as one console's would). */
  overrideConsole(replacements: Partial<ConsoleDeps>): void;
}

export const ALICE: ClaimedIdentity = { user: 'alice', host: 'ops-laptop', profile: 'bulkhead-ops', tool: 'siteops' };
/** Who the console records for the operator role's session `alice`: the verified session's ARN. */
export const ALICE_BY = `arn:aws:sts::123456789012:assumed-role/${operatorRoleName('test', 'eu-west-1')}/alice`;

export function setUpConsoleWorld(
  sites: readonly WorldSite[],
  options: { deliverDrills?: boolean } = {},
): ConsoleWorld {
  const world = setUpResponseWorld(sites);
  process.env.DB_USER_FUNCTION = 'bulkhead-test-db-user';
  process.env[DRILL_EVENT_BUS_ENV] = drillEventBusName(world.fleet.environment);
  const dbUserCalls: unknown[] = [];
  world.aws.lambda.register('bulkhead-test-db-user', (event: unknown) => {
    dbUserCalls.push(event);
    return { loginVerified: true };
  });
  const delivered: ReturnType<typeof deliveredEvent>[] = [];
  const overrides: Partial<ConsoleDeps> = {
    putEvents: async (event: DrillEvent) => {
      const envelope = deliveredEvent(event, {
        id: randomUUID(),
        account: world.aws.accountId,
        region: world.aws.region,
      });
      delivered.push(envelope);
      if (options.deliverDrills ?? true) await containHandler(envelope);
    },
    sleep: async () => undefined,
    drillPollMs: 1,
  };
  // The console over the environment's dependencies with these in place (no EventBridge in the model).
  const overrideConsole = (replacements: Partial<ConsoleDeps>) => {
    Object.assign(overrides, replacements);
    useConsole(createConsoleRun(() => ({ ...consoleDeps(), ...overrides })));
  };
  overrideConsole({});
  return { ...world, site: world.site.bind(world), delivered, dbUserCalls, overrideConsole };
}

let sequence = 0;

/**
 * Calls the console as siteops does: through its API as the operator role's session `alice`
 * (verified by API Gateway), with siteops' claim about its sender in the body.
 */
export async function invokeConsole(
  payload: Record<string, unknown>,
  /** `null`: no claim in the body. */
  identity: ClaimedIdentity | null = ALICE,
): Promise<ConsoleResponse> {
  sequence++;
  return callConsole(identity && !('identity' in payload) ? { ...payload, identity } : payload, {
    requestId: `req-${String(sequence).padStart(4, '0')}`,
  });
}

/** The result of a successful call (fails the test with the console's error otherwise). */
export async function ok<A extends keyof ResultMap>(
  payload: { action: A } & Record<string, unknown>,
  identity: ClaimedIdentity | null = ALICE,
): Promise<ResultMap[A]> {
  const response = await invokeConsole(payload, identity);
  if (!response.ok) throw new Error(`console refused ${payload.action}: ${JSON.stringify(response.error)}`);
  return response.result as ResultMap[A];
}

export function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
}

export function store(world: ResponseWorld): IncidentStore {
  return new IncidentStore(documentClient(), world.tableName);
}

/** Every audit item of today (and yesterday, should the test straddle midnight), oldest first. */
export async function auditItems(world: ResponseWorld): Promise<AuditItem[]> {
  const days = [new Date(Date.now() - 86_400_000), new Date()].map((d) => d.toISOString().slice(0, 10));
  const items: AuditItem[] = [];
  for (const day of days) {
    const page = await documentClient().send(
      new QueryCommand({
        TableName: world.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `AUDIT#${day}` },
      }),
    );
    items.push(...((page.Items ?? []) as AuditItem[]));
  }
  return items;
}

/** Mutating AWS calls other than the console's own audit records. */
export function mutatingCallsBesidesAudit(world: ResponseWorld): CallRecord[] {
  return world.aws
    .mutatingCalls()
    .filter((c) => !(c.service === 'DynamoDB' && JSON.stringify(c.input).includes('AUDIT#')));
}

/** What "exactly as before" means: every field, except ids AWS generates anew (rule and association ids). */
export function comparable(snapshot: SiteSnapshot) {
  const byKey = <T>(list: T[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    securityGroup: {
      groupId: snapshot.securityGroup.groupId,
      tags: snapshot.securityGroup.tags,
      ingress: byKey(snapshot.securityGroup.ingress),
      egress: byKey(snapshot.securityGroup.egress),
    },
    acl: byKey(snapshot.aclAssociations.map((a) => ({ subnetId: a.subnetId, networkAclId: a.networkAclId }))),
    listenerRule: snapshot.listenerRule,
    targetGroupAttached: snapshot.targetGroup.attached,
    role: snapshot.role,
    secret: snapshot.secret,
    service: { desiredCount: snapshot.service.desiredCount, taskDefinition: snapshot.service.taskDefinition },
  };
}

/**
 * `count` closed incidents spread over the seeded sites, one a minute from 2025-01-01, each
 * with `steps` timeline steps, written as IncidentStore.putIncident writes them (keys and the
 * bySite index) straight into the table; returns their ids newest first.
 */
export function seedIncidents(world: ResponseWorld, count: number, steps: number): string[] {
  const sites = Object.keys(world.fleet.sites);
  const start = Date.parse('2025-01-01T00:00:00Z');
  const incidents: IncidentRecord[] = Array.from({ length: count }, (_, i) => {
    const site = sites[i % sites.length] as string;
    const at = new Date(start + i * 60_000).toISOString();
    return {
      incidentId: `${at.replace(/[-:.]/g, '')}-${site}-${String(i).padStart(4, '0')}`,
      site,
      environment: world.fleet.environment,
      status: 'CLOSED',
      policy: 'contain',
      drill: false,
      detectedAt: at,
      receivedAt: at,
      firstTrigger: `finding#${i}`,
      steps: Array.from({ length: steps }, (_, n) => ({
        step: `step-${n}`,
        outcome: 'done' as const,
        at,
        detail: `a step of a long incident: ${'x'.repeat(180)}`,
      })),
    };
  });
  world.aws.dynamodb.seedItems(
    world.tableName,
    incidents.map((incident) =>
      marshall(
        {
          pk: `INCIDENT#${incident.incidentId}`,
          sk: 'META',
          gsi1pk: `SITE#${incident.site}`,
          gsi1sk: `${incident.detectedAt}#${incident.incidentId}`,
          ...incident,
        },
        { removeUndefinedValues: true },
      ),
    ),
  );
  return incidents.map((i) => i.incidentId).reverse();
}
