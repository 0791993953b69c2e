/**
 * A handler factory's dependencies: an object (a test's), or a function that builds them for
 * each invocation (the environment's: `containDeps`, `consoleDeps`, `recoveryDeps`, `workflowDeps`).
 */
export type DepsSource<D> = D | (() => D);

/** The dependencies an invocation runs against. */
export function depsOf<D extends object>(source: DepsSource<D>): D {
  return typeof source === 'function' ? (source as () => D)() : source;
}
