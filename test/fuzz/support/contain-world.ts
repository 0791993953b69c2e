/**
 * The world the containment fuzz tests run in, and the valid events they mutate.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DRILL_DETAIL_TYPE, DRILL_SOURCE } from '../../../runtime/contain/events';
import {
  ecsFindingEvent,
  type ResponseWorld,
  SAMPLE_EVENTS,
  setUpResponseWorld,
  sampleEvent,
  siteAlarmEvent,
  type WorldSite,
} from '../../support/response-world';

/** Three sites: a standard one, a strict one (ACL swap), and one whose policy only sheds. */
export const FUZZ_SITES: readonly WorldSite[] = [
  { id: 'acme', cell: 'c1' },
  { id: 'bakery', cell: 'c1', isolation: 'strict' },
  { id: 'clinic', cell: 'c2', policy: 'shed', severityThreshold: 5 },
];
export const FUZZ_SITE_IDS = FUZZ_SITES.map((s) => s.id);

export function fuzzWorld(): ResponseWorld {
  return setUpResponseWorld(FUZZ_SITES);
}

export interface EventBase {
  readonly name: string;
  readonly event: unknown;
  /** The site this event, unmutated, acts on (undefined: it changes nothing). */
  readonly site?: string;
  /** One of the public samples in test/fixtures/events (not built for the fuzz world). */
  readonly public?: boolean;
}

/** Every public sample event in test/fixtures/events (none of them is a trigger for a Bulkhead site). */
export function publicSamples(): EventBase[] {
  return readdirSync(SAMPLE_EVENTS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(path.join(SAMPLE_EVENTS, d.name))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${d.name}/${f}`),
    )
    .sort()
    .map((name) => ({ name, event: sampleEvent(name), public: true }));
}

/**
 * The valid triggers for the fuzz world's sites (findings with and without task tags, a
 * drill, alarms of both kinds), then the public samples. The model's ids are deterministic,
 * so these stay valid in every fresh world built by {@link fuzzWorld}.
 */
export function eventBases(world: ResponseWorld): EventBase[] {
  const drill = { ...ecsFindingEvent(world, 'acme'), source: DRILL_SOURCE, 'detail-type': DRILL_DETAIL_TYPE };
  return [
    { name: 'finding acme (no tags)', event: ecsFindingEvent(world, 'acme'), site: 'acme' },
    {
      name: 'finding bakery (task tags)',
      event: ecsFindingEvent(world, 'bakery', { withTaskTags: true }),
      site: 'bakery',
    },
    {
      name: 'finding clinic (task tags, severity 9)',
      event: ecsFindingEvent(world, 'clinic', { withTaskTags: true, severity: 9 }),
      site: 'clinic',
    },
    // Valid, about a seeded site, but below its threshold (5): the record decides, nothing changes.
    { name: 'finding clinic (no tags, severity 4)', event: ecsFindingEvent(world, 'clinic', { severity: 4 }) },
    { name: 'drill acme', event: drill, site: 'acme' },
    { name: 'alarm acme error-rate', event: siteAlarmEvent(world, 'acme', 'error-rate'), site: 'acme' },
    { name: 'alarm bakery egress', event: siteAlarmEvent(world, 'bakery', 'egress'), site: 'bakery' },
    ...publicSamples(),
  ];
}

/** Fields of an event that carry ids, ARNs, tags, names, times and the routing keys. */
export const EVENT_FOCUS: readonly RegExp[] = [
  /^(id|account|region|source|detail-type|time|version)$/,
  /^resources(\[0\])?$/,
  /^detail$/,
  /^detail\.(id|accountId|region|severity|type|createdAt|alarmName)$/,
  /^detail\.service(\.(count|eventFirstSeen))?$/,
  /^detail\.resource(\.resourceType)?$/,
  /ecsClusterDetails(\.arn)?$/,
  /taskDetails(\.(arn|group))?$/,
  /tags(\[\d+\](\.(key|value))?)?$/,
  /^detail\.state(\.(value|timestamp|reason))?$/,
];

/** Plausible-but-wrong values for swap mutations: other sites, unknown sites, cells, tasks, accounts. */
export function eventSwaps(world: ResponseWorld): string[][] {
  const taskIds = FUZZ_SITE_IDS.flatMap((id) => world.site(id).taskArns.map((arn) => arn.split('/').pop() ?? ''));
  return [
    [...FUZZ_SITE_IDS, 'nosuch', 'acme-shop', 'ac'],
    ['c1', 'c2', 'c3'],
    ['error-rate', 'egress', 'cpu'],
    [`bulkhead-${world.fleet.environment}-`, 'bulkhead-prod-', 'bulkhead-test-eu-'],
    [`bulkhead.${world.fleet.environment}.`, 'bulkhead.prod.', 'bulkhead.test-eu.'],
    [world.fleet.environment, 'prod'],
    [...taskIds, '0123456789abcdef0123456789abcdef'],
    [world.aws.accountId, '210987654321'],
    [world.aws.region, 'us-east-1'],
    ['ALARM', 'OK', 'INSUFFICIENT_DATA'],
    ['ECSCluster', 'Instance', 'EKSCluster'],
    ['service:', 'family:'],
    ['contain', 'shed', 'notify', 'none'],
    ['standard', 'strict'],
  ];
}
