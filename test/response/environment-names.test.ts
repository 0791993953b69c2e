import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { parseSiteAlarmName, siteAlarmName } from '../../contracts/names';
import { seedFleet } from '../support/aws-model';
import { type ResponseWorld, setUpResponseWorld, siteAlarmEvent } from '../support/response-world';

/**
 * Issue 11 item 6: environments `prod` and `prod-eu` in one account. Names built as
 * `bulkhead-<env>-<site>-...` read two ways (`bulkhead-prod-eu-shop-error-rate` is prod-eu's
 * `shop` and, to prod, its `eu-shop`). The contracts the response plane reads now cannot.
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

/** Both environments' fleets in one account: prod has a site `eu-shop`, prod-eu a site `shop`. */
function twoEnvironments(): ResponseWorld {
  const w = setUpResponseWorld([{ id: 'eu-shop', cell: 'c1' }], { environment: 'prod' });
  const prodFleet = w.aws.fleet;
  seedFleet(w.aws, { environment: 'prod-eu', sites: [{ id: 'shop', cell: 'c1' }], vpcCidr: '10.50.0.0/16' });
  const prodEu = w.aws.fleet;
  // The model's snapshots follow the last seeded fleet: put prod's back for the assertions.
  w.aws.fleet = prodFleet;
  (w as unknown as { prodEu: typeof prodEu }).prodEu = prodEu;
  return w;
}

describe('site alarm names', () => {
  it('read one way only: prod-eu’s alarm is not prod’s, whatever its site is called', () => {
    // Prepare
    const prodEuAlarm = siteAlarmName('prod-eu', 'shop', 'error-rate');
    const prodAlarm = siteAlarmName('prod', 'eu-shop', 'error-rate');

    // Act / Assess
    expect(prodEuAlarm).not.toBe(prodAlarm);
    expect(parseSiteAlarmName('prod', prodEuAlarm)).toBeUndefined();
    expect(parseSiteAlarmName('prod-eu', prodEuAlarm)).toEqual({ site: 'shop', kind: 'error-rate' });
    expect(parseSiteAlarmName('prod', prodAlarm)).toEqual({ site: 'eu-shop', kind: 'error-rate' });
    expect(parseSiteAlarmName('prod-eu', prodAlarm)).toBeUndefined();
  });

  it('prod’s containment ignores prod-eu’s alarm (and the old two-way name), and prod’s eu-shop is untouched', async () => {
    // Prepare
    world = twoEnvironments();
    const before = world.aws.snapshot('eu-shop');
    const prodEu = siteAlarmEvent(world, 'eu-shop');
    for (const name of [siteAlarmName('prod-eu', 'shop', 'error-rate'), 'bulkhead-prod-eu-shop-error-rate']) {
      const event = structuredClone(prodEu);
      (event.detail as { alarmName: string }).alarmName = name;
      event.resources = [`arn:aws:cloudwatch:${world.aws.region}:${world.aws.accountId}:alarm:${name}`];

      // Act
      const outcome = await containHandler(event);

      // Assess
      expect(outcome).toMatchObject({ outcome: 'ignored', code: 'foreign-alarm' });
    }
    expect(world.aws.mutatingCalls()).toEqual([]);
    expect(world.aws.snapshot('eu-shop')).toEqual(before);
  });

  it('each environment’s containment contains its own site from its own alarm', async () => {
    // Prepare
    world = twoEnvironments();
    const prodEu = (world as unknown as { prodEu: NonNullable<typeof world.aws.fleet> }).prodEu;
    const alarm = (env: string, site: string) => {
      const event = siteAlarmEvent(world, 'eu-shop');
      const name = siteAlarmName(env, site, 'egress');
      (event.detail as { alarmName: string }).alarmName = name;
      event.resources = [`arn:aws:cloudwatch:${world.aws.region}:${world.aws.accountId}:alarm:${name}`];
      return event;
    };

    // Act: prod-eu's containment (its own environment and clusters) gets prod-eu's alarm.
    Object.assign(process.env, {
      BULKHEAD_ENV: 'prod-eu',
      CLUSTER_ARNS: Object.values(prodEu.cells)
        .map((c) => c.clusterArn)
        .join(','),
      LOGS_ENDPOINT_SG_ID: prodEu.logsEndpointSecurityGroupId,
      QUARANTINE_ACL_ID: prodEu.quarantineAclId,
      STATE_MACHINE_ARN: prodEu.stateMachineArn,
    });
    // Containment reads its environment on each invocation (runtime/contain/index.ts containDeps).
    const outcome = await containHandler(alarm('prod-eu', 'shop'));

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'shop' });
    const shopGroup = prodEu.sites.shop?.securityGroupId ?? '';
    const ingress = Object.values(world.aws.ec2.state.rules).filter((r) => r.GroupId === shopGroup && !r.IsEgress);
    expect(ingress).toEqual([]);
    // prod's eu-shop still serves.
    expect(world.aws.snapshot('eu-shop').securityGroup.ingress).not.toEqual([]);
  });
});
