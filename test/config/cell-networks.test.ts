import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseFleet } from '../../infra/config/load-fleet';
import { strictRange } from '../../infra/config/network-layout';
import { busiestVpc, fleetQuotaNeeds } from '../../infra/config/quotas';
import { generateFleetYaml } from '../support/fleet-generator';
import { fleetRefusal } from '../support/fleet-refusal';

/** The example fleet as a plain object, to change one thing at a time. */
function example(): Record<string, unknown> & { cells: Record<string, unknown>[]; sites: Record<string, unknown>[] } {
  return parse(readFileSync('config/example.yaml', 'utf8'));
}

const problemsOf = fleetRefusal;

const contains = (range: string, subnet: string) => {
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, prefix] = range.split('/') as [string, string];
  const size = 2 ** (32 - Number(prefix));
  const start = toInt(base);
  const at = toInt(subnet.split('/')[0] as string);
  return at >= start && at < start + size;
};

describe('a cell with a VPC of its own (cells[].network.cidr)', () => {
  it("places the cell's sites in its own VPC's site range and leaves the others where they were", () => {
    // Prepare: the green cell (clinic, dentist) moves to 10.41.0.0/16.
    const file = example();
    (file.cells[1] as Record<string, unknown>).network = { cidr: '10.41.0.0/16' };
    const before = parseFleet(stringify(example()), 'before.yaml');

    // Act
    const fleet = parseFleet(stringify(file), 'fleet.yaml');

    // Assess
    const green = fleet.cells.find((c) => c.id === 'green');
    expect(green?.network?.vpcCidr).toBe('10.41.0.0/16');
    expect(fleet.cells.find((c) => c.id === 'blue')?.network).toBeUndefined();
    for (const id of ['clinic', 'dentist']) {
      const site = fleet.sites.find((s) => s.id === id);
      expect(site?.subnetCidrs.length).toBe(2);
      for (const cidr of site?.subnetCidrs ?? []) expect(contains(strictRange('10.41.0.0/16'), cidr)).toBe(true);
    }
    // The blue cell's sites keep the subnets they had in the platform VPC.
    for (const id of ['acme-shop', 'bakery']) {
      expect(fleet.sites.find((s) => s.id === id)?.subnetCidrs).toEqual(
        before.sites.find((s) => s.id === id)?.subnetCidrs,
      );
    }
  });

  it('lets two VPCs use the same subnet slot: each VPC has its own site range', () => {
    // Prepare: clinic (green, own VPC) and a blue site both name slot 0.
    const file = example();
    (file.cells[1] as Record<string, unknown>).network = { cidr: '10.41.0.0/16' };
    (file.sites[0] as Record<string, unknown>).subnetSlot = 0;

    // Act
    const fleet = parseFleet(stringify(file), 'fleet.yaml');

    // Assess
    const acme = fleet.sites.find((s) => s.id === 'acme-shop');
    const clinic = fleet.sites.find((s) => s.id === 'clinic');
    expect([acme?.subnetSlot, clinic?.subnetSlot]).toEqual([0, 0]);
    expect(acme?.subnetCidrs).not.toEqual(clinic?.subnetCidrs);
  });

  it("refuses a cell block that overlaps the platform's or another cell's, and suggests a free one", () => {
    // Prepare
    const overlapsPlatform = example();
    (overlapsPlatform.cells[1] as Record<string, unknown>).network = { cidr: '10.40.128.0/17' };
    const overlapsCell = example();
    (overlapsCell.cells[0] as Record<string, unknown>).network = { cidr: '10.41.0.0/16' };
    (overlapsCell.cells[1] as Record<string, unknown>).network = { cidr: '10.41.0.0/20' };

    // Act
    const platformClash = problemsOf(stringify(overlapsPlatform));
    const cellClash = problemsOf(stringify(overlapsCell));

    // Assess
    expect(platformClash.problems).toEqual([
      expect.objectContaining({
        path: 'cells[1].network.cidr',
        message: expect.stringMatching(
          /10\.40\.128\.0\/17 overlaps 10\.40\.0\.0\/16 \(network\.cidr\).*such as 10\.41\.0\.0\/17/,
        ),
      }),
    ]);
    expect(cellClash.problems).toEqual([
      expect.objectContaining({
        path: 'cells[1].network.cidr',
        message: expect.stringMatching(/overlaps 10\.41\.0\.0\/16 \(cells\[0\] \(blue\)\)/),
      }),
    ]);
  });

  it('refuses a cell block that is not a /16 to /20 IPv4 block', () => {
    const file = example();
    (file.cells[1] as Record<string, unknown>).network = { cidr: '10.41.0.0/24' };
    expect(problemsOf(stringify(file)).problems).toEqual([
      expect.objectContaining({ path: 'cells[1].network.cidr', message: expect.stringContaining('/16 to /20') }),
    ]);
  });

  it('refuses a cell whose VPC cannot place its sites, at the cell', () => {
    // Prepare: a /20 cell VPC holds 16 slots of two /26 subnets; give its cell 20 sites.
    const file = example();
    file.cells[1] = { ...file.cells[1], network: { cidr: '10.41.0.0/20' } };
    const template = file.sites[3] as Record<string, unknown>;
    file.sites = [
      ...file.sites.slice(0, 2),
      ...Array.from({ length: 20 }, (_, i) => ({
        ...template,
        id: `green-${i}`,
        domains: [`g${i}.example`],
        listenerPriority: i + 1,
        uploadsPosixId: 61000 + i,
        subnetSlot: i % 16,
      })),
    ];

    // Act
    const error = problemsOf(stringify(file));

    // Assess
    expect(error.problems[0]).toMatchObject({ path: 'cells[1].network' });
    expect(error.problems[0]?.message).toContain(
      'cell "green" has 20 sites but the site range of 10.41.0.0/20 holds 16 blocks',
    );
  });
});

