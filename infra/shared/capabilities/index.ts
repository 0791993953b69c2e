/**
 * Each capability's IAM statements, built once and used by every role that has it: the
 * response plane's functions (infra/response/response-stack.ts) and the ops console
 * (infra/ops/ops-stack.ts), which runs containment's and recovery's code. The Sids are the ones
 * docs/iam.md lists; where roles name one capability differently, the Sid is an argument.
 */
export * from './listener-rules';
export * from './site-network';
export * from './site-passwords';
export * from './site-records';
export * from './site-services';
export * from './task-role-sessions';
