import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsoleResponse } from '../../contracts/console-api';
import { consoleHandler } from '../../runtime/console/index';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { consoleApiUrlParameterName } from '../../contracts/console-api';
import { apiInvoker, type ConnectTo, type InvokerFactory } from '../../tools/cli/invoker';
import { gatewayEvent } from '../support/console-gateway';
import { runSiteops, type SiteopsOptions } from '../../tools/cli/siteops';
import { StackName } from '../../contracts/names';
import { synthExample } from '../support/synth-fleet';
import {
  ALICE,
  type ConsoleWorld,
  invokeConsole,
  ok,
  seedIncidents,
  setUpConsoleWorld,
  store,
} from '../console/console-world';

/** SHA-256 for the test's own SigV4 signer (node:crypto). */
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    const key = this.secret;
    if (key === undefined) return createHash('sha256');
    return createHmac('sha256', typeof key === 'string' ? key : Buffer.from(key as Uint8Array));
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/**
 * siteops end to end: the real command line, and the real console handler in-process
 * against the AWS model (no AWS account). The invoker is the one seam: in-process here, the
 * signed request to the console API (a local server in API Gateway's place) in the last tests.
 */
let world: ConsoleWorld | undefined;
afterEach(() => {
  world?.aws.restore();
  world = undefined;
  vi.unstubAllEnvs();
});

const requests: unknown[] = [];
const inProcess: InvokerFactory = () => ({
  invoke: (request) => {
    requests.push(request);
    return invokeConsole(request as Record<string, unknown>, ALICE);
  },
});

async function siteops(args: string[], options: SiteopsOptions = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runSiteops(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { BULKHEAD_ENV: 'test' },
    invokerFactory: inProcess,
    sleep: async () => {
      await world?.aws.sfn.idle();
    },
    ...options,
  });
  return { code, stdout, stderr };
}

function fleet() {
  world = setUpConsoleWorld([
    { id: 'acme', cell: 'c1', desiredCount: 2 },
    { id: 'bakery', cell: 'c1', policy: 'shed' },
  ]);
  return world;
}

