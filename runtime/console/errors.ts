import type { ConsoleErrorBody, ConsoleErrorCode } from '../../contracts/console-api';

/** An answer the operator can act on, returned as `{ ok: false, error }` (see ConsoleErrorCode). */
export class ConsoleError extends Error {
  override readonly name: string = 'ConsoleError';
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toBody(): ConsoleErrorBody {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** The payload is not a console request; nothing was read or changed. */
export class InvalidRequestError extends ConsoleError {
  override readonly name = 'InvalidRequestError';
  constructor(message: string) {
    super('invalid-request', message);
  }
}

/** No deployed site by that id in this environment; nothing was changed. */
export class UnknownSiteError extends ConsoleError {
  override readonly name = 'UnknownSiteError';
  constructor(
    readonly site: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('unknown-site', message, options);
  }
}

/** No incident by that id; nothing was changed. */
export class UnknownIncidentError extends ConsoleError {
  override readonly name = 'UnknownIncidentError';
  constructor(readonly incidentId: string) {
    super('unknown-incident', `no incident ${incidentId} (list them with \`siteops incidents\`)`);
  }
}

/** The site or incident is not in a state the action applies to; nothing was changed. */
export class ActionRefusedError extends ConsoleError {
  override readonly name = 'ActionRefusedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('refused', message, options);
  }
}

/** The action was attempted and did not complete; the message says what state things are in. */
export class ActionFailedError extends ConsoleError {
  override readonly name = 'ActionFailedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('failed', message, options);
  }
}
