import { Fn, type Stack, Token } from 'aws-cdk-lib';
import type { FleetConfig } from '../config/load-fleet';

/**
 * The AZs the fleet uses, decided without an account lookup: `<region>a`, `<region>b`, ...
 * when the fleet names its region, otherwise the deploy-time `Fn::GetAZs` list. Every stack
 * (network and strict sites) derives them the same way, so they always agree.
 */
export function fleetAvailabilityZones(stack: Stack, fleet: FleetConfig): string[] {
  const count = fleet.network.maxAzs;
  if (fleet.region && !Token.isUnresolved(fleet.region)) {
    return Array.from({ length: count }, (_, i) => `${fleet.region}${String.fromCharCode(97 + i)}`);
  }
  return Array.from({ length: count }, (_, i) => Fn.select(i, Fn.getAzs(stack.region)));
}
