import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_RESPONSE, SESSION_REVOCATION_POLICY } from '../../runtime/contain/contain';
import { gatewayEvent, operatorSession } from '../support/console-gateway';
import { motoEndpoint } from '../support/moto/endpoint';
import { type SynthesizedFleet, synthExample } from '../support/synth-fleet';
import { guardDutyFinding, siteAlarm } from './support/events';
import { exported, incidentItem, workflowInputs } from './support/incidents';
import type { Invocation } from './support/lambda-runtime';
import { type MotoFront, startMotoFront } from './support/moto-front';
import {
  createEmulatorWorld,
  type EmulatorWorld,
  placeOf,
  type SiteSnapshot,
  snapshotSite,
  stateOf,
} from './support/world';

/**
 * The response plane's real bundled code (what `cdk synth` writes under cdk.out) against moto,
 * an AWS emulator others wrote, in a world deployed from the synthesized example fleet
 * (config/example.yaml: acme-shop contain, bakery shed, clinic strict with threshold 4,
 * dentist notify). Every assertion reads state back through the SDK. Where moto differs from
 * AWS, test/emulator/README.md says so and the model asserts AWS's behaviour instead.
 */

const SITES = ['acme-shop', 'bakery', 'clinic', 'dentist'] as const;

/**
 * The one variable the emulator adds to a function's own: containment waits 20-40 s before
 * revoking interim rules (FINISH_QUARANTINE_DELAY_MS, runtime/contain/index.ts) so a burst's
 * refilling EC2 buckets go to isolation first; with one site there is nothing to wait for.
 */
const NO_TIDY_DELAY = { FINISH_QUARANTINE_DELAY_MS: '0' };

let synth: SynthesizedFleet;
let endpoint: string;
let front: MotoFront;

beforeAll(async () => {
  endpoint = motoEndpoint();
  // The functions' bundled code runs against moto: bundled as `cdk synth` bundles it.
  synth = synthExample({ bundle: true });
  front = await startMotoFront(endpoint, placeOf(synth.fleet).region);
});

afterAll(async () => {
  await front?.close();
});

/** A world of its own for one test (an account of its own in moto), EC2 through the front. */
function newWorld(): Promise<EmulatorWorld> {
  return createEmulatorWorld(synth, endpoint, { ec2Endpoint: front.endpoint });
}

async function snapshots(world: EmulatorWorld): Promise<Map<string, SiteSnapshot>> {
  return new Map(await Promise.all(SITES.map(async (s) => [s, await snapshotSite(world, s)] as const)));
}

/** Byte for byte: the JSON of every other site's state is what it was. */
async function expectOthersUnchanged(world: EmulatorWorld, before: Map<string, SiteSnapshot>, site: string) {
  const after = await snapshots(world);
  for (const other of SITES.filter((s) => s !== site)) {
    expect(JSON.stringify(after.get(other)), `${other} changed`).toBe(JSON.stringify(before.get(other)));
  }
}

function answer(invocation: Invocation): Record<string, unknown> {
  if (!invocation.ok) {
    throw new Error(
      `the function failed: ${invocation.error?.errorType}: ${invocation.error?.errorMessage}\n${invocation.logs}`,
    );
  }
  return invocation.result as Record<string, unknown>;
}

/** The quarantine set (docs/design.md): no ingress, egress only HTTPS to the logs endpoints' group. */
function expectQuarantined(snapshot: SiteSnapshot, logsEndpointGroup: string) {
  const rules = snapshot.groupRules[snapshot.record.securityGroupId] ?? [];
  expect(
    rules.map(({ IsEgress, IpProtocol, FromPort, ToPort, ReferencedGroupInfo, CidrIpv4, PrefixListId }) => ({
      IsEgress,
      IpProtocol,
      FromPort,
      ToPort,
      peer: ReferencedGroupInfo?.GroupId ?? CidrIpv4 ?? PrefixListId,
    })),
  ).toEqual([{ IsEgress: true, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, peer: logsEndpointGroup }]);
}

function expectShed(snapshot: SiteSnapshot) {
  expect((snapshot.listenerRule as { Actions?: unknown[] }).Actions).toEqual([
    expect.objectContaining({ Type: 'fixed-response', FixedResponseConfig: MAINTENANCE_RESPONSE.FixedResponseConfig }),
  ]);
}

function expectSessionsDenied(snapshot: SiteSnapshot) {
  expect(snapshot.taskRole.policies[SESSION_REVOCATION_POLICY]).toEqual({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BulkheadQuarantineDenyOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } },
      },
    ],
  });
}

