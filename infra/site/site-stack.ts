import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { FleetConfig, SiteConfig } from '../config/load-fleet';
import { TAG_CELL, TAG_SITE } from '../shared/tags';
import { compartmentPlatformFromExports } from './compartment-platform';
import { SiteCompartment } from './site-compartment';

export interface SiteStackProps extends StackProps {
  /** The fleet the site belongs to (environment, container port, database limits, exports to import). */
  readonly fleet: FleetConfig;
  /** The site the stack holds, resolved from the fleet file. */
  readonly site: SiteConfig;
}

/** One stack per site: a site deploys (and synthesizes) without touching any other. */
export class SiteStack extends Stack {
  /** The site's compartment (everything the site has of its own). */
  readonly compartment: SiteCompartment;

  constructor(scope: Construct, id: string, props: SiteStackProps) {
    super(scope, id, props);
    const { fleet, site } = props;
    Tags.of(this).add(TAG_SITE, site.id);
    Tags.of(this).add(TAG_CELL, site.cell);
    this.compartment = new SiteCompartment(this, 'Compartment', {
      environment: fleet.environment,
      site,
      platform: compartmentPlatformFromExports(this, this, fleet, site),
      containerPort: fleet.containerPort,
      maxDatabaseConnections: fleet.database.maxConnectionsPerSite,
    });
  }
}
