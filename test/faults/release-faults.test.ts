import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { recoveryDeps } from '../../runtime/recovery/index';
import { releaseIncident } from '../../runtime/recovery/release';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';
import { callsSince, incidentsOf, matrix } from './fault-matrix';

/**
 * Release (a false positive) under one failing AWS call at a time: it completes, or stops
 * with the incident still CONTAINED (never RELEASED while something is not back), and a
 * second run once the fault is gone puts back exactly what was saved.
 */
let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const SITES = [
  { id: 'vault', cell: 'c1', isolation: 'strict' as const },
  { id: 'bakery', cell: 'c1' },
];
const BY = 'arn:aws:sts::123456789012:assumed-role/Ops/alice';

async function contained() {
  world = setUpResponseWorld(SITES, { retries: 'sdk-no-delay' });
  const before = world.aws.snapshot('vault');
  const outcome = (await containHandler(ecsFindingEvent(world, 'vault'))) as { incidentId: string };
  return { before, incidentId: outcome.incidentId };
}

async function discover() {
  const { incidentId } = await contained();
  const from = world.aws.calls.all().length;
  await releaseIncident(recoveryDeps(), { incidentId, releasedBy: BY });
  const calls = callsSince(world, from);
  world.aws.restore();
  return calls;
}

const cases = matrix(await discover());

describe('release of a strict site, one call failing at a time', () => {
  it('covers every call release makes', () => {
    expect(cases.map((c) => c.call.command)).toEqual(
      expect.arrayContaining([
        'DescribeSecurityGroups',
        'ReplaceNetworkAclAssociation',
        'ModifyRule',
        'DeleteRolePolicy',
        'AuthorizeSecurityGroupIngress',
      ]),
    );
  });

  it.each(cases.map((c) => [`${c.call.service} ${c.call.command}`, c.kind, c] as const))(
    '%s %s: released exactly, or not RELEASED and then released exactly on the next run',
    async (_name, _kind, { fault }) => {
      // Prepare
      const { before, incidentId } = await contained();
      const bakery = world.aws.snapshot('bakery');
      const injected = world.aws.faults.add(fault);

      // Act
      const first = await releaseIncident(recoveryDeps(), { incidentId, releasedBy: BY }).then(
        (r) => r.outcome,
        (e: Error) => e.name,
      );
      const status = incidentsOf(world, 'vault')[0]?.status;
      injected.remove();
      const second = await releaseIncident(recoveryDeps(), { incidentId, releasedBy: BY });

      // Assess
      if (first === 'released') expect(status).toBe('RELEASED');
      else expect(status).toBe('CONTAINED');
      expect(second.outcome, JSON.stringify(second)).toBe(first === 'released' ? 'already-released' : 'released');
      world.aws.advance(60_000);
      const after = world.aws.snapshot('vault');
      expect(after.securityGroup.ingress).toEqual(before.securityGroup.ingress);
      expect(after.securityGroup.egress).toEqual(before.securityGroup.egress);
      expect(after.aclAssociations.map((a) => [a.subnetId, a.networkAclId])).toEqual(
        before.aclAssociations.map((a) => [a.subnetId, a.networkAclId]),
      );
      expect(after.listenerRule).toEqual(before.listenerRule);
      expect(after.role.inlinePolicies).toEqual(before.role.inlinePolicies);
      expect(incidentsOf(world, 'vault')).toHaveLength(1);
      expect(world.aws.snapshot('bakery')).toEqual(bakery);
    },
  );
});
