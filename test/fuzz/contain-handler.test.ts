import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { isIgnored, parseResponseEvent } from '../../runtime/contain/events';
import { siteAlarmPrefix } from '../../contracts/names';
import { containHandler, loggedReason } from '../../runtime/contain/index';
import type { SiteSnapshot } from '../support/aws-model';
import { ecsFindingEvent, type ResponseWorld } from '../support/response-world';
import {
  type EventBase,
  EVENT_FOCUS,
  eventBases,
  eventSwaps,
  FUZZ_SITE_IDS,
  FUZZ_SITES,
  fuzzWorld,
} from './support/contain-world';
import { hostileJson, prototypeFingerprint } from './support/hostile';
import { at, preview } from './support/json';
import { mutatedArb } from './support/mutate';

/**
 * Property tests of the whole containment handler (`containHandler`: parse, resolve the site,
 * lock, act) against the stateful AWS model with three seeded sites. Each case costs a few
 * milliseconds (tens when it contains a site, plus a fresh world), so these run 300, 200 and
 * 500 cases; the pure parser gets 10,000 per property in contain-events.test.ts.
 *
 * What "may change something" means here, decided from the code and the design:
 * - An event that is not a valid trigger for a seeded site makes no mutating AWS call at all.
 * - A valid trigger that names a well-formed but unknown site id (or one whose record puts
 *   the finding below its threshold) may take and give back that id's lock item in the
 *   incident table (round 1 reads the record and takes the lock at once, for speed), and
 *   nothing else: no other service, and the lock is released.
 * - A mutated event that is still a valid trigger for a seeded site may contain, shed or
 *   notify that site, and only that site: it must be the site the event itself names
 *   (its task, its alarm name or a task tag), and every other site stays exactly as it was.
 * - The handler never throws in a world without faults (every throw in respondToEvent is an
 *   AWS failure passed on for a retry), and every outcome carries a reason that is logged.
 */

const MUTATED_RUNS = 300;
const PLAUSIBLE_RUNS = 200;
export const TALLY = new Map<string, number>();
const ARBITRARY_RUNS = 500;

let world: ResponseWorld | undefined;
let bases: EventBase[];
let swaps: string[][];
let baseline: Record<string, SiteSnapshot>;
let warn: MockInstance;
let info: MockInstance;
const write = process.stdout.write.bind(process.stdout);

/** A fresh world (only needed after a case changed something) and its sites as they were. */
function freshWorld(): ResponseWorld {
  world?.aws.restore();
  const next = fuzzWorld();
  baseline = Object.fromEntries(FUZZ_SITE_IDS.map((id) => [id, next.aws.snapshot(id)]));
  world = next;
  return next;
}

beforeAll(() => {
  const first = freshWorld();
  bases = eventBases(first);
  swaps = eventSwaps(first);
  warn = vi.spyOn(Logger.prototype, 'warn');
  info = vi.spyOn(Logger.prototype, 'info');
  // Powertools flushes EMF metrics to stdout every 100 metrics; keep the test output readable.
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith('{"_aws"')
      ? true
      : (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(
          chunk,
          ...rest,
        )) as typeof process.stdout.write);
});
afterEach(() => {
  warn.mockClear();
  info.mockClear();
});
afterAll(() => {
  if (process.env.FUZZ_TALLY) process.stderr.write(`${JSON.stringify([...TALLY].sort())}\n`);
  world?.aws.restore();
  vi.restoreAllMocks();
});

/** Whether the event itself names the site: one of its tasks, one of its alarms, or a tag value. */
function eventNames(event: unknown, site: string, w: ResponseWorld): boolean {
  const text = JSON.stringify(event) ?? '';
  return (
    w.site(site).taskArns.some((arn) => text.includes(arn)) ||
    text.includes(`"${siteAlarmPrefix(w.fleet.environment)}${site}.`) ||
    text.includes(`"${site}"`)
  );
}

/**
 * The task tags a finding carries that contradict the site's record: a `bulkhead:security-group`
 * naming another group, `bulkhead:isolation: standard` on a strict site, a `shed`/`notify`
 * policy on a `contain` site, a threshold above the record's (as GuardDuty would report them
 * for a task started before the site changed). Containment trusts them: the known bug below.
 */
