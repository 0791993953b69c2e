/**
 * Errors of the isolation audit. Each has its own `name`, so the `siteops audit` command
 * can tell bad input (exit 2, "run synth first") from a failed audit (exit 1).
 */

/** The cloud assembly directory is missing, unreadable or not what `cdk synth` writes. */
export class AuditInputError extends Error {
  override readonly name = 'AuditInputError';
  constructor(
    message: string,
    /** The directory that was read. */
    readonly directory: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