describe('containment (the bundled contain function) against moto', () => {
  it('contains a standard site on a GuardDuty finding: quarantine set, 503, sessions denied, incident, workflow', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    const finding = await guardDutyFinding(world, 'acme-shop');
    // Act
    const outcome = answer(
      await world.invoke(world.deployed.fn('ContainFunction'), finding, { extraEnvironment: NO_TIDY_DELAY }),
    );
    // Assess
    const after = await snapshotSite(world, 'acme-shop');
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme-shop' });
    expectQuarantined(after, exported(world, 'logs-endpoint-sg-id'));
    expectShed(after);
    expectSessionsDenied(after);
    // The standby group (used only by a restore) keeps its rules.
    const standby = before.get('acme-shop')?.record.standbySecurityGroupId as string;
    expect(after.groupRules[standby]).toEqual(before.get('acme-shop')?.groupRules[standby]);
    const incident = await incidentItem(world, outcome.incidentId as string);
    expect(incident).toMatchObject({ status: 'CONTAINED', site: 'acme-shop', policy: 'contain' });
    expect(incident.isolatedAt).toEqual(expect.any(String));
    // Every site has subnets of its own (issue 14): a standard site's move to the quarantine ACL too.
    expect(Object.keys(incident.saved as object).sort()).toEqual([
      'listenerRule',
      'networkAcl',
      'rolePolicy',
      'securityGroup',
    ]);
    expect(after.record.subnetIds).toHaveLength(2);
    expect(after.aclAssociations.map((a) => [a.subnetId, a.networkAclId])).toEqual(
      [...(after.record.subnetIds ?? [])].sort().map((s) => [s, exported(world, 'quarantine-acl-id')]),
    );
    expect(await workflowInputs(world)).toEqual([
      expect.objectContaining({ incidentId: outcome.incidentId, site: 'acme-shop', status: 'CONTAINED' }),
    ]);
    await expectOthersUnchanged(world, before, 'acme-shop');
  });

  it('contains a strict site on a GuardDuty finding at its lower threshold: its subnets move to the quarantine ACL', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    const finding = await guardDutyFinding(world, 'clinic', { severity: 5 });
    // Act
    const outcome = answer(
      await world.invoke(world.deployed.fn('ContainFunction'), finding, { extraEnvironment: NO_TIDY_DELAY }),
    );
    // Assess
    const after = await snapshotSite(world, 'clinic');
    const quarantineAcl = exported(world, 'quarantine-acl-id');
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'clinic' });
    expectQuarantined(after, exported(world, 'logs-endpoint-sg-id'));
    expect(after.record.subnetIds).toHaveLength(2);
    expect(after.aclAssociations.map((a) => [a.subnetId, a.networkAclId])).toEqual(
      [...(after.record.subnetIds ?? [])].sort().map((s) => [s, quarantineAcl]),
    );
    expect(before.get('clinic')?.aclAssociations.map((a) => a.networkAclId)).toEqual([
      after.record.networkAclId,
      after.record.networkAclId,
    ]);
    expectShed(after);
    expectSessionsDenied(after);
    expect(await incidentItem(world, outcome.incidentId as string)).toMatchObject({
      status: 'CONTAINED',
      saved: { networkAcl: { associations: expect.any(Array) } },
    });
    await expectOthersUnchanged(world, before, 'clinic');
  });

  it('contains a site when its alarm enters ALARM', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    // Act
    const outcome = answer(
      await world.invoke(world.deployed.fn('ContainFunction'), siteAlarm(world, 'acme-shop', 'egress'), {
        extraEnvironment: NO_TIDY_DELAY,
      }),
    );
    // Assess
    const after = await snapshotSite(world, 'acme-shop');
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme-shop' });
    expectQuarantined(after, exported(world, 'logs-endpoint-sg-id'));
    expectShed(after);
    expect(await incidentItem(world, outcome.incidentId as string)).toMatchObject({ status: 'CONTAINED' });
    await expectOthersUnchanged(world, before, 'acme-shop');
  });

  it('sheds a shed-policy site: 503 only, its rules and role untouched', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    // Act
    const outcome = answer(
      await world.invoke(world.deployed.fn('ContainFunction'), await guardDutyFinding(world, 'bakery')),
    );
    // Assess
    const after = await snapshotSite(world, 'bakery');
    expect(outcome).toMatchObject({ outcome: 'shed', site: 'bakery' });
    expectShed(after);
    expect(after.groupRules).toEqual(before.get('bakery')?.groupRules);
    expect(after.taskRole).toEqual(before.get('bakery')?.taskRole);
    expect(await incidentItem(world, outcome.incidentId as string)).toMatchObject({ status: 'SHED', policy: 'shed' });
    await expectOthersUnchanged(world, before, 'bakery');
  });

  it('only notifies for a notify-policy site: nothing of any site changes, the workflow starts', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    // Act
    const outcome = answer(
      await world.invoke(world.deployed.fn('ContainFunction'), await guardDutyFinding(world, 'dentist')),
    );
    // Assess
    expect(outcome).toMatchObject({ outcome: 'notified', site: 'dentist' });
    expect(await incidentItem(world, outcome.incidentId as string)).toMatchObject({
      status: 'NOTIFIED',
      policy: 'notify',
    });
    expect(await workflowInputs(world)).toEqual([
      expect.objectContaining({
        incidentId: outcome.incidentId,
        site: 'dentist',
        status: 'NOTIFIED',
        policy: 'notify',
      }),
    ]);
    await expectOthersUnchanged(world, before, '(none)');
  });
});

