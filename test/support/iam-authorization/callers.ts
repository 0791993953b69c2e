/**
 * Which Lambda function made an AWS call the model answers, from the call's (async) stack:
 * handlers run in the test process, so the code that sent the request is on the stack.
 *
 * A function's entry is its `runtime/<folder>/index.ts` (the handler Lambda invokes, and the
 * run functions tests call); the innermost entry on the stack is the caller. Shared code needs
 * no special case: the ops console runs containment's and recovery's code from its own entry;
 * a function another one invokes through the model's Lambda (recovery invoking the
 * database-user function) has its own entry above the invoker's. A call with no entry on its
 * stack was made by the test itself (reading state, or calling an internal function directly)
 * and is not a handler's call.
 */

export const RESPONSE_FUNCTIONS = ['console', 'incident', 'ledger', 'recovery', 'contain', 'coverage'] as const;
export type ResponseFunction = (typeof RESPONSE_FUNCTIONS)[number];

const ENTRY_FRAME = /[/\\]runtime[/\\]([a-z-]+)[/\\]index\.ts:/;

export interface Attribution {
  /** The response function whose entry is innermost, if it is one of the response plane's. */
  readonly fn?: ResponseFunction;
  /** The folder of the innermost entry (`db-user` and others are not checked). */
  readonly entry?: string;
}

export function callerOf(stack: string): Attribution {
  for (const frame of stack.split('\n')) {
    const entry = ENTRY_FRAME.exec(frame)?.[1];
    if (entry) {
      const fn = RESPONSE_FUNCTIONS.find((f) => f === entry);
      return { entry, ...(fn ? { fn } : {}) };
    }
  }
  return {};
}

/** The current stack, deep enough to reach the handler's entry through async frames. */
export function currentStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack;
}
