import { FleetConfigError, parseFleet } from '../../infra/config/load-fleet';

/** The problems a fleet file's text is refused with; fails the test if it is accepted. */
export function fleetRefusal(text: string): FleetConfigError {
  try {
    parseFleet(text, 'fleet.yaml');
  } catch (error) {
    if (error instanceof FleetConfigError) return error;
    throw error;
  }
  throw new Error('expected the fleet file to be refused');
}
