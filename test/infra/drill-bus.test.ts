import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { drillEventBusName } from '../../contracts/console-api';
import { drillEvent } from '../../runtime/console/drill';
import { DRILL_DETAIL_TYPE, DRILL_SOURCE } from '../../runtime/contain/events';
import { containHandler } from '../../runtime/contain/index';
import { IncidentStore } from '../../runtime/shared/incident-store';
import { loadCloudAssembly } from '../../tools/audit';
import { PrincipalModel } from '../../tools/audit/access/principals';
import type { Statement } from '../../tools/audit/policy/evaluate';
import { awsManagedPolicyDocument } from '../../tools/audit/policy/managed-policies';
import { documentClient } from '../console/console-world';
import { type Caller, type PutEventsOutcome, patternMatches, TemplateEventBridge } from '../support/event-bridge';
import { type ResponseWorld, setUpResponseWorld } from '../support/response-world';
import { synthExample } from '../support/synth-fleet';

/**
 * Issue 15, item 2: anyone allowed events:PutEvents could quarantine any site with a fake drill
 * while the drill rule sat on the default bus. Drills now travel on `bulkhead-<env>-drills`, whose
 * policy admits only the console's role, and no rule of the default bus takes a drill. What a
 * PutEvents call sets off is decided from the synthesized templates (test/support/event-bridge.ts);
 * what a delivery does is the real containment handler against the AWS model.
 */

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ENV = 'example';

let bridge: TemplateEventBridge;
let principals: PrincipalModel;
let world: ResponseWorld | undefined;

beforeAll(() => {
  const assembly = loadCloudAssembly(synthExample().outdir);
  bridge = new TemplateEventBridge(assembly, ACCOUNT, REGION);
  principals = new PrincipalModel(bridge.inventory);
});
afterEach(() => {
  world?.aws.restore();
  world = undefined;
});

/** A principal of the account with AWS's PowerUserAccess: events:PutEvents on everything. */
function powerUser(): Caller {
  const document = awsManagedPolicyDocument('arn:aws:iam::aws:policy/PowerUserAccess') as { Statement: Statement[] };
  return {
    principal: {
      account: ACCOUNT,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/PowerUser`,
      sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/PowerUser/mallory`,
    },
    identity: document.Statement,
  };
}

function consoleRole() {
  const fn = principals.functions.find((f) => f.entry.properties.FunctionName === `bulkhead-${ENV}-ops-console`);
  if (!fn?.role) throw new Error('no console function role in the assembly');
  return fn.role;
}

function callerOf(role: ReturnType<typeof consoleRole>, extra: readonly Statement[] = []): Caller {
  return {
    principal: { account: ACCOUNT, roleArn: role.arn, sessionArn: role.sessionArn },
    identity: [...role.identity.map((h) => h.statement), ...extra],
    ...(role.boundary ? { boundary: role.boundary.map((h) => h.statement) } : {}),
  };
}

/** The world's site acme, running, and a drill finding about its task (what siteops drill sends). */
function worldWithSite() {
  world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { environment: ENV, accountId: ACCOUNT, region: REGION });
  const site = world.site('acme');
  const event = drillEvent({
    findingId: 'bulkhead-drill-forged',
    account: ACCOUNT,
    region: REGION,
    site: 'acme',
    clusterArn: site.clusterArn,
    taskArn: site.taskArns[0] as string,
    serviceName: 'acme',
    severity: 8,
    at: new Date(),
    requestedBy: 'mallory',
  });
  return { world, event };
}

/** Hands the event to every matched rule's target that is the containment function, as EventBridge would. */
async function deliver(outcome: PutEventsOutcome): Promise<string[]> {
  if (!outcome.accepted) return [];
  const delivered: string[] = [];
  for (const rule of outcome.matched) {
    for (const target of rule.targets) {
      if (!target.includes('ContainFunction')) throw new Error(`rule ${rule.logicalId} targets ${target}`);
      await containHandler(outcome.event);
      delivered.push(`${rule.stack}/${rule.logicalId}`);
    }
  }
  return delivered;
}

/** The site's open incident, if any. */
async function openIncident(w: ResponseWorld, site: string) {
  const store = new IncidentStore(documentClient(), w.tableName);
  const id = await store.openIncidentOf(site);
  return id === undefined ? undefined : store.getIncident(id);
}

