import { expect, onTestFinished } from 'vitest';

/**
 * Hands vitest's `expect` and `onTestFinished` to test support that benchmarks also load
 * (test/support/iam-authorization/authorizer.ts, through test/kit): such a module cannot
 * import vitest itself, since vitest refuses to be loaded outside a test run ("Vitest cannot
 * be imported in a CommonJS module using require()"), which stopped `npm run bench:contain`.
 * A setup file (vitest.config), so every test file has them.
 */
export interface VitestHooks {
  readonly expect: typeof expect;
  readonly onTestFinished: typeof onTestFinished;
}

(globalThis as { __bulkheadVitestHooks?: VitestHooks }).__bulkheadVitestHooks = { expect, onTestFinished };
