import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import type { FunctionWithEnvironment, OptionalVariable, RequiredVariable } from '../../contracts/function-environment';

/** Reads a function's environment by the names its contract (contracts/function-environment.ts) gives. */
export interface EnvironmentReader<F extends FunctionWithEnvironment> {
  /** A required variable, or an error naming it and who sets it. */
  required(name: RequiredVariable<F>): string;
  /** An optional variable, or undefined when it is unset or empty. */
  optional(name: OptionalVariable<F>): string | undefined;
}

/** The environment of the `fn` function (Powertools' environment helpers underneath). */
export function environmentOf<F extends FunctionWithEnvironment>(fn: F): EnvironmentReader<F> {
  return {
    required: (name) =>
      getStringFromEnv({
        key: name,
        errorMessage: `environment variable ${name} is not set; the ${fn} function is configured by its Bulkhead stack`,
      }),
    optional: (name) => getStringFromEnv({ key: name, defaultValue: '' }) || undefined,
  };
}

/** The function's region, which Lambda sets (AWS_REGION, a reserved variable). */
export function lambdaRegion(): string {
  return getStringFromEnv({ key: 'AWS_REGION', errorMessage: 'AWS_REGION is not set (Lambda sets it)' });
}
