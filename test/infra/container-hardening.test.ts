import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { auditAssembly, type CloudAssembly, loadCloudAssembly } from '../../tools/audit';
import {
  CONTAINER_PRIVILEGES_NUMBER,
  CONTAINER_PRIVILEGES_QUESTION,
} from '../../tools/audit/questions/container-privileges';
import { DEFAULTS, parseFleet } from '../../infra/config/load-fleet';
import { mutated, siteStackName } from '../audit/audit-support';
import { type SynthesizedFleet, synthExample } from '../support/synth-fleet';
import { resourcesOfType } from '../support/template-queries';
import { fleetRefusal } from '../support/fleet-refusal';

/**
 * Issue 15, item 5: a site's container runs as a non-root numeric user (the fleet file's
 * `runAsUser`, default 33:33), drops every Linux capability, adds none, and has an init process;
 * audit question 13 asks it of the templates.
 */

let synth: SynthesizedFleet;
let assembly: CloudAssembly;
beforeAll(() => {
  synth = synthExample();
  assembly = loadCloudAssembly(synth.outdir);
});

const exampleText = readFileSync('config/example.yaml', 'utf8');

function withSite(change: (site: Record<string, unknown>) => void): string {
  const fleet = parse(exampleText) as { sites: Record<string, unknown>[] };
  change(fleet.sites[0] as Record<string, unknown>);
  return stringify(fleet);
}

const refusal = fleetRefusal;

type Container = {
  User?: string;
  Privileged?: boolean;
  LinuxParameters?: { InitProcessEnabled?: boolean; Capabilities?: { Drop?: string[]; Add?: string[] } };
};

function containersOf(template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }) {
  return resourcesOfType(template as never, 'AWS::ECS::TaskDefinition').flatMap(
    ([, td]) => (td.Properties?.ContainerDefinitions as Container[] | undefined) ?? [],
  );
}

describe('the fleet file: runAsUser', () => {
  it('defaults to 33:33 (www-data) and takes a site’s own numeric uid:gid', () => {
    // Prepare
    const text = withSite((s) => {
      s.runAsUser = '101:101';
    });

    // Act
    const fleet = parseFleet(text, 'fleet.yaml');

    // Assess
    expect(DEFAULTS.site.runAsUser).toBe('33:33');
    expect(fleet.sites[0]?.runAsUser).toBe('101:101');
    expect(fleet.sites[1]?.runAsUser).toBe('33:33');
  });

  it.each([
    ['root by number', '0'],
    ['root group', '33:0'],
    ['a name (the image decides what it means)', 'www-data'],
    ['leading zeros', '0033'],
    ['past 2^31 - 1', '2147483648'],
    ['an empty string', ''],
  ])('refuses %s, naming the field, changing nothing', (_, value) => {
    // Act
    const error = refusal(
      withSite((s) => {
        s.runAsUser = value;
      }),
    );

    // Assess
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'sites[0].runAsUser', message: expect.stringContaining('other than 0 (root)') }),
    ]);
  });
});

describe('the task definition', () => {
  it('every site container: the fleet file’s user, ALL capabilities dropped, none added, init process, not privileged', () => {
    // Act
    const containers = synth.fleet.sites.flatMap((s) => containersOf(synth.siteJson(s.id) as never));

    // Assess
    expect(containers).toHaveLength(synth.fleet.sites.length);
    for (const c of containers) {
      expect(c.User).toBe('33:33');
      expect(c.LinuxParameters).toEqual({ InitProcessEnabled: true, Capabilities: { Drop: ['ALL'] } });
      expect(c.Privileged).toBeUndefined();
    }
  });
});

describe('question 13: do site containers run without root and extra capabilities?', () => {
  const question13 = (changed: CloudAssembly) => {
    const q = auditAssembly(changed).questions.find((x) => x.number === CONTAINER_PRIVILEGES_NUMBER);
    if (!q) throw new Error('no question 13');
    return q;
  };
  const containerOf =
    (stack: string) => (t: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }) => {
      const [, td] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::ECS::TaskDefinition') ?? [];
      const [c] = (td?.Properties.ContainerDefinitions as Container[] | undefined) ?? [];
      if (!c) throw new Error(`no container in ${stack}`);
      return c;
    };

  it('is yes for the example fleet, with each site’s user as evidence', () => {
    // Act
    const q = question13(assembly);

    // Assess
    expect(q.question).toBe(CONTAINER_PRIVILEGES_QUESTION);
    expect(q.answer).toBe('yes');
    expect(q.evidence.join('\n')).toContain(
      'acme-shop: container site runs as 33:33, drops ALL capabilities, with an init process',
    );
  });

  it.each([
    ['no User', (c: Container) => delete c.User, "container site sets no User (the image's user, usually root)"],
    ['User 0', (c: Container) => (c.User = '0'), 'container site runs as 0 (not a non-zero numeric uid)'],
    ['a user name', (c: Container) => (c.User = 'root'), 'container site runs as root (not a non-zero numeric uid)'],
    [
      'no dropped capabilities',
      (c: Container) => delete c.LinuxParameters,
      'container site does not drop ALL capabilities',
    ],
    [
      'an added capability',
      (c: Container) => (c.LinuxParameters = { Capabilities: { Drop: ['ALL'], Add: ['SYS_PTRACE'] } }),
      'container site adds SYS_PTRACE',
    ],
    ['privileged', (c: Container) => (c.Privileged = true), 'container site is privileged'],
  ])('is no, naming the site, with %s', (_, change, problem) => {
    // Prepare
    const stack = siteStackName('bakery');
    const changed = mutated(assembly, { [stack]: (t) => void change(containerOf(stack)(t as never)) });

    // Act
    const q = question13(changed);

    // Assess
    expect(q.answer).toBe('no');
    expect(q.evidence[0]).toBe(`✗ bakery: ${problem}`);
  });
});