describe('output', () => {
  it('status: a table by default, exit 0', async () => {
    fleet();

    const { code, stdout, stderr } = await siteops(['status']);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SITE\s+CELL\s+ISOLATION\s+POLICY\s+DIGEST\s+TASKS\s+CONTAINMENT\s+INCIDENT$/);
    expect(lines[1]).toMatch(/^acme\s+c1\s+standard\s+contain\s+sha256:[0-9a-f]{12}…\s+2\/2\s+none\s+-$/);
    expect(lines[2]).toMatch(/^bakery\s+c1\s+standard\s+shed\s+sha256:[0-9a-f]{12}…\s+1\/1\s+none\s+-$/);
    expect(lines.at(-1)).toBe('2 site(s) in test; 0 with an open incident');
  });

  it('--json: the console answer as JSON, for scripts', async () => {
    fleet();

    const { code, stdout } = await siteops(['status', 'acme', '--json']);

    expect(code).toBe(0);
    const answer = JSON.parse(stdout) as ConsoleResponse<'status'>;
    expect(answer).toMatchObject({
      ok: true,
      action: 'status',
      result: { sites: [{ site: 'acme', containment: 'none' }] },
    });
  });

  it('quarantine, status, incidents, one incident, release: what an operator reads', async () => {
    fleet();

    const quarantine = await siteops(['quarantine', 'acme', '--reason', 'defaced homepage']);
    const incidentId = /incident (\S+),/.exec(quarantine.stdout)?.[1] ?? '';
    const status = await siteops(['status']);
    const incidents = await siteops(['incidents', '--site', 'acme', '--since', '1h']);
    const one = await siteops(['incidents', incidentId]);
    const release = await siteops(['release', incidentId, '--reason', 'client confirmed']);

    expect(quarantine.code).toBe(0);
    expect(quarantine.stderr).toBe('quarantining acme ...\n');
    expect(quarantine.stdout).toMatch(/^acme contained: incident \S+, isolated at .+ after the request\)\n/);
    expect(quarantine.stdout).toContain('quarantine-security-group: done');
    expect(quarantine.stdout).toContain(`next: siteops restore ${incidentId}  |  siteops release ${incidentId}`);
    expect(status.stdout).toMatch(new RegExp(`acme .* contained\\s+${incidentId}`));
    expect(incidents.stdout.split('\n')[0]).toMatch(
      /^INCIDENT\s+SITE\s+STATUS\s+DETECTED\s+DETECT\s+ISOLATE\s+RECOVER/,
    );
    expect(incidents.stdout).toMatch(new RegExp(`${incidentId}\\s+acme\\s+CONTAINED`));
    expect(one.stdout).toContain(`incident ${incidentId}`);
    expect(one.stdout).toContain('  timeline:');
    expect(one.stdout).toMatch(/shed-traffic: done/);
    expect(release.code).toBe(0);
    expect(release.stdout).toContain(`acme released: incident ${incidentId} is RELEASED`);
    const sent = requests.at(-3) as Record<string, unknown>;
    expect(sent).toMatchObject({ action: 'incidents', site: 'acme', limit: 50 });
    expect(Date.parse(sent.since as string)).toBeLessThan(Date.now());
  });

  it('incidents: follows the console’s pages up to --limit, each incident once, newest first', async () => {
    // Prepare: about 2 MB of incidents (the console answers at most 1 MB a page)
    world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'bakery', cell: 'c1' },
    ]);
    const ids = seedIncidents(world, 60, 120);
    requests.length = 0;

    // Act
    const all = await siteops(['incidents', '--limit', '500']);
    const some = await siteops(['incidents', '--limit', '25', '--json']);

    // Assess
    expect(all.code).toBe(0);
    const listed = all.stdout.split('\n').flatMap((line) => /^(\S+-(?:acme|bakery)-\d{4})\s/.exec(line)?.[1] ?? []);
    expect(listed).toEqual(ids);
    expect(all.stdout).not.toContain('more incidents match');
    expect(requests.filter((r) => (r as { action?: string }).action === 'incidents').length).toBeGreaterThan(2);
    const json = JSON.parse(some.stdout) as {
      ok: boolean;
      result: { incidents: { incidentId: string }[]; truncated: boolean };
    };
    expect(json.ok).toBe(true);
    expect(json.result.incidents.map((i) => i.incidentId)).toEqual(ids.slice(0, 25));
    expect(json.result.truncated).toBe(true);
  });

  it('drill: progress on stderr, the time to isolate on stdout, exit 0', async () => {
    fleet();

    const { code, stdout, stderr } = await siteops(['drill', 'acme']);

    expect(code).toBe(0);
    expect(stderr).toContain('drill on acme: sending a synthetic finding; waiting up to 120 s for containment');
    expect(stdout).toMatch(
      /^drill on acme: incident \S+ \(contain\) reached CONTAINED\n {2}time to isolate: [\d.]+ s from sending/,
    );
    expect(stdout).toContain('released: the site is back as it was');
  });

  it('restore: follows the incident on stderr until the site serves again', async () => {
    // Prepare: a contained incident whose workflow already notified; the workflow (a model hook) restores it.
    const w = fleet();
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    await store(w).updateIncident(incidentId, { notifiedAt: new Date().toISOString() });
    w.aws.sfn.onStartExecution(async (execution) => {
      if (!execution.name.includes('-restore-')) return;
      const at = () => new Date().toISOString();
      await store(w).updateIncident(incidentId, { status: 'RESTORING', restoreDigest: `sha256:${'b'.repeat(64)}` }, [
        { step: 'choose-digest', outcome: 'done', at: at(), detail: 'newest known-good' },
      ]);
      await store(w).updateIncident(incidentId, { status: 'RESTORED', restoredAt: at() }, [
        { step: 'restore-listener-rule', outcome: 'done', at: at() },
      ]);
    });

    // Act
    const { code, stdout, stderr } = await siteops(['restore', incidentId]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`incident ${incidentId}: restore of acme started (execution ${incidentId}-restore-`);
    expect(stderr).toContain(`following the restore of ${incidentId}`);
    expect(stderr).toMatch(/restore-requested: done/);
    expect(stderr).toMatch(/choose-digest: done \(newest known-good\)/);
    expect(stderr).toMatch(/restore-listener-rule: done/);
    expect(stderr).toContain(`acme serves again on sha256:${'b'.repeat(64)} (RESTORED)`);
  });

  it('restore: exit 1 with the reason when the restore fails', async () => {
    const w = fleet();
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });
    await store(w).updateIncident(incidentId, { notifiedAt: new Date().toISOString() });
    w.aws.sfn.onStartExecution(async () => {
      await store(w).updateIncident(
        incidentId,
        { status: 'FAILED', failureReason: 'restore: no known-good digest; the site stays contained' },
        [{ step: 'choose-digest', outcome: 'failed', at: new Date().toISOString() }],
      );
    });

    const { code, stderr } = await siteops(['restore', incidentId]);

    expect(code).toBe(1);
    expect(stderr).toContain('did not finish: FAILED: restore: no known-good digest; the site stays contained');
  });
});