function staleHints(event: unknown, site: string, w: ResponseWorld): string[] {
  const tags = at(event, 'detail', 'resource', 'ecsClusterDetails', 'taskDetails', 'tags');
  if (!Array.isArray(tags)) return [];
  const value = (key: string) =>
    (tags as unknown[]).findLast((t) => at(t, 'key') === key && typeof at(t, 'value') === 'string');
  const group = at(value('bulkhead:security-group'), 'value');
  const isolation = at(value('bulkhead:isolation'), 'value');
  const policy = at(value('bulkhead:response-policy'), 'value');
  const threshold = Number(at(value('bulkhead:severity-threshold'), 'value'));
  const handles = w.site(site);
  const record = FUZZ_SITES.find((s) => s.id === site);
  return [
    ...(typeof group === 'string' && /^sg-[0-9a-f]{8,17}$/.test(group) && group !== handles.securityGroupId
      ? [`security-group tag ${group}`]
      : []),
    ...(isolation === 'standard' && handles.isolation === 'strict' ? ['isolation tag standard'] : []),
    ...((policy === 'shed' || policy === 'notify') && (record?.policy ?? 'contain') === 'contain'
      ? [`policy tag ${policy}`]
      : []),
    ...(Number.isFinite(threshold) && threshold > recordThreshold(site) ? [`threshold tag ${threshold}`] : []),
  ];
}

function recordThreshold(site: string): number {
  return FUZZ_SITES.find((s) => s.id === site)?.severityThreshold ?? 7;
}

async function openLocks(): Promise<Record<string, unknown>[]> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const items = (await db.send(new ScanCommand({ TableName: world?.tableName }))).Items ?? [];
  return items.filter((i) => i.sk === 'LOCK' && i.openIncidentId !== undefined);
}

/** Runs one event through the handler and checks every property; rebuilds the world if it changed. */
async function checkOneEvent(event: unknown): Promise<void> {
  const w = world ?? freshWorld();
  const prototypes = prototypeFingerprint();
  const callsBefore = w.aws.calls.all().length;
  warn.mockClear();
  info.mockClear();

  // Act
  let outcome: Awaited<ReturnType<typeof containHandler>> | undefined;
  let thrown: unknown;
  try {
    outcome = await containHandler(event);
  } catch (error) {
    thrown = error;
  }

  // Assess
  const tally = outcome ? (outcome.outcome === 'ignored' ? `ignored:${outcome.code}` : outcome.outcome) : 'threw';
  TALLY.set(tally, (TALLY.get(tally) ?? 0) + 1);
  const calls = w.aws.calls.all().slice(callsBefore);
  const mutating = calls.filter((c) => c.mutating);
  let passed = false;
  try {
    expect(thrown, `threw ${(thrown as Error)?.name}: ${(thrown as Error)?.message?.slice(0, 300)}`).toBeUndefined();
    expect(prototypeFingerprint()).toBe(prototypes);
    if (!outcome) return;
    if (outcome.outcome === 'ignored') {
      expect(outcome.reason.trim().length).toBeGreaterThan(10);
      // Logged as one inert, bounded value (issue 15, item 6): the reason as it is, escaped and cut.
      expect(warn).toHaveBeenCalledWith('event ignored, nothing changed', {
        code: outcome.code,
        reason: loggedReason(outcome.reason),
      });
      if (outcome.code === 'below-threshold') {
        // Below the site's real threshold (its record), unless a stale threshold tag (known bug) said so.
        const [, severity, site, threshold] =
          /severity (\S+) is below (\S+)'s threshold (\S+)$/.exec(outcome.reason) ?? [];
        expect(site && FUZZ_SITE_IDS.includes(site), outcome.reason).toBe(true);
        if (Number(severity) >= recordThreshold(site ?? '')) {
          expect(staleHints(event, site ?? '', w), outcome.reason).toContain(`threshold tag ${Number(threshold)}`);
        }
      }
      if (outcome.code === 'unknown-site' || outcome.code === 'below-threshold') {
        for (const call of mutating) {
          expect(`${call.service}:${call.command}`).toMatch(/^DynamoDB:(PutItem|UpdateItem)$/);
          const key =
            (call.input as { Item?: Record<string, { S?: string }>; Key?: Record<string, { S?: string }> }).Item ??
            (call.input as { Key?: Record<string, { S?: string }> }).Key;
          expect(key?.sk?.S).toBe('LOCK');
          expect(key?.pk?.S).toMatch(/^SITE#[a-z][a-z0-9-]{1,23}$/);
        }
        expect(await openLocks()).toEqual([]);
      } else {
        expect(mutating.map((c) => `${c.service}:${c.command}`)).toEqual([]);
      }
    } else if (outcome.outcome === 'wide-finding') {
      // A finding left with no task (or an attack sequence) about a Bulkhead cluster: the
      // operators are told (issue 11 item 4). Only a task it names is contained.
      expect(mutating.map((c) => `${c.service}:${c.command}`).filter((n) => n !== 'SNS:Publish')).toEqual(
        outcome.sites.length > 0 ? expect.anything() : [],
      );
      if (outcome.sites.length === 0) {
        for (const id of FUZZ_SITE_IDS) expect(w.aws.snapshot(id), `${id} changed`).toEqual(baseline[id]);
      }
    } else {
      expect(FUZZ_SITE_IDS).toContain(outcome.site);
      expect(eventNames(event, outcome.site, w), `event does not name ${outcome.site}`).toBe(true);
      const trigger = parseResponseEvent(event);
      expect(isIgnored(trigger)).toBe(false);
      expect(trigger).toMatchObject({ account: w.aws.accountId, region: w.aws.region });
      expect(info).toHaveBeenCalledWith('response', expect.objectContaining({ site: outcome.site }));
      // A fault-free world has no reason to fail, except the known stale-hint bug (below).
      if (outcome.outcome === 'failed') {
        expect(staleHints(event, outcome.site, w), `failed: ${preview(outcome, 1_500)}`).not.toEqual([]);
      }
      for (const other of FUZZ_SITE_IDS.filter((id) => id !== outcome.site)) {
        expect(w.aws.snapshot(other), `${other} changed`).toEqual(baseline[other]);
      }
    }
    passed = true;
  } finally {
    // After a failure, let anything the handler left running finish before the next world
    // installs its mocks (the SDK clients are stubbed on their prototypes).
    if (!passed) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!passed || mutating.length > 0) freshWorld();
  }
}

