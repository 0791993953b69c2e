import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidStepRequestError, runWorkflowStep } from '../../runtime/incident/index';
import { InvalidRecoveryRequestError, runRecoveryStep } from '../../runtime/recovery/index';
import type { ResponseWorld } from '../support/response-world';
import { FUZZ_SITE_IDS, fuzzWorld } from './support/contain-world';
import { HOSTILE_STRINGS, hostileJson, prototypeFingerprint } from './support/hostile';
import { preview } from './support/json';
import { mutatedArb } from './support/mutate';

/**
 * Property tests of the two Step Functions task Lambdas' request validation:
 * `runRecoveryStep({ step, input, taskToken? })` (runtime/recovery/index.ts) and
 * `runWorkflowStep({ step, input })` (runtime/incident/index.ts), 10,000 cases each, with
 * the AWS model installed (an empty incident table) so that every call is seen.
 *
 * - A request the contract refuses throws the function's own typed error
 *   (InvalidRecoveryRequestError / InvalidStepRequestError) whose message names the field,
 *   and makes no AWS call at all.
 * - A request the contract accepts is about an incident that does not exist (the table is
 *   empty): it may read, and fail, but it creates or changes nothing. The one documented
 *   exception: `mark-failed` publishes the IncidentWorkflowFailed metric even when the
 *   incident does not exist (see docs/hostile-input.md).
 *
 * Which requests the contract accepts is decided here independently of the zod schemas (from
 * the documented contract); where the two could legitimately differ (non-plain objects,
 * unsafe integers) the case only checks the weaker properties.
 */

const RUNS = 10_000;

/**
 * A site id as contracts/ids.ts documents it (written out here, not imported): 2 to 24 characters of
 * lowercase letters, digits and single hyphens, starting with a letter and not ending in a hyphen.
 */
function isSiteId(site: string): boolean {
  return (
    site.length >= 2 &&
    site.length <= 24 &&
    /^[a-z0-9-]*$/.test(site) &&
    /^[a-z]/.test(site) &&
    !site.endsWith('-') &&
    !site.includes('--')
  );
}

const RECOVERY_STEPS = [
  'begin-restore',
  'deploy-known-good',
  'check-health',
  'reopen',
  'return-to-primary',
  'close-restore',
  'mark-restore-failed',
  'rotate-credentials',
  'await-approval',
  'approval-timed-out',
  'release-false-positive',
] as const;
const WORKFLOW_STEPS = ['keep-evidence', 'notify', 'stop-contained-tasks', 'mark-failed'] as const;

type Verdict = 'valid' | 'invalid' | 'unsure';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
/** zod 4 measures string lengths in code points, not UTF-16 units. */
const codePoints = (s: string): number => [...s].length;

/** The recovery contract: runtime/recovery/index.ts requestSchema, restated. */
function recoveryVerdict(request: unknown): Verdict {
  if (request !== null && typeof request === 'object' && !Array.isArray(request) && !isPlainObject(request))
    return 'unsure';
  if (!isPlainObject(request)) return 'invalid';
  const input = own(request, 'input');
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && !isPlainObject(input)) return 'unsure';
  if (!isPlainObject(input)) return 'invalid';
  const step = own(request, 'step');
  if (typeof step !== 'string' || !(RECOVERY_STEPS as readonly string[]).includes(step)) return 'invalid';
  const incidentId = own(input, 'incidentId');
  if (typeof incidentId !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(incidentId)) return 'invalid';
  const site = own(input, 'site');
  if (typeof site !== 'string' || !isSiteId(site)) return 'invalid';
  const timeout = own(input, 'approvalTimeoutSeconds');
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0) return 'invalid';
    if (!Number.isSafeInteger(timeout)) return 'unsure';
  }
  const decision = own(input, 'decision');
  if (decision !== undefined) {
    if (decision !== null && typeof decision === 'object' && !Array.isArray(decision) && !isPlainObject(decision))
      return 'unsure';
    if (!isPlainObject(decision)) return 'invalid';
    const d = own(decision, 'decision');
    if (d !== undefined && d !== 'restore' && d !== 'false-positive') return 'invalid';
    const digest = own(decision, 'digest');
    if (digest !== undefined && (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest))) return 'invalid';
    const by = own(decision, 'by');
    if (by !== undefined && (typeof by !== 'string' || codePoints(by) > 256)) return 'invalid';
  }
  const token = own(request, 'taskToken');
  if (token !== undefined && (typeof token !== 'string' || token.length < 1 || codePoints(token) > 1024))
    return 'invalid';
  // The approval step waits on a task token; without one it is refused (also a typed error).
  if (step === 'await-approval' && token === undefined) return 'invalid';
  return 'valid';
}

