/** Every error the recovery function raises. Callers and tests can catch the function's errors by this one class. */
export class RecoveryError extends Error {
  override readonly name: string = 'RecoveryError';
}

/** The incident is not waiting for a decision, or the wait is over. */
export class ApprovalError extends RecoveryError {
  override readonly name = 'ApprovalError';
}

export class RestoreDeployError extends RecoveryError {
  override readonly name = 'RestoreDeployError';
}

/** A request the workflow should never send: a bug, not a transient failure. */
export class InvalidRecoveryRequestError extends RecoveryError {
  override readonly name = 'InvalidRecoveryRequestError';
}

export class LedgerError extends RecoveryError {
  override readonly name = 'LedgerError';
}

/** The incident does not exist, or is not in a state release applies to. */
export class ReleaseError extends RecoveryError {
  override readonly name = 'ReleaseError';
}

/** The restore cannot go on; the site stays contained. Not worth retrying. */
export class RestoreRefusedError extends RecoveryError {
  override readonly name = 'RestoreRefusedError';
}

/** Rotation stopped; the message says which side holds which password (always a consistent pair). */
export class RotationError extends RecoveryError {
  override readonly name = 'RotationError';
}
