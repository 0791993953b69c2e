import { SFNClient } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import type { IncidentsResult } from '../../contracts/console-api';
import { requestApproval } from '../../runtime/recovery/approval';
import { ecsFindingEvent } from '../support/response-world';
import {
  type ConsoleWorld,
  invokeConsole,
  mutatingCallsBesidesAudit,
  ok,
  seedIncidents,
  setUpConsoleWorld,
  store,
} from './console-world';

let world: ConsoleWorld;
afterEach(() => world?.aws.restore());

const digestOf = (image: string) => image.split('@')[1] as string;

describe('status', () => {
  it('of the fleet: every site with its digest, tasks, containment and open incident', async () => {
    // Prepare
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1', desiredCount: 2 },
      { id: 'bakery', cell: 'c1', policy: 'shed' },
      { id: 'vault', cell: 'c2', isolation: 'strict' },
    ]);
    const contained = (await containHandler(ecsFindingEvent(world, 'acme'))) as { incidentId: string };

    // Act
    const status = await ok({ action: 'status' });

    // Assess
    expect(status.environment).toBe('test');
    expect(status.unreadable).toEqual([]);
    expect(status.sites.map((s) => s.site)).toEqual(['acme', 'bakery', 'vault']);
    const [acme, bakery, vault] = status.sites;
    expect(acme).toMatchObject({
      cell: 'c1',
      policy: 'contain',
      isolation: 'standard',
      digest: digestOf(world.site('acme').image),
      recordDigest: digestOf(world.site('acme').image),
      runningDigests: [digestOf(world.site('acme').image)],
      tasks: { running: 2, desired: 2 },
      containment: 'contained',
      openIncident: { incidentId: contained.incidentId, status: 'CONTAINED', drill: false, waitingForApproval: false },
    });
    expect(bakery).toMatchObject({ policy: 'shed', containment: 'none', tasks: { running: 1, desired: 1 } });
    expect(bakery?.openIncident).toBeUndefined();
    expect(vault).toMatchObject({ cell: 'c2', isolation: 'strict', containment: 'none' });
  });

  it('of one site, and of a site that is not deployed: a clear error, nothing read beyond its record', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    expect((await ok({ action: 'status', site: 'acme' })).sites).toHaveLength(1);
    const missing = await invokeConsole({ action: 'status', site: 'ghost' });

    expect(missing).toMatchObject({
      ok: false,
      error: {
        code: 'unknown-site',
        message:
          'no site ghost in test (no site record /bulkhead/test/sites/ghost); list the sites with `siteops status`',
      },
    });
    expect(mutatingCallsBesidesAudit(world)).toEqual([]);
  });

  it('says when the site runs another digest than its stack deployed (a restore)', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const record = world.aws.ssm.state.parameters['/bulkhead/test/sites/acme'];
    const changed = JSON.parse(record?.Value ?? '{}') as { image: { digest: string } };
    changed.image.digest = `sha256:${'e'.repeat(64)}`;
    world.aws.ssm.seedParameter('/bulkhead/test/sites/acme', JSON.stringify(changed));

    const [acme] = (await ok({ action: 'status' })).sites;

    expect(acme?.recordDigest).toBe(`sha256:${'e'.repeat(64)}`);
    expect(acme?.digest).toBe(digestOf(world.site('acme').image));
  });
});