describe('containHandler against the AWS model (300 + 200 + 500 cases)', () => {
  it('sanity: each unmutated site event contains (or sheds) its own site, and only it', async () => {
    for (const base of bases.filter((b) => b.site !== undefined)) {
      freshWorld();
      const outcome = await containHandler(base.event);
      expect(outcome, base.name).toMatchObject({ site: base.site });
      expect(['contained', 'shed']).toContain(outcome.outcome);
    }
    for (const base of bases.filter((b) => b.site === undefined)) {
      freshWorld();
      await checkOneEvent(base.event);
    }
    freshWorld();
  });

  it('mutated valid events and public samples: 300 cases; never throws, changes only the site the event names, always a logged reason', async () => {
    // Prepare
    const mutated = mutatedArb(bases, {
      toValue: (b) => b.event,
      focus: EVENT_FOCUS,
      swaps,
      maxMutations: 3,
      // Past ~200 kB in service.eventFirstSeen the handler throws (the known bug below);
      // that class is pinned by its own test instead of surfacing here at random.
      maxHuge: 70_000,
    });

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(mutated, async (m) => {
        await checkOneEvent(m.value);
      }),
      { numRuns: MUTATED_RUNS },
    );
  });

  it('plausible-but-wrong events (a neighbour, an unknown site, another cell, task, environment, account or region swapped into the site events): 200 cases; same properties', async () => {
    // Prepare
    const plausible = mutatedArb(
      bases.filter((b) => !b.public),
      { toValue: (b) => b.event, swaps, kinds: ['swap'], minMutations: 1, maxMutations: 3 },
    );

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(plausible, async (m) => {
        await checkOneEvent(m.value);
      }),
      { numRuns: PLAUSIBLE_RUNS },
    );
  });

  it('arbitrary values (JSON, hostile strings, pollution objects, deep nesting): 500 cases; nothing changes, always a logged reason', async () => {
    await fc.assert(
      fc.asyncProperty(hostileJson(), async (event) => {
        await checkOneEvent(event);
      }),
      { numRuns: ARBITRARY_RUNS },
    );
  });

  /**
   * Found by the fuzzer (the "plausible" property, a case or two per run). Containment takes hints
   * from the finding's task tags (the fast path): the security group id, the isolation, the
   * policy and the threshold. In round 1 it reads only the hinted group, skips the group read
   * when the policy tag is not `contain`, and skips the ACL read when the isolation tag says
   * `standard`; before round 1 it drops a finding below the tag's threshold. When the record
   * loaded in round 1 disagrees (the group was replaced, the site became strict or `contain`,
   * or its threshold went down, after the task started), nothing is read again: the
   * quarantine-security-group step fails with "no group … tagged for <site>" and the site's
   * own group keeps every rule (a standard site is then not network-isolated at all), or the
   * strict site's subnets never move to the deny-all ACL (outcome `failed`), or the finding is
   * ignored as below a threshold the site no longer has. The record should decide, as it
   * already does when the record's threshold is the higher one.
   */
  /** A finding for a seeded site whose task tags say `value` for `key` (as a stale task would). */
  function findingWithTag(w: ResponseWorld, site: string, key: string, value: string, severity = 8) {
    const event = ecsFindingEvent(w, site, { withTaskTags: true, severity });
    const tags = at(event, 'detail', 'resource', 'ecsClusterDetails', 'taskDetails', 'tags') as {
      key: string;
      value: string;
    }[];
    const tag = tags.find((t) => t.key === key);
    expect(tag, `${site}'s task has no ${key} tag`).toBeDefined();
    if (tag) tag.value = value;
    return event;
  }

  it('a stale bulkhead:security-group task tag still quarantines the group named by the site record', async () => {
    // Prepare: the group the task was started with, before the site's group was replaced.
    const w = freshWorld();
    const event = findingWithTag(w, 'acme', 'bulkhead:security-group', 'sg-0123456789abcdef0');

    // Act
    const outcome = await containHandler(event);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expect(w.aws.snapshot('acme').securityGroup.ingress).toEqual([]);
    freshWorld();
  });

  it('a strict site whose task still carries bulkhead:isolation=standard gets its subnets on the deny-all ACL', async () => {
    const w = freshWorld();
    const outcome = await containHandler(findingWithTag(w, 'bakery', 'bulkhead:isolation', 'standard'));

    expect(outcome).toMatchObject({ outcome: 'contained', site: 'bakery' });
    for (const association of w.aws.snapshot('bakery').aclAssociations) {
      expect(association.networkAclId).toBe(w.fleet.quarantineAclId);
    }
    freshWorld();
  });

  it('a site whose policy became contain, with a task still tagged shed, has its group quarantined', async () => {
    const w = freshWorld();
    const outcome = await containHandler(findingWithTag(w, 'acme', 'bulkhead:response-policy', 'shed'));

    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expect(w.aws.snapshot('acme').securityGroup.ingress).toEqual([]);
    freshWorld();
  });

  it('a task still tagged with a higher severity threshold than the record does not suppress the finding', async () => {
    // Prepare: the record says 7 (acme's default); the task was started when it was 9.
    const w = freshWorld();

    // Act
    const outcome = await containHandler(findingWithTag(w, 'acme', 'bulkhead:severity-threshold', '9', 8));

    // Assess: severity 8 is at or above the record's 7.
    expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    freshWorld();
  });

  /**
   * Found by the fuzzer. `service.eventFirstSeen` (and `createdAt`, and an alarm's
   * `state.timestamp`) are taken as `detectedAt` without any check. `detectedAt` is written
   * twice into the incident item (as itself and in the bySite sort key), so a ~210 kB value,
   * which fits in a 256 kB PutEvents entry (a drill is any PutEvents caller), makes the
   * incident's PutItem exceed DynamoDB's 400 kB item limit. By then round 2 has already
   * rewritten the site's security group. The handler throws; the lock stays held with no
   * incident behind it, so every redelivery and every later finding for the site is "joined"
   * to an incident that does not exist: no shed, no session revocation, no workflow, no
   * notification. (Real DynamoDB already refuses a 1.1 kB `detectedAt`: sort keys are at most
   * 1,024 bytes; the model does not enforce key sizes.)
   */
  it('a finding with a 210 kB service.eventFirstSeen is either refused or fully contained, never left half-done', async () => {
    // Prepare
    const w = freshWorld();
    const event = ecsFindingEvent(w, 'acme');
    (event.detail as { service: Record<string, unknown> }).service.eventFirstSeen = 'x'.repeat(210_000);

    // Act
    let thrown: unknown;
    let outcome: Awaited<ReturnType<typeof containHandler>> | undefined;
    try {
      outcome = await containHandler(event);
    } catch (error) {
      thrown = error;
    }
    const next = await containHandler(ecsFindingEvent(w, 'acme', { findingId: 'next' }));

    // Assess: refused outright, or contained for good; either way the next finding finds a
    // real incident and the site ends up fully contained.
    expect(thrown, `threw ${(thrown as Error)?.name}: ${(thrown as Error)?.message}`).toBeUndefined();
    if (outcome?.outcome === 'ignored') expect(outcome.code).toBe('malformed-event');
    else expect(outcome).toMatchObject({ outcome: 'contained', site: 'acme' });
    expect(['contained', 'joined']).toContain(next.outcome);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const items = (await db.send(new ScanCommand({ TableName: w.tableName }))).Items ?? [];
    expect(items.filter((i) => i.sk === 'META' && i.site === 'acme')).toEqual([
      expect.objectContaining({ status: 'CONTAINED' }),
    ]);
    expect(w.aws.snapshot('acme').listenerRule.actions[0]).toMatchObject({ Type: 'fixed-response' });
    freshWorld();
  });
});