describe('exit codes and errors', () => {
  it("1, with the console's message, for an unknown site or incident", async () => {
    fleet();

    const site = await siteops(['quarantine', 'ghost', '--reason', 'x']);
    const incident = await siteops(['release', 'nope-123']);
    const json = await siteops(['status', 'ghost', '--json']);

    expect(site.code).toBe(1);
    expect(site.stderr).toContain('siteops quarantine: no site ghost in test');
    expect(site.stderr).toContain('[unknown-site]');
    expect(incident.code).toBe(1);
    expect(incident.stderr).toContain(
      'siteops release: no incident nope-123 (list them with `siteops incidents`) [unknown-incident]',
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'unknown-site' } });
  });

  it('1 when the console refuses (not waiting for approval; release over drift)', async () => {
    fleet();
    const { incidentId } = await ok({ action: 'quarantine', site: 'acme', reason: 'r' });

    const approve = await siteops(['approve', incidentId, '--restore']);

    expect(approve.code).toBe(1);
    expect(approve.stderr).toMatch(/not waiting for approval.*\[refused\]/);
  });

  it.each([
    [['quarantine', 'acme'], /required option '--reason <text>' not specified/],
    [['approve', 'x-1'], /either --restore or --false-positive/],
    [['approve', 'x-1', '--restore', '--false-positive'], /either --restore or --false-positive/],
    [
      ['approve', 'x-1', '--false-positive', '--digest', `sha256:${'a'.repeat(64)}`],
      /--digest goes with --restore only/,
    ],
    [['restore', 'x-1', '--digest', 'latest'], /--digest latest: sha256:/],
    [['incidents', '--since', 'last tuesday'], /--since last tuesday: use 30m, 24h, 7d/],
    [['incidents', '--limit', '0'], /--limit 0: 1 to 500/],
    [['drill', 'acme', '--timeout', '5'], /--timeout 5: 10 to 240 seconds/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--env', 'Prod!', 'status'], /--env Prod!: an environment name is 2-16 characters/],
    [[], /Usage: siteops/],
  ])('2 for a usage error, sending nothing: siteops %j', async (args, message) => {
    const sent = requests.length;
    const { code, stderr } = await siteops(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(requests).toHaveLength(sent);
  });

  it('0 and the usage on stdout for --help', async () => {
    const { code, stdout } = await siteops(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Exit codes: 0 ok, 1 failed or refused, 2 usage');
  });

  it('no credentials: 1, and what to do', async () => {
    const noCredentials: InvokerFactory = () => ({
      invoke: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      },
    });

    const { code, stderr } = await siteops(['--profile', 'ops', 'status'], { invokerFactory: noCredentials });

    expect(code).toBe(1);
    expect(stderr).toContain('siteops status: no AWS credentials from profile ops: Could not load credentials');
    expect(stderr).toContain('assumes the operator role with MFA');
  });
});