describe('incidents', () => {
  async function twoIncidents() {
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1' },
    ]);
    const acme = await ok({ action: 'quarantine', site: 'acme', reason: 'first' });
    await ok({ action: 'release', incidentId: acme.incidentId });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bakery = await ok({ action: 'quarantine', site: 'bakery', reason: 'second' });
    return { acme: acme.incidentId, bakery: bakery.incidentId };
  }

  it('lists them newest first with their times, and filters by site, state and time', async () => {
    const ids = await twoIncidents();

    const all = await ok({ action: 'incidents' });
    const acme = await ok({ action: 'incidents', site: 'acme' });
    const contained = await ok({ action: 'incidents', state: 'CONTAINED' });
    const future = await ok({ action: 'incidents', since: new Date(Date.now() + 3_600_000).toISOString() });
    const past = await ok({ action: 'incidents', until: '2001-01-01T00:00:00Z' });
    const limited = await ok({ action: 'incidents', limit: 1 });

    expect(all.incidents.map((i) => i.incidentId)).toEqual([ids.bakery, ids.acme]);
    expect(acme.incidents.map((i) => i.incidentId)).toEqual([ids.acme]);
    expect(contained.incidents.map((i) => i.incidentId)).toEqual([ids.bakery]);
    expect(future.incidents).toEqual([]);
    expect(past.incidents).toEqual([]);
    expect(limited).toMatchObject({ truncated: true, incidents: [{ incidentId: ids.bakery }] });
    const [released] = acme.incidents;
    expect(released).toMatchObject({ status: 'RELEASED', times: { recoveredBy: 'release' } });
    expect(released?.times.toIsolateSeconds).toBeGreaterThanOrEqual(0);
    expect(released?.times.toRecoverSeconds).toBeGreaterThanOrEqual(released?.times.toIsolateSeconds ?? 0);
    expect(released?.times.toDetectSeconds).toBe(0); // an operator's request is detected when received
  });

  it('one incident: its timeline, oldest first; never the approval task token or the saved rules', async () => {
    // Prepare: the workflow waits for a decision (the token is on the incident).
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    const token = world.aws.sfn.issueTaskToken();
    await requestApproval(
      { store: store(world), sfn: new SFNClient({}), now: () => new Date() },
      { incidentId },
      token,
    );

    // Act
    const response = await invokeConsole({ action: 'incidents', incidentId });
    const listed = await invokeConsole({ action: 'incidents' });
    const status = await invokeConsole({ action: 'status' });

    // Assess
    if (!response.ok) throw new Error(response.error.message);
    const [incident] = (response.result as IncidentsResult).incidents;
    expect(incident).toMatchObject({ incidentId, approval: { waiting: true } });
    const steps = incident?.timeline.map((s) => s.step) ?? [];
    expect(steps).toEqual(expect.arrayContaining(['quarantine-security-group', 'shed-traffic', 'await-approval']));
    const times = incident?.timeline.map((s) => s.at) ?? [];
    expect(times).toEqual([...times].sort());
    for (const text of [JSON.stringify(response), JSON.stringify(listed), JSON.stringify(status)]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('approvalToken');
      expect(text).not.toContain('"saved"');
    }
    expect(JSON.stringify(status)).toContain('"waitingForApproval":true');
  });

  it('an unknown incident or site: a clear error; since after until: a usage error', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    const incident = await invokeConsole({ action: 'incidents', incidentId: 'nope-1' });
    const site = await invokeConsole({ action: 'incidents', site: 'ghost' });
    const range = await invokeConsole({
      action: 'incidents',
      since: '2025-06-02T00:00:00Z',
      until: '2025-06-01T00:00:00Z',
    });

    expect(incident).toMatchObject({ ok: false, error: { code: 'unknown-incident' } });
    expect(site).toMatchObject({ ok: false, error: { code: 'unknown-site' } });
    expect(range).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('after') },
    });
  });

  it('many incidents with long timelines come in pages well under Lambda’s 6 MB response limit, each once, newest first', async () => {
    // Prepare: 80 incidents of 2 sites, each with a 120-step timeline (about 2.7 MB in all)
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1' },
    ]);
    const expected = seedIncidents(world, 80, 120);

    // Act: page by page, as siteops does
    const pages: { bytes: number; ids: string[] }[] = [];
    let nextToken: string | undefined;
    do {
      const response = await invokeConsole({ action: 'incidents', limit: 500, ...(nextToken ? { nextToken } : {}) });
      if (!response.ok) throw new Error(response.error.message);
      const result = response.result as IncidentsResult;
      pages.push({
        bytes: Buffer.byteLength(JSON.stringify(response)),
        ids: result.incidents.map((i) => i.incidentId),
      });
      nextToken = result.nextToken;
    } while (nextToken && pages.length < 50);

    // Assess
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(page.bytes).toBeLessThan(1.5 * 1024 * 1024);
    expect(pages.flatMap((p) => p.ids)).toEqual(expected);
  });

  it('a page token for another query is refused, changing nothing', async () => {
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    seedIncidents(world, 30, 150);
    const first = await ok({ action: 'incidents', limit: 10 });

    const other = await invokeConsole({ action: 'incidents', limit: 10, site: 'acme', nextToken: first.nextToken });
    const forged = await invokeConsole({ action: 'incidents', nextToken: 'bm90IGEgdG9rZW4' });

    expect(first.nextToken).toBeDefined();
    expect(other).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('nextToken') },
    });
    expect(forged).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('nextToken') },
    });
  });
});