describe('release (the bundled recovery function) against moto', () => {
  it('puts a contained strict site back exactly as it was before', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    const contained = answer(
      await world.invoke(world.deployed.fn('ContainFunction'), await guardDutyFinding(world, 'clinic'), {
        extraEnvironment: NO_TIDY_DELAY,
      }),
    );
    // Act: the workflow's step for an approved false positive.
    const released = answer(
      await world.invoke(world.deployed.fn('RecoveryFunction'), {
        step: 'release-false-positive',
        input: {
          incidentId: contained.incidentId,
          site: 'clinic',
          decision: { decision: 'false-positive', by: 'emulator test' },
        },
      }),
    );
    // Assess
    const after = await snapshotSite(world, 'clinic');
    expect(contained).toMatchObject({ outcome: 'contained' });
    expect(released).toMatchObject({ status: 'RELEASED' });
    expect(stateOf(after)).toEqual(stateOf(before.get('clinic') as SiteSnapshot));
    expect(await incidentItem(world, contained.incidentId as string)).toMatchObject({ status: 'RELEASED' });
    await expectOthersUnchanged(world, before, 'clinic');
  });
});

describe('the ops console (the bundled console function) against moto', () => {
  it('quarantines a site on an operator’s request, then releases it back to exactly the state before', async () => {
    // Prepare
    const world = await newWorld();
    const before = await snapshots(world);
    const consoleFn = world.deployed.fn('ConsoleFunction');
    // What the console's API hands the function: the operator role's session, verified by API Gateway.
    const scope = {
      BULKHEAD_ENV: consoleFn.environment.BULKHEAD_ENV,
      BULKHEAD_ACCOUNT: consoleFn.environment.BULKHEAD_ACCOUNT,
      AWS_REGION: world.fleet.region,
    };
    const viaApi = (payload: Record<string, unknown>) =>
      gatewayEvent(
        { ...payload, identity: { user: 'emulator', tool: 'vitest' } },
        { caller: operatorSession('emulator', scope), account: scope.BULKHEAD_ACCOUNT },
      );
    const body = (result: Record<string, unknown>) => {
      expect(result.statusCode).toBe(200);
      return JSON.parse(String(result.body)) as Record<string, unknown>;
    };
    // Act
    const quarantined = body(
      answer(
        await world.invoke(consoleFn, viaApi({ action: 'quarantine', site: 'acme-shop', reason: 'emulator test' })),
      ),
    );
    const during = await snapshotSite(world, 'acme-shop');
    const incidentId = (quarantined.result as { incidentId?: string }).incidentId as string;
    const released = body(
      answer(
        await world.invoke(
          consoleFn,
          viaApi({ action: 'release', incidentId, reason: 'false positive (emulator test)' }),
        ),
      ),
    );
    // Assess
    const after = await snapshotSite(world, 'acme-shop');
    expect(quarantined).toMatchObject({ ok: true, action: 'quarantine', result: { outcome: 'contained' } });
    expectQuarantined(during, exported(world, 'logs-endpoint-sg-id'));
    expectShed(during);
    expectSessionsDenied(during);
    expect(released).toMatchObject({ ok: true, action: 'release', result: { outcome: 'released' } });
    expect(stateOf(after)).toEqual(stateOf(before.get('acme-shop') as SiteSnapshot));
    expect(await incidentItem(world, incidentId)).toMatchObject({ status: 'RELEASED' });
    await expectOthersUnchanged(world, before, 'acme-shop');
  });
});
