import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { releaseIncident } from '../../runtime/recovery/release';
import type { FlowRecord } from '../support/aws-model/ec2/types';
import {
  ecsFindingEvent,
  type ResponseWorld,
  releaseDepsFor,
  setUpResponseWorld,
  siteAlarmEvent,
} from '../support/response-world';

/*
 * Containment and established connections (issue 14). The model tracks connections as the EC2
 * User Guide documents it (test/support/aws-model/ec2/connection-tracking.ts): a security-group
 * change leaves tracked connections (and every connection through a NAT gateway is tracked)
 * running; moving the subnet to an ACL that denies them ends them.
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const releaseDeps = () => releaseDepsFor(world);

/** A reverse shell to the internet (through NAT), a database session and the log stream, from the site's first task. */
function openConnections(siteId: string) {
  const taskArn = world.site(siteId).taskArns[0] as string;
  const eni = world.aws.ecs.state.tasks[taskArn]?.networkInterfaceId as string;
  const open = (destinationIp: string, port: number, label: string) =>
    world.aws.ec2.openFlow({ sourceEniId: eni, destinationIp, port, label });
  return {
    internet: open('198.51.100.66', 443, 'reverse shell'),
    database: open(world.fleet.databaseIp, 3306, 'database'),
    logs: open(world.fleet.logsEndpointIp, 443, 'logs'),
  };
}

const stateOf = (flow: FlowRecord) => world.aws.ec2.state.flows[flow.FlowId]?.state;
const associations = (siteId: string) => world.aws.snapshot(siteId).aclAssociations;

describe('containment cuts established connections, for every site', () => {
  it.each([
    ['a standard site', 'standard' as const],
    ['a strict site', 'strict' as const],
  ])(
    "%s: its internet and database connections end, its log stream goes on, nobody else's flows or ACL associations change, and release puts the associations back exactly",
    async (_, isolation) => {
      // Prepare
      world = setUpResponseWorld([
        { id: 'acme', cell: 'c1', isolation, internetEgress: true },
        { id: 'bakery', cell: 'c1', internetEgress: true },
        { id: 'clinic', cell: 'c1', isolation: 'strict', internetEgress: true },
      ]);
      const acme = openConnections('acme');
      const bakery = openConnections('bakery');
      const clinic = openConnections('clinic');
      const before = { acme: associations('acme'), bakery: associations('bakery'), clinic: associations('clinic') };
      expect(Object.values(acme).map(stateOf)).toEqual(['established', 'established', 'established']);

      // Act
      const outcome = await containHandler(ecsFindingEvent(world, 'acme'));
      const contained = { acme: associations('acme'), bakery: associations('bakery'), clinic: associations('clinic') };
      const incidentId = (outcome as { incidentId: string }).incidentId;
      const released = await releaseIncident(releaseDeps(), { incidentId, releasedBy: 'alice', reason: 'drill' });

      // Assess
      expect(outcome.outcome).toBe('contained');
      expect(stateOf(acme.internet)).toBe('ended');
      expect(world.aws.ec2.state.flows[acme.internet.FlowId]?.endedBy).toContain(world.fleet.quarantineAclId);
      expect(stateOf(acme.database)).toBe('ended');
      expect(stateOf(acme.logs)).toBe('established');
      expect(contained.acme.map((a) => a.networkAclId)).toEqual(before.acme.map(() => world.fleet.quarantineAclId));
      for (const flow of [...Object.values(bakery), ...Object.values(clinic)])
        expect(stateOf(flow)).toBe('established');
      expect(contained.bakery).toEqual(before.bakery);
      expect(contained.clinic).toEqual(before.clinic);
      expect(released).toMatchObject({ outcome: 'released' });
      const after = associations('acme');
      expect(after.map(({ subnetId, networkAclId }) => ({ subnetId, networkAclId }))).toEqual(
        before.acme.map(({ subnetId, networkAclId }) => ({ subnetId, networkAclId })),
      );
      expect(associations('bakery')).toEqual(before.bakery);
    },
  );

  it('a site still on the shared subnets (deployed before every site had its own) keeps its established connections: only a redeploy moves it', async () => {
    // Prepare
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', internetEgress: true, sharedSubnets: true }]);
    const acme = openConnections('acme');

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme'));
    const again = openConnections('acme');

    // Assess: the group refuses new connections; the tracked ones survive (docs/network.md, "Moving a deployed fleet").
    expect(outcome.outcome).toBe('contained');
    expect(stateOf(acme.internet)).toBe('established');
    expect(stateOf(again.internet)).toBe('refused');
    expect(stateOf(again.logs)).toBe('established');
  });
});

describe('the rejected-connections alarm', () => {
  it("contains the site whose alarm it is, and nobody else's", async () => {
    // Prepare: acme's task scans a neighbour; its group refuses (REJECT in its subnets' flow logs).
    world = setUpResponseWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1' },
    ]);
    const bakeryTask = world.aws.ecs.state.tasks[world.site('bakery').taskArns[0] as string];
    const acmeTask = world.aws.ecs.state.tasks[world.site('acme').taskArns[0] as string];
    const scan = [22, 3389, 8080].map((port) =>
      world.aws.ec2.openFlow({
        sourceEniId: acmeTask?.networkInterfaceId as string,
        destinationIp: bakeryTask?.privateIp as string,
        port,
      }),
    );
    const bakeryBefore = world.aws.snapshot('bakery');

    // Act
    const outcome = await containHandler(siteAlarmEvent(world, 'acme', 'rejected-connections'));

    // Assess
    expect(scan.map((f) => f.state)).toEqual(['refused', 'refused', 'refused']);
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expect(
      world.aws.snapshot('acme').aclAssociations.every((a) => a.networkAclId === world.fleet.quarantineAclId),
    ).toBe(true);
    expect(world.aws.snapshot('bakery')).toEqual(bakeryBefore);
  });
});