describe('drills travel on a bus of their own', () => {
  it('a drill-shaped event from another principal changes nothing, on the default bus or on the drill bus', async () => {
    // Prepare
    const { world: w, event } = worldWithSite();
    const before = w.aws.snapshot('acme');
    const entry = {
      source: event.source,
      detailType: event.detailType,
      detail: event.detail,
      resources: event.resources,
    };

    // Act: a PowerUser puts the drill, on the default bus, then on the drill bus by name and by ARN
    const onDefault = bridge.putEvents(powerUser(), entry);
    const onDrillBus = bridge.putEvents(powerUser(), { ...entry, eventBusName: drillEventBusName(ENV) });
    const byArn = bridge.putEvents(powerUser(), {
      ...entry,
      eventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${drillEventBusName(ENV)}`,
    });
    const delivered = [...(await deliver(onDefault)), ...(await deliver(onDrillBus)), ...(await deliver(byArn))];

    // Assess: the default bus takes the event (PowerUser may put events) but no rule of it matches
    expect(onDefault).toMatchObject({ accepted: true, bus: 'default', matched: [] });
    // Assess: the drill bus refuses it with its own policy's deny
    for (const outcome of [onDrillBus, byArn]) {
      expect(outcome.accepted).toBe(false);
      expect(outcome.authorization.decision).toBe('ExplicitlyDenied');
      expect(outcome.authorization.deniedBy.map((s) => s.Sid)).toEqual(['NoOneElsePutsDrills']);
    }
    // Assess: nothing reached containment, nothing changed
    expect(delivered).toEqual([]);
    expect(w.aws.mutatingCalls()).toEqual([]);
    expect(w.aws.snapshot('acme')).toEqual(before);
    expect(await openIncident(w, 'acme')).toBeUndefined();
  });

  it("the console's role puts the same drill on the drill bus, and containment takes it (the path still works)", async () => {
    // Prepare
    const { world: w, event } = worldWithSite();
    const entry = {
      source: event.source,
      detailType: event.detailType,
      detail: event.detail,
      resources: event.resources,
      eventBusName: drillEventBusName(ENV),
    };

    // Act
    const outcome = bridge.putEvents(callerOf(consoleRole()), entry);
    const delivered = await deliver(outcome);

    // Assess
    expect(outcome.accepted).toBe(true);
    expect(delivered).toEqual([`Bulkhead-${ENV}-Ops/${bridge.rulesOn(drillEventBusName(ENV))[0]?.logicalId}`]);
    expect(await openIncident(w, 'acme')).toMatchObject({ drill: true, status: 'CONTAINED' });
  });

  it("no role of the fleet but the console's may put on the drill bus, even holding events:PutEvents on everything", () => {
    // Prepare: every role of the assembly, each also granted events:PutEvents on * (as an administrator could)
    const everything: Statement = { Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' };
    const console = consoleRole();
    const entry = {
      source: DRILL_SOURCE,
      detailType: DRILL_DETAIL_TYPE,
      detail: {},
      eventBusName: drillEventBusName(ENV),
    };

    // Act
    const admitted = principals.roles
      .filter((role) => bridge.putEvents(callerOf(role, [everything]), entry).accepted)
      .map((role) => `${role.entry.stack.name}/${role.entry.logicalId}`);

    // Assess
    expect(principals.roles.length).toBeGreaterThan(20);
    expect(admitted).toEqual([`${console.entry.stack.name}/${console.entry.logicalId}`]);
  });

  it('no enabled rule of the default bus, in any stack, matches a drill-shaped event', () => {
    // Prepare
    const drill = {
      source: DRILL_SOURCE,
      'detail-type': DRILL_DETAIL_TYPE,
      account: ACCOUNT,
      region: REGION,
      resources: [],
      detail: { severity: 8, resource: { resourceType: 'ECSCluster' } },
    };

    // Act
    const rules = bridge.rulesOn('default');
    const matching = rules.filter((r) => patternMatches(r.pattern, drill)).map((r) => `${r.stack}/${r.logicalId}`);

    // Assess: the default bus has rules (GuardDuty, alarms, deployments, coverage), none of them a drill's
    expect(rules.length).toBeGreaterThanOrEqual(4);
    expect(matching).toEqual([]);
    expect(bridge.rulesOn(drillEventBusName(ENV)).map((r) => r.pattern)).toEqual([
      { source: [DRILL_SOURCE], 'detail-type': [DRILL_DETAIL_TYPE] },
    ]);
  });
});
