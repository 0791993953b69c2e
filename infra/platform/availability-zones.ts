import { Fn, type Stack } from 'aws-cdk-lib';
import type { FleetConfig } from '../config/load-fleet';

/**
 * The AZs the fleet uses, decided without an account lookup: the names the fleet file
 * gives (`network.availabilityZones`), otherwise the first `maxAzs` of the region's
 * deploy-time `Fn::GetAZs` list. Every stack (network and strict sites) derives them the
 * same way, so they always agree.
 */
export function fleetAvailabilityZones(stack: Stack, fleet: FleetConfig): string[] {
  if (fleet.network.availabilityZones) return [...fleet.network.availabilityZones];
  return Array.from({ length: fleet.network.maxAzs }, (_, i) => Fn.select(i, Fn.getAzs(stack.region)));
}