describe('1,000 sites in one account', () => {
  it('fit with a VPC per cell: 12 cells, every VPC within the default 200 subnets and 200 ACLs', () => {
    // Act
    const fleet = parseFleet(generateFleetYaml({ sites: 1000, cellVpcs: true }), 'thousand.yaml');

    // Assess
    expect(fleet.sites).toHaveLength(1000);
    expect(fleet.cells).toHaveLength(12);
    expect(fleet.cells.every((c) => c.network)).toBe(true);
    const busiest = busiestVpc(fleet);
    expect(busiest.subnets).toBeLessThanOrEqual(200);
    expect(busiest.acls).toBeLessThanOrEqual(200);
    const needs = new Map(fleetQuotaNeeds(fleet).map((q) => [q.key, q]));
    expect(needs.get('subnets')?.need).toBe((90 + 4) * 2);
    expect(needs.get('vpcs')?.need).toBe(13);
    expect(needs.get('vpc-peering')?.need).toBe(12);
    // Every site's own subnets lie in its cell's VPC.
    for (const site of fleet.sites) {
      const cell = fleet.cells.find((c) => c.id === site.cell);
      for (const cidr of site.subnetCidrs) expect(contains(cell?.network?.vpcCidr ?? '', cidr)).toBe(true);
    }
  });

  it('do not fit one VPC with /26 subnets: the refusal names cell VPCs as the fix', () => {
    // Prepare: the same fleet, every cell in the platform VPC, /26 subnets.
    const file = parse(generateFleetYaml({ sites: 1000, cellVpcs: true }));
    for (const cell of file.cells) delete cell.network;
    file.sites.forEach((s: Record<string, unknown>, i: number) => (s.subnetSlot = i % 256));

    // Act
    const error = problemsOf(stringify(file));

    // Assess
    const placement = error.problems.find((p) => p.path === 'network');
    expect(placement?.message).toContain('the fleet has 1000 sites but the site range of 10.0.0.0/16 holds 256 blocks');
    expect(placement?.message).toContain('cells[].network.cidr');
  });
});
