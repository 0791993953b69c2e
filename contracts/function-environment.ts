/**
 * The environment variables each Lambda function reads, by function: the stacks must set
 * every required one (the type {@link FunctionEnvironment} makes a missing one a compile
 * error) and the handlers read only these (runtime/shared/env.ts takes the names from here).
 * test/infra/function-environment.test.ts checks the synthesized functions against it.
 * Variables Lambda itself sets (`AWS_REGION`) and Powertools' own settings are not listed.
 */
export const FUNCTION_ENVIRONMENT = {
  contain: {
    required: [
      'BULKHEAD_ENV',
      'BULKHEAD_ACCOUNT',
      'INCIDENT_TABLE',
      'STATE_MACHINE_ARN',
      'LOGS_ENDPOINT_SG_ID',
      'QUARANTINE_ACL_ID',
      'CLUSTER_ARNS',
      'OPS_TOPIC_ARN',
    ],
    /** Test hooks: the quarantine's finishing delay (`min-max` ms) and a joiner's wait (ms). */
    optional: ['FINISH_QUARANTINE_DELAY_MS', 'JOIN_WAIT_MS'],
  },
  incident: {
    required: ['BULKHEAD_ENV', 'INCIDENT_TABLE', 'EVIDENCE_BUCKET', 'BACKUP_VAULT', 'BACKUP_ROLE_ARN', 'OPS_TOPIC_ARN'],
    optional: [],
  },
  recovery: {
    required: ['BULKHEAD_ENV', 'INCIDENT_TABLE', 'DB_USER_FUNCTION', 'LOGS_ENDPOINT_SG_ID', 'QUARANTINE_ACL_ID'],
    /** How long a restore waits for healthy tasks (seconds; default 900). */
    optional: ['RESTORE_HEALTH_TIMEOUT_SECONDS'],
  },
  ledger: { required: ['BULKHEAD_ENV', 'INCIDENT_TABLE'], optional: [] },
  coverage: { required: ['BULKHEAD_ENV', 'OPS_TOPIC_ARN', 'CLUSTER_CELLS'], optional: [] },
  console: {
    required: [
      'BULKHEAD_ENV',
      'BULKHEAD_ACCOUNT',
      'INCIDENT_TABLE',
      'STATE_MACHINE_ARN',
      'LOGS_ENDPOINT_SG_ID',
      'QUARANTINE_ACL_ID',
      'CLUSTER_ARNS',
      'DB_USER_FUNCTION',
      'DRILL_EVENT_BUS',
    ],
    /**
     * How long a drill waits for containment (seconds; default 120), and how long the console may
     * take to answer (seconds: the API's integration timeout; its waits are bounded by it).
     */
    optional: ['DRILL_TIMEOUT_SECONDS', 'CONSOLE_ANSWER_SECONDS'],
  },
} as const;

type Spec = typeof FUNCTION_ENVIRONMENT;
/** A function whose environment this contract names (its folder under runtime/). */
export type FunctionWithEnvironment = keyof Spec;
/** The name of a variable function F must be given (the stacks set it; runtime/shared/env.ts reads it). */
export type RequiredVariable<F extends FunctionWithEnvironment> = Spec[F]['required'][number];
/** The name of a variable function F may be given (runtime/shared/env.ts reads it with a default). */
export type OptionalVariable<F extends FunctionWithEnvironment> = Spec[F]['optional'][number];

/** What a stack passes as a function's environment: every required variable, any optional one. */
export type FunctionEnvironment<F extends FunctionWithEnvironment> = { readonly [K in RequiredVariable<F>]: string } & {
  readonly [K in OptionalVariable<F>]?: string;
};
