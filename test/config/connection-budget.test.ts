import { describe, expect, it } from 'vitest';
import { connectionBudget } from '../../infra/config/database-budget';
import { FleetConfigError, parseFleet } from '../../infra/config/load-fleet';
import { generateFleetYaml } from '../support/fleet-generator';

/** Issue 12, item 6: the connection budget from the instance class (Aurora MySQL max_connections). */

function fleetYaml(sites: number, database: string): string {
  const site = (i: number) => `
  - id: site-${i}
    cell: c${Math.floor(i / 90) + 1}
    domains: [s${i}.example]
    image:
      repository: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/s${i}
      digest: sha256:${'a'.repeat(64)}
    contact: owner@s${i}.example
    listenerPriority: ${(i % 90) + 1}`;
  return `environment: test
region: eu-west-1
operators:
  principals: [arn:aws:iam::111122223333:role/Ops]
cells:
  - { id: c1, certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-4000-8000-000000000001' }
${database}
sites:${Array.from({ length: sites }, (_, i) => site(i)).join('')}
`;
}

describe('the database connection budget', () => {
  it('refuses a fleet whose sites could together hold more connections than the instance class allows, saying what to change', () => {
    // Prepare: 26 sites × 40 + 10 = 1,050 > db.r6g.large's 1,000 (the issue's arithmetic).
    const text = fleetYaml(26, 'database: { instanceClass: db.r6g.large, maxConnectionsPerSite: 40 }');
    // Act
    const act = () => parseFleet(text, 'config/test.yaml');
    // Assess
    expect(act).toThrow(FleetConfigError);
    expect(act).toThrow(
      /26 sites × 40 connections each \+ 10 for Bulkhead's own functions = 1050, but db\.r6g\.large allows 1000.*Set database\.maxConnectionsPerSite to at most 38, or choose database\.instanceClass db\.r6g\.xlarge \(2000\)/s,
    );
  });

  it('accepts the same fleet one site smaller, and the default settings up to 24 sites', () => {
    // Act
    const fits = parseFleet(fleetYaml(24, ''), 'config/test.yaml');
    const overbooked = () => parseFleet(fleetYaml(25, ''), 'config/test.yaml');
    // Assess: defaults are db.r6g.large and 40 per site: 24 × 40 + 10 = 970; 25 × 40 + 10 = 1,010.
    expect(fits.sites).toHaveLength(24);
    expect(overbooked).toThrow(/25 sites × 40/);
  });

  it('refuses an instance class whose max_connections it does not know', () => {
    expect(() => parseFleet(fleetYaml(1, 'database: { instanceClass: db.z9.huge }'), 'config/test.yaml')).toThrow(
      /"db\.z9\.huge" is not an Aurora MySQL instance class Bulkhead knows/,
    );
  });

  it('generated fleets fit (the generator shares the largest class out)', () => {
    const fleet = parseFleet(generateFleetYaml({ sites: 300 }), 'generated.yaml');
    const budget = connectionBudget(
      fleet.database.instanceClass,
      fleet.sites.length,
      fleet.database.maxConnectionsPerSite,
    );
    expect(budget.needed).toBeLessThanOrEqual(budget.limit ?? 0);
  });
});