/** The workflow contract: runtime/incident/index.ts requestSchema, restated. */
function workflowVerdict(request: unknown): Verdict {
  if (request !== null && typeof request === 'object' && !Array.isArray(request) && !isPlainObject(request))
    return 'unsure';
  if (!isPlainObject(request)) return 'invalid';
  const input = own(request, 'input');
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && !isPlainObject(input)) return 'unsure';
  if (!isPlainObject(input)) return 'invalid';
  const step = own(request, 'step');
  if (typeof step !== 'string' || !(WORKFLOW_STEPS as readonly string[]).includes(step)) return 'invalid';
  const incidentId = own(input, 'incidentId');
  if (typeof incidentId !== 'string' || incidentId.length < 1 || codePoints(incidentId) > 128) return 'invalid';
  if (typeof own(input, 'site') !== 'string' || typeof own(input, 'status') !== 'string') return 'invalid';
  if (typeof own(input, 'drill') !== 'boolean') return 'invalid';
  const hold = own(input, 'forensicHoldSeconds');
  if (typeof hold !== 'number' || !Number.isInteger(hold) || hold < 0) return 'invalid';
  if (!Number.isSafeInteger(hold)) return 'unsure';
  const error = own(input, 'error');
  if (error !== undefined) {
    if (error !== null && typeof error === 'object' && !Array.isArray(error) && !isPlainObject(error)) return 'unsure';
    if (!isPlainObject(error)) return 'invalid';
    for (const k of ['Error', 'Cause']) {
      const v = own(error, k);
      if (v !== undefined && typeof v !== 'string') return 'invalid';
    }
  }
  return 'valid';
}

let world: ResponseWorld;
beforeAll(() => {
  world = fuzzWorld();
});
afterAll(() => world.aws.restore());

const INCIDENT = '20260101T000000Z-acme-abcdef';

function recoveryBases(): Record<string, unknown>[] {
  return RECOVERY_STEPS.map((step) => ({
    step,
    input: {
      incidentId: INCIDENT,
      site: 'acme',
      status: 'CONTAINED',
      approvalTimeoutSeconds: 3600,
      decision: { decision: 'restore', digest: `sha256:${'ab'.repeat(32)}`, by: 'ops@agency.example' },
      holdUntil: '2026-01-01T00:30:00Z',
    },
    taskToken: 'AQCEAAAAKgAAAAMAAAAA-token',
  }));
}

function workflowBases(): Record<string, unknown>[] {
  return WORKFLOW_STEPS.map((step) => ({
    step,
    input: {
      incidentId: INCIDENT,
      site: 'acme',
      status: 'CONTAINED',
      drill: false,
      forensicHoldSeconds: 1800,
      error: { Error: 'States.TaskFailed', Cause: 'boom' },
    },
  }));
}

const STEP_SWAPS = [
  [...RECOVERY_STEPS, ...WORKFLOW_STEPS, 'Begin-Restore', 'begin-restore ', 'constructor', '__proto__'],
  [...FUZZ_SITE_IDS, 'ACME', 'a', 'acme/../bakery', '*'],
  [INCIDENT, '../other', 'a:b', 'x'.repeat(129), '*', 'INCIDENT#x'],
  ['restore', 'false-positive', 'Restore', 'approve'],
];