describe('through the console API (SigV4; a local server answers as API Gateway does)', () => {
  const HOST = 'abcde12345.execute-api.eu-west-1.amazonaws.com';
  const URL_OF_API = `https://${HOST}/console/`;
  const SECRET = 'not-a-real-secret';

  function withCredentials(w: ConsoleWorld) {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLEEXAMPLE01');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET);
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');
    vi.stubEnv('AWS_PROFILE', '');
    return ['--env', 'test', '--region', w.aws.region];
  }

  interface Received {
    readonly method: string;
    readonly path: string;
    readonly headers: Record<string, string>;
    readonly body: string;
  }

  /**
   * A local HTTP server in API Gateway's place: records each request and answers with `answer`
   * (default: the console handler, given the request as API Gateway's proxy integration would).
   */
  async function localApi(
    answer?: (r: Received) => Promise<{ status: number; body: string }>,
  ): Promise<{ received: Received[]; connectTo: ConnectTo; close: () => Promise<void> }> {
    const received: Received[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          body: Buffer.concat(chunks).toString('utf8'),
        };
        received.push(r);
        const reply =
          answer ??
          (async (x: Received) => {
            const out = (await consoleHandler(gatewayEvent(undefined, { body: x.body }), { awsRequestId: 'r-1' })) as {
              statusCode: number;
              body: string;
            };
            return { status: out.statusCode, body: out.body };
          });
        void reply(r).then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(body);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      received,
      connectTo: { host: '127.0.0.1', port, protocol: 'http:' },
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  it('a console that is not deployed (no URL in SSM): 1, and the command that deploys it', async () => {
    const w = fleet();

    const { code, stderr } = await siteops([...withCredentials(w), 'status'], { invokerFactory: undefined });

    expect(code).toBe(1);
    expect(stderr).toContain('the ops console API is not deployed in eu-west-1');
    expect(stderr).toContain('deploy Bulkhead-test-Ops first: npx cdk deploy Bulkhead-test-Ops -c env=test');
  });

  it("signs its request with SigV4 for execute-api, to the URL the Ops stack published, and prints the console's answer", async () => {
    // Prepare
    const w = fleet();
    w.aws.ssm.putParameter(consoleApiUrlParameterName('test'), URL_OF_API);
    const api = await localApi();

    // Act
    const { code, stdout } = await siteops([...withCredentials(w), 'status', 'acme'], {
      invokerFactory: (o) => apiInvoker({ ...o, connectTo: api.connectTo }),
    });
    await api.close();

    // Assess: the answer printed
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SITE/);
    expect(stdout).toContain('acme');
    // Assess: one signed POST to the API's host and path
    expect(api.received).toHaveLength(1);
    const [request] = api.received as [Received];
    expect(request).toMatchObject({ method: 'POST', path: '/console/requests' });
    expect(request.headers.host).toBe(HOST);
    expect(JSON.parse(request.body)).toMatchObject({ action: 'status', site: 'acme', identity: { tool: 'siteops' } });
    const authorization = request.headers.authorization ?? '';
    const date = request.headers['x-amz-date'] ?? '';
    expect(date).toMatch(/^\d{8}T\d{6}Z$/);
    expect(authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE01/${date.slice(0, 8)}/eu-west-1/execute-api/aws4_request, SignedHeaders=([a-z0-9-;]+), Signature=[0-9a-f]{64}$`,
      ),
    );
    const signedHeaders = /SignedHeaders=([a-z0-9-;]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    expect(signedHeaders).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token', 'content-type']),
    );
    expect(request.headers['x-amz-security-token']).toBe('token');
    // Assess: the signature is the one SigV4 gives this request with these credentials
    const again = await new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'ASIAEXAMPLEEXAMPLE01', secretAccessKey: SECRET, sessionToken: 'token' },
      sha256: NodeSha256,
    }).sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: HOST,
        path: '/console/requests',
        query: {},
        headers: Object.fromEntries(
          signedHeaders
            .filter((h) => h !== 'x-amz-date' && h !== 'x-amz-security-token')
            .map((h) => [h, request.headers[h] ?? '']),
        ),
        body: request.body,
      },
      {
        signingDate: new Date(
          `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
        ),
      },
    );
    expect(again.headers.authorization).toBe(authorization);
  });

  it('a refusal by the API (not the operator role): 1, and who may', async () => {
    // Prepare
    const w = fleet();
    const api = await localApi(async () => ({
      status: 403,
      body: JSON.stringify({
        Message:
          'User: arn:aws:sts::123456789012:assumed-role/PowerUser/mallory is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:********1234:abcde12345/console/POST/requests with an explicit deny',
      }),
    }));

    // Act
    const { code, stderr } = await siteops([...withCredentials(w), '--url', URL_OF_API, 'status'], {
      invokerFactory: (o) => apiInvoker({ ...o, connectTo: api.connectTo }),
    });
    await api.close();

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain(
      'siteops status: not allowed to call the ops console of test: User: arn:aws:sts::123456789012:assumed-role/PowerUser/mallory is not authorized',
    );
    expect(stderr).toContain('only the operator role may, assumed with MFA');
  });

  it('a URL that is not an API Gateway stage in the region: 1, and nothing is sent', async () => {
    // Prepare
    const w = fleet();
    const api = await localApi();

    // Act
    const { code, stderr } = await siteops(
      [...withCredentials(w), '--url', 'https://console.attacker.example/console/', 'status'],
      {
        invokerFactory: (o) => apiInvoker({ ...o, connectTo: api.connectTo }),
      },
    );
    await api.close();

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('--url (https://console.attacker.example/console/) is not a console API URL');
    expect(api.received).toEqual([]);
  });

  it('a profile with mfa_serial asks the operator for the code', async () => {
    // Prepare: a profile that assumes the operator role from a base profile, with MFA.
    const w = fleet();
    const dir = mkdtempSync(path.join(tmpdir(), 'siteops-profile-'));
    writeFileSync(
      path.join(dir, 'config'),
      [
        '[profile bulkhead-ops]',
        'role_arn = arn:aws:iam::111122223333:role/bulkhead-test-operator',
        'source_profile = base',
        'mfa_serial = arn:aws:iam::111122223333:mfa/alice',
        `region = ${w.aws.region}`,
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'credentials'),
      '[base]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\naws_secret_access_key = not-a-real-secret\n',
    );
    vi.stubEnv('AWS_CONFIG_FILE', path.join(dir, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(dir, 'credentials'));
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    const asked: string[] = [];

    // Act: the operator does not give a code
    const { code, stderr } = await siteops(['--env', 'test', '--profile', 'bulkhead-ops', 'status'], {
      invokerFactory: undefined,
      prompt: async (question) => {
        asked.push(question);
        throw new Error('no MFA code given');
      },
    });

    // Assess
    expect(asked).toEqual(['MFA code for arn:aws:iam::111122223333:mfa/alice: ']);
    expect(code).toBe(1);
    expect(stderr).toContain('no MFA code given');
    expect(w.aws.callsTo('SSM', 'GetParameter')).toEqual([]);
  });
});

