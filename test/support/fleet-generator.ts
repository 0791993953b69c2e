import { stringify } from 'yaml';
import { RESERVED_CONNECTIONS } from '../../infra/config/database-budget';
import { LIMITS } from '../../infra/config/fleet-schema';

export interface GeneratedFleetOptions {
  readonly sites: number;
  /** Every n-th site is strict (0: none). @default 25 */
  readonly strictEvery?: number;
  /** Every n-th site may reach the internet (0: none). @default 3 */
  readonly internetEvery?: number;
  readonly environment?: string;
  /**
   * Every cell in a VPC of its own (`cells[].network.cidr`: 10.16.0.0/16, 10.17.0.0/16, ...),
   * sites in /26 subnets numbered from slot 0 in each cell; otherwise one /16 VPC with /28
   * subnets. @default false
   */
  readonly cellVpcs?: boolean;
}

/**
 * A valid fleet file of any size, as YAML text: sites `site-0001`..., packed into cells of
 * 90, a strict site every `strictEvery`, internet egress every `internetEvery`.
 */
export function generateFleetYaml(options: GeneratedFleetOptions): string {
  const strictEvery = options.strictEvery ?? 25;
  const internetEvery = options.internetEvery ?? 3;
  const cellCount = Math.ceil(options.sites / LIMITS.maxSitesPerCell);
  const sites = Array.from({ length: options.sites }, (_, i) => {
    const id = `site-${String(i + 1).padStart(4, '0')}`;
    const strict = strictEvery > 0 && i % strictEvery === strictEvery - 1;
    return {
      id,
      cell: `c${Math.floor(i / LIMITS.maxSitesPerCell) + 1}`,
      domains: [`${id}.clients.example`],
      image: {
        repository: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/${id}`,
        digest: `sha256:${(i + 1).toString(16).padStart(64, 'a')}`,
      },
      contact: `owner@${id}.clients.example`,
      internetEgress: internetEvery > 0 && i % internetEvery === 0,
      // Every site has its own subnets: slot i, never a derived one (hashes collide in big fleets).
      ...(strict ? { isolation: 'strict' } : {}),
      subnetSlot: options.cellVpcs ? i % LIMITS.maxSitesPerCell : i,
      listenerPriority: (i % LIMITS.maxSitesPerCell) + 1,
    };
  });
  return stringify({
    environment: options.environment ?? 'bench',
    account: '111122223333',
    region: 'eu-west-1',
    network: { cidr: '10.0.0.0/16', maxAzs: 2, strictSubnetPrefix: options.cellVpcs ? 26 : 28 },
    // The largest class Aurora MySQL lists (7,000 connections), shared out so the fleet fits.
    database: {
      instanceClass: 'db.r5.24xlarge',
      maxConnectionsPerSite: Math.max(1, Math.min(40, Math.floor((7000 - RESERVED_CONNECTIONS) / options.sites))),
    },
    cells: Array.from({ length: cellCount }, (_, i) => ({
      id: `c${i + 1}`,
      certificateArn: `arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      ...(options.cellVpcs ? { network: { cidr: `10.${16 + i}.0.0/16` } } : {}),
    })),
    operators: { principals: ['arn:aws:iam::111122223333:role/PlatformOperators'] },
    sites,
  });
}