/** Anything at all: hostile JSON, non-JSON objects, and mutations of valid requests. */
function payloads(bases: Record<string, unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: hostileJson(), weight: 2 },
    {
      arbitrary: fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withDate: true }),
      weight: 1,
    },
    {
      arbitrary: mutatedArb(bases, {
        swaps: STEP_SWAPS,
        focus: [
          /^step$/,
          /^taskToken$/,
          /^input(\.(incidentId|site|decision|approvalTimeoutSeconds|forensicHoldSeconds|drill|error))?/,
        ],
        minMutations: 1,
        maxMutations: 3,
      }).map((m) => m.value),
      weight: 5,
    },
    { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 1 },
  );
}

interface Tally {
  invalid: number;
  valid: number;
  unsure: number;
}

async function checkRequest(
  request: unknown,
  run: (r: unknown) => Promise<unknown>,
  verdictOf: (r: unknown) => Verdict,
  typed: new (...args: never[]) => Error,
  messagePrefix: string,
  tally: Tally,
): Promise<void> {
  const verdict = verdictOf(request);
  tally[verdict]++;
  const prototypes = prototypeFingerprint();
  const before = world.aws.calls.all().length;
  let thrown: unknown;
  try {
    await run(request);
  } catch (error) {
    thrown = error;
  }
  const calls = world.aws.calls.all().slice(before);
  expect(prototypeFingerprint()).toBe(prototypes);
  if (thrown instanceof typed) {
    // Refused: the contract agrees it is invalid, the message says why, and AWS saw nothing.
    expect(verdict, `refused a request the contract accepts: ${thrown.message}`).not.toBe('valid');
    expect(thrown.message.startsWith(messagePrefix) || /needs the task token/.test(thrown.message)).toBe(true);
    expect(calls.map((c) => `${c.service}:${c.command}`)).toEqual([]);
    return;
  }
  expect(verdict, `accepted a request the contract refuses (${preview(thrown, 300)})`).not.toBe('invalid');
  // Accepted, about an incident that does not exist: nothing was created or changed.
  const changed = calls.filter(
    (c) => c.mutating && c.outcome === 'ok' && !(c.service === 'CloudWatch' && c.command === 'PutMetricData'),
  );
  expect(changed.map((c) => `${c.service}:${c.command} ${preview(c.input, 300)}`)).toEqual([]);
  if (thrown !== undefined) {
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message.length).toBeGreaterThan(0);
  }
}

describe('step requests: refused with a typed error and no AWS call, or accepted and harmless', () => {
  it('runRecoveryStep: random payloads and mutated valid requests (hostile ids, sites, steps, tokens), 10,000 cases', async () => {
    // Prepare
    const tally: Tally = { invalid: 0, valid: 0, unsure: 0 };

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(payloads(recoveryBases()), async (request) => {
        await checkRequest(
          request,
          runRecoveryStep,
          recoveryVerdict,
          InvalidRecoveryRequestError,
          'invalid recovery step request: ',
          tally,
        );
      }),
      { numRuns: RUNS },
    );
    if (process.env.FUZZ_TALLY) process.stderr.write(`recovery ${JSON.stringify(tally)}\n`);
    // Both sides of the contract were exercised.
    expect(tally.invalid).toBeGreaterThan(RUNS / 2);
    expect(tally.valid).toBeGreaterThan(RUNS / 50);
  });

  it('runWorkflowStep: random payloads and mutated valid requests, 10,000 cases', async () => {
    const tally: Tally = { invalid: 0, valid: 0, unsure: 0 };
    await fc.assert(
      fc.asyncProperty(payloads(workflowBases()), async (request) => {
        await checkRequest(
          request,
          runWorkflowStep,
          workflowVerdict,
          InvalidStepRequestError,
          'invalid workflow step request: ',
          tally,
        );
      }),
      { numRuns: RUNS },
    );
    if (process.env.FUZZ_TALLY) process.stderr.write(`workflow ${JSON.stringify(tally)}\n`);
    expect(tally.invalid).toBeGreaterThan(RUNS / 2);
    expect(tally.valid).toBeGreaterThan(RUNS / 50);
  });
});
