/** Every error the incident function raises. Callers and tests can catch the function's errors by this one class. */
export class IncidentStepError extends Error {
  override readonly name: string = 'IncidentStepError';
}

/** A request the workflow should never send: a bug, not a transient failure. */
export class InvalidStepRequestError extends IncidentStepError {
  override readonly name = 'InvalidStepRequestError';
}

export class IncidentNotFoundError extends IncidentStepError {
  override readonly name = 'IncidentNotFoundError';
}