describe('audit', () => {
  it('audits the synthesized example fleet offline: every pair isolated, 14/14 (12: no endpoint carries data out; 13: containers without root or capabilities; 14: established connections cut), exit 0, and writes the HTML report', async () => {
    // Prepare
    const { outdir } = synthExample();
    const html = path.join(mkdtempSync(path.join(tmpdir(), 'siteops-audit-')), 'audit.html');

    // Act
    const { code, stdout } = await siteops(['audit', '--cdk-out', outdir, '--html', html]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/14\/14/);
    expect(stdout).toContain(`HTML report: ${html}`);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('exits 1 and names the path when one site can reach another', async () => {
    // Prepare: a copy of the example assembly where acme-shop's group admits bakery's
    const { outdir, fleet } = synthExample();
    const copy = mkdtempSync(path.join(tmpdir(), 'siteops-audit-path-'));
    cpSync(outdir, copy, { recursive: true });
    const [from, to] = fleet.sites.map((s) => s.id);
    const file = path.join(copy, `${StackName.site(fleet.environment, to as string)}.template.json`);
    const template = JSON.parse(readFileSync(file, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const groupId = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::EC2::SecurityGroup' && JSON.stringify(r.Properties.Tags).includes('"site-sg"'),
    )?.[0];
    const fromTemplate = JSON.parse(
      readFileSync(path.join(copy, `${StackName.site(fleet.environment, from as string)}.template.json`), 'utf8'),
    ) as typeof template;
    const fromGroup = Object.entries(fromTemplate.Resources).find(
      ([, r]) => r.Type === 'AWS::EC2::SecurityGroup' && JSON.stringify(r.Properties.Tags).includes('"site-sg"'),
    )?.[0];
    expect(groupId && fromGroup).toBeTruthy();
    fromTemplate.Resources.InjectedEgress = {
      Type: 'AWS::EC2::SecurityGroupEgress',
      Properties: { GroupId: { 'Fn::GetAtt': [fromGroup, 'GroupId'] }, IpProtocol: '-1', CidrIp: '10.0.0.0/8' },
    };
    template.Resources.InjectedIngress = {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: { GroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] }, IpProtocol: '-1', CidrIp: '10.0.0.0/8' },
    };
    writeFileSync(file, JSON.stringify(template));
    writeFileSync(
      path.join(copy, `${StackName.site(fleet.environment, from as string)}.template.json`),
      JSON.stringify(fromTemplate),
    );

    // Act
    const { code, stdout } = await siteops(['audit', '--cdk-out', copy]);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain('InjectedIngress');
  });

  it('synthesizes first when there is no cloud assembly yet', async () => {
    // Prepare
    const { outdir } = synthExample();
    const empty = path.join(mkdtempSync(path.join(tmpdir(), 'siteops-audit-empty-')), 'cdk.out');
    const synthesized: string[] = [];

    // Act
    const { code, stderr } = await siteops(['audit', '--env', 'example', '--cdk-out', empty], {
      synthesize: (environment, target) => {
        synthesized.push(environment);
        cpSync(outdir, target, { recursive: true });
      },
    });

    // Assess
    expect(synthesized).toEqual(['example']);
    expect(stderr).toContain(`no cloud assembly in ${empty}; synthesizing example first`);
    expect(code).toBe(0);
  });

  it('says so clearly when the audit module is not there', async () => {
    const { code, stderr } = await siteops(['audit'], {
      loadAudit: async () => {
        throw new Error("Cannot find module '../audit/index'");
      },
    });

    expect(code).toBe(1);
    expect(stderr).toContain('siteops audit: the isolation audit (tools/audit) is not available in this checkout');
  });
});
