import { afterEach, describe, expect, it, vi } from 'vitest';
import { TAKEOVER_AFTER_MS } from '../../runtime/contain/contain';
import { containHandler } from '../../runtime/contain/index';
import { INTERIM_DESCRIPTION } from '../../runtime/contain/quarantine-rules';
import type { RuleShape } from '../support/aws-model/fleet/snapshot';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';
import { callsSince, incidentsOf, matrix } from './fault-matrix';

/**
 * Containment under one failing AWS call at a time. EventBridge redelivers an event whose
 * handler threw (8 retries with back-off over up to 2 h): the test does the same once the
 * fault is gone, after the lock takeover time has passed (a redelivery before it joins the
 * incident the failed attempt opened). The end state is
 * always the site contained, or FAILED with the reason; one incident, never two; no other
 * site touched.
 */
let world: ResponseWorld;
afterEach(() => {
  world?.aws.restore();
  vi.useRealTimers();
});

const SITES = [
  { id: 'acme', cell: 'c1' },
  { id: 'vault', cell: 'c1', isolation: 'strict' as const },
  { id: 'bakery', cell: 'c1' },
];

async function discover(site: string) {
  world = setUpResponseWorld(SITES);
  const from = world.aws.calls.all().length;
  await containHandler(ecsFindingEvent(world, site));
  const calls = callsSince(world, from);
  world.aws.restore();
  return calls;
}

for (const site of ['acme', 'vault']) {
  const cases = matrix(await discover(site));

  describe(`containment of a ${site === 'vault' ? 'strict' : 'standard'} site, one call failing at a time`, () => {
    it('covers every call containment makes', () => {
      expect(cases.map((c) => c.call.command)).toEqual(
        expect.arrayContaining(['GetParameter', 'PutItem', 'ModifyRule', 'PutRolePolicy', 'StartExecution']),
      );
    });

    it.each(cases.map((c) => [`${c.call.service} ${c.call.command}`, c.kind, c] as const))(
      '%s %s: ends contained or FAILED with a reason, one incident, nothing else touched',
      async (_name, _kind, { fault }) => {
        // Prepare
        world = setUpResponseWorld(SITES, { retries: 'sdk-no-delay' });
        const bakery = world.aws.snapshot('bakery');
        const event = ecsFindingEvent(world, site);
        const injected = world.aws.faults.add(fault);

        // Act: the first delivery, then EventBridge's retry if the handler threw
        let threw = false;
        try {
          await containHandler(event);
        } catch {
          threw = true;
        }
        injected.remove();
        if (threw) {
          vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
          vi.setSystemTime(Date.now() + TAKEOVER_AFTER_MS + 60_000);
          await containHandler(event);
        }

        // Assess
        const incidents = incidentsOf(world, site);
        expect(incidents).toHaveLength(1);
        const [incident] = incidents;
        const now = world.aws.snapshot(site);
        if (incident?.status === 'CONTAINED') {
          // The quarantine set, or its interim form: every other rule rewritten, keeping its type
          // (EC2 refuses a change of type), to the Logs endpoint's group or a peer that is nobody,
          // on a port that is neither 80 nor 443 (see quarantine-group.ts).
          const logs = world.fleet.logsEndpointSecurityGroupId;
          const quarantine = (r: RuleShape) => r.peer === logs && r.fromPort === 443 && r.toPort === 443;
          for (const rule of [...now.securityGroup.ingress, ...now.securityGroup.egress].filter(
            (r) => !quarantine(r),
          )) {
            expect(rule).toMatchObject({ description: INTERIM_DESCRIPTION });
            expect([80, 443]).not.toContain(rule.fromPort);
          }
          expect(now.securityGroup.egress.filter(quarantine)).toHaveLength(1);
          // Its workflow runs (evidence, notices), started by the first delivery or the retry.
          expect(world.aws.callsTo('SFN', 'StartExecution').some((c) => c.outcome === 'ok')).toBe(true);
          if (site === 'vault') {
            for (const a of now.aclAssociations) expect(a.networkAclId).toBe(world.fleet.quarantineAclId);
          }
        } else {
          expect(incident?.status).toBe('FAILED');
          expect(incident?.failureReason).toBeTruthy();
        }
        expect(world.aws.snapshot('bakery')).toEqual(bakery);
      },
    );
  });
}
