import type { StepRecord } from '../shared/incident-store';

/** Every error the containment function raises. Callers and tests can catch the function's errors by this one class. */
export class ContainmentError extends Error {
  override readonly name: string = 'ContainmentError';
}

/**
 * Containment could not isolate the site: the incident is FAILED with the reason. Thrown so
 * the event is delivered again (Lambda retries a function error of an asynchronous
 * invocation) and the next run, joining the FAILED incident, isolates again.
 */
export class ContainmentIncompleteError extends ContainmentError {
  override readonly name = 'ContainmentIncompleteError';
  constructor(
    readonly site: string,
    readonly incidentId: string,
    readonly failedSteps: readonly StepRecord[],
  ) {
    super(
      `${site} is not isolated (incident ${incidentId} is FAILED): ${
        failedSteps.map((s) => `${s.step}: ${s.detail ?? 'failed'}`).join('; ') || 'isolation did not finish'
      }`,
    );
  }
}

/**
 * The site's lock is held with no incident under it for longer than any holder takes to
 * write one. Thrown, so that the event runs again rather than join an incident that may
 * never exist.
 */
export class LockUnsettledError extends ContainmentError {
  override readonly name = 'LockUnsettledError';
  constructor(
    readonly site: string,
    readonly lockIncidentId: string,
    waitedMs: number,
  ) {
    super(`${site}'s lock names incident ${lockIncidentId}, which was not written within ${waitedMs / 1000} s`);
  }
}
