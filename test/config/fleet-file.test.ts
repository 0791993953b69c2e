import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FleetConfigError, loadFleetFile, parseFleet } from '../../infra/config/load-fleet';
import { fleetRefusal } from '../support/fleet-refusal';

const EXAMPLE = 'config/example.yaml';
const exampleText = readFileSync(EXAMPLE, 'utf8');

/** The example fleet as a plain object, to mutate one thing at a time. */
function example(): Record<string, unknown> & { sites: Record<string, unknown>[] } {
  return parse(exampleText);
}

const problemsOf = fleetRefusal;

function refuse(mutate: (fleet: ReturnType<typeof example>) => void): FleetConfigError {
  const fleet = example();
  mutate(fleet);
  return problemsOf(stringify(fleet));
}

const site = (fleet: ReturnType<typeof example>, i: number) => fleet.sites[i] as Record<string, unknown>;

describe('the example fleet', () => {
  it('loads with four sites in two cells, one strict', () => {
    // Act
    const fleet = loadFleetFile(EXAMPLE);

    // Assess
    expect(fleet.sites.map((s) => s.id)).toEqual(['acme-shop', 'bakery', 'clinic', 'dentist']);
    expect(fleet.cells.map((c) => [c.id, c.siteIds])).toEqual([
      ['blue', ['acme-shop', 'bakery']],
      ['green', ['clinic', 'dentist']],
    ]);
    expect(fleet.sites.filter((s) => s.isolation === 'strict').map((s) => s.id)).toEqual(['clinic']);
    expect(fleet.needsInternet).toBe(true);
  });

  it('applies fleet defaults, then built-in defaults, and a site overrides both', () => {
    // Act
    const fleet = loadFleetFile(EXAMPLE);
    const bakery = fleet.sites.find((s) => s.id === 'bakery');
    const dentist = fleet.sites.find((s) => s.id === 'dentist');

    // Assess
    expect(bakery).toMatchObject({ cpu: 256, memory: 512, desiredCount: 1 });
    expect(bakery?.response).toEqual({
      policy: 'shed',
      severityThreshold: 7,
      forensicHoldMinutes: 30,
      autoRestore: false,
      approvalTimeoutHours: 24,
    });
    expect(dentist).toMatchObject({
      cpu: 512,
      memory: 1024,
      desiredCount: 2,
      internetEgress: false,
      isolation: 'standard',
    });
    expect(dentist?.response.policy).toBe('notify');
  });

  it('derives database names, image URI and strict subnets', () => {
    // Act
    const clinic = loadFleetFile(EXAMPLE).sites.find((s) => s.id === 'clinic');
    const acme = loadFleetFile(EXAMPLE).sites.find((s) => s.id === 'acme-shop');

    // Assess
    expect(acme?.database).toEqual({ schema: 'wp_acme_shop', user: 'site_acme_shop' });
    expect(acme?.image.uri).toMatch(
      /^111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/sites\/acme-shop@sha256:[0-9a-f]{64}$/,
    );
    expect(clinic?.subnetCidrs).toEqual(['10.40.128.0/26', '10.40.128.64/26']);
    expect(acme?.subnetCidrs).toHaveLength(2);
    expect(acme?.subnetCidrs).not.toEqual(clinic?.subnetCidrs);
  });

  it('keeps derived numbers stable when other sites are added or reordered', () => {
    // Prepare
    const fleet = example();
    const reordered = { ...fleet, sites: [...fleet.sites].reverse() };
    const extra = {
      ...fleet,
      sites: [...fleet.sites, { ...site(fleet, 3), id: 'newcomer', domains: ['new.example'] }],
    };

    // Act
    const before = loadFleetFile(EXAMPLE).sites;
    const afterReorder = parseFleet(stringify(reordered), 'r.yaml').sites;
    const afterAdd = parseFleet(stringify(extra), 'a.yaml').sites;

    // Assess
    for (const s of before) {
      const pick = (list: typeof before) => list.find((x) => x.id === s.id);
      expect([pick(afterReorder)?.uploadsPosixId, pick(afterAdd)?.uploadsPosixId]).toEqual([
        s.uploadsPosixId,
        s.uploadsPosixId,
      ]);
      expect([pick(afterReorder)?.listenerPriority, pick(afterAdd)?.listenerPriority]).toEqual([
        s.listenerPriority,
        s.listenerPriority,
      ]);
      expect([pick(afterReorder)?.subnetCidrs, pick(afterAdd)?.subnetCidrs]).toEqual([s.subnetCidrs, s.subnetCidrs]);
    }
  });
});

describe('a bad fleet file is refused whole, naming the file, the path and the fix', () => {
  it('names the file and the line of each problem', () => {
    // Act
    const error = refuse((f) => {
      site(f, 1).isolaton = 'strict';
    });

    // Assess
    expect(error.message).toMatch(/^fleet\.yaml: 1 problem in the fleet file; nothing was built\./);
    expect(error.problems[0]).toMatchObject({ path: 'sites[1].isolaton' });
    expect(error.problems[0]?.line).toBeGreaterThan(1);
    expect(error.message).toMatch(
      /fleet\.yaml:\d+:\d+ {2}sites\[1\]\.isolaton: unknown key "isolaton" \(did you mean "isolation"\?\)/,
    );
  });

  it('refuses unknown keys at every level', () => {
    // Act
    const error = refuse((f) => {
      f.colour = 'blue';
      (f.operators as Record<string, unknown>).mfa = false;
      (site(f, 0).response as Record<string, unknown> | undefined) ??= {};
      (site(f, 0).image as Record<string, unknown>).tag = 'latest';
    });

    // Assess
    expect(error.problems.map((p) => p.path).sort()).toEqual(['colour', 'operators.mfa', 'sites[0].image.tag']);
  });

  it('refuses duplicate site ids', () => {
    const error = refuse((f) => {
      site(f, 2).id = 'bakery';
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[2].id',
        message: expect.stringContaining('"bakery" is already used by sites[1]'),
      }),
    ]);
  });

  it('refuses a domain claimed by two sites', () => {
    const error = refuse((f) => {
      site(f, 3).domains = ['dentist.example', 'bakery.example'];
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[3].domains[1]',
        message: expect.stringContaining('"bakery.example" is already served by sites[1] (bakery)'),
      }),
    ]);
  });

  it.each([
    ['uppercase', 'Acme'],
    ['SQL injection', "x'; DROP TABLE wp_users; --"],
    ['backtick', 'a`b'],
    ['trailing hyphen', 'acme-'],
    ['double hyphen', 'ac--me'],
    ['leading digit', '1acme'],
    ['too long', 'a'.repeat(25)],
    ['underscore', 'acme_shop'],
    ['dot', 'acme.shop'],
  ])('refuses a site id that is not a safe DNS/SQL label (%s)', (_, id) => {
    const error = refuse((f) => {
      site(f, 0).id = id;
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[0].id',
        message: expect.stringContaining('lowercase letters, digits and single hyphens'),
      }),
    ]);
  });

  it('refuses a digest that is not a digest', () => {
    const error = refuse((f) => {
      (site(f, 0).image as Record<string, unknown>).digest = 'sha256:abc123';
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[0].image.digest',
        message: expect.stringContaining('64 lowercase hex characters (this one has 6)'),
      }),
    ]);
  });

  it('refuses an uppercase or non-hex digest', () => {
    const error = refuse((f) => {
      (site(f, 0).image as Record<string, unknown>).digest = `sha256:${'G'.repeat(64)}`;
    });
    expect(error.problems[0]?.message).toContain('characters that are not lowercase hex');
  });

  it('refuses a tag where a digest belongs, and says how to find the digest', () => {
    const error = refuse((f) => {
      (site(f, 1).image as Record<string, unknown>).digest = 'latest';
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[1].image.digest',
        message: expect.stringContaining('"latest" is an image tag, not a digest'),
      }),
    ]);
    expect(error.message).toContain('aws ecr describe-images');
  });

  it('refuses a tag written into the repository', () => {
    const error = refuse((f) => {
      (site(f, 1).image as Record<string, unknown>).repository =
        '111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/bakery:v2';
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[1].image.repository',
        message: expect.stringContaining('carries a tag (":v2")'),
      }),
    ]);
  });

  it('refuses an image that is not in ECR', () => {
    const error = refuse((f) => {
      (site(f, 1).image as Record<string, unknown>).repository = 'docker.io/library/wordpress';
    });
    expect(error.problems[0]?.message).toContain('not an Amazon ECR repository URI');
  });

  it.each([
    [256, 4096, 'cpu 256 allows memory 512, 1024, 2048'],
    [1024, 1024, 'cpu 1024 allows memory 2048 to 8192 in steps of 1024'],
    [4096, 8000, 'cpu 4096 allows memory 8192 to 30720 in steps of 1024'],
  ])('refuses cpu %i with memory %i, which Fargate does not offer', (cpu, memory, hint) => {
    const error = refuse((f) => {
      Object.assign(site(f, 2), { cpu, memory });
    });
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'sites[2].memory', message: expect.stringContaining(hint) }),
    ]);
  });

  it('refuses a cpu value Fargate does not have', () => {
    const error = refuse((f) => {
      site(f, 2).cpu = 300;
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[2].cpu',
        message: expect.stringContaining('256, 512, 1024, 2048, 4096, 8192, 16384'),
      }),
    ]);
  });

  it('refuses a cell over capacity and says how to fix it', () => {
    const error = refuse((f) => {
      f.cellSize = 1;
    });
    expect(error.problems.map((p) => [p.path, p.message])).toEqual([
      ['sites[1].cell', expect.stringContaining('cell "blue" has 2 sites but cellSize is 1')],
      ['sites[3].cell', expect.stringContaining('cell "green" has 2 sites but cellSize is 1')],
    ]);
  });

  it('refuses a cellSize above what one load balancer holds', () => {
    const error = refuse((f) => {
      f.cellSize = 120;
    });
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'cellSize', message: expect.stringContaining('100 rules') }),
    ]);
  });

  it('refuses a site in a cell that is not declared', () => {
    const error = refuse((f) => {
      site(f, 0).cell = 'purple';
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[0].cell',
        message: expect.stringContaining('declared: blue, green'),
      }),
    ]);
  });

  it('refuses a site without a contact', () => {
    const error = refuse((f) => {
      delete site(f, 3).contact;
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[3].contact',
        message: expect.stringContaining('is required'),
      }),
    ]);
  });

  it('refuses a contact that is not an email address', () => {
    const error = refuse((f) => {
      site(f, 3).contact = 'call Bob';
    });
    expect(error.problems[0]).toMatchObject({ path: 'sites[3].contact' });
    expect(error.problems[0]?.message).toContain('email address');
  });

  it("takes the console API's timeout from operators.consoleTimeoutSeconds (29 s unless set) and refuses one API Gateway cannot have", () => {
    // Prepare
    const set = example();
    (set.operators as Record<string, unknown>).consoleTimeoutSeconds = 300;

    // Act
    const byDefault = parseFleet(exampleText, 'fleet.yaml').operators.consoleTimeoutSeconds;
    const chosen = parseFleet(stringify(set), 'fleet.yaml').operators.consoleTimeoutSeconds;
    const tooLong = refuse((f) => {
      (f.operators as Record<string, unknown>).consoleTimeoutSeconds = 301;
    });

    // Assess
    expect(byDefault).toBe(29);
    expect(chosen).toBe(300);
    expect(tooLong.problems[0]).toMatchObject({ path: 'operators.consoleTimeoutSeconds' });
  });

  it('refuses a strict site without a subnet slot; a standard site may name its own', () => {
    // Act
    const error = refuse((f) => {
      delete site(f, 2).subnetSlot;
    });
    const named = example();
    site(named, 3).subnetSlot = 4;
    const fleet = parseFleet(stringify(named), 'named.yaml');

    // Assess
    expect(error.problems.map((p) => p.path)).toEqual(['sites[2].isolation']);
    expect(fleet.sites[3]?.subnetCidrs).toEqual(['10.40.130.0/26', '10.40.130.64/26']);
  });

  it('refuses two sites in one subnet slot and names a free one', () => {
    const error = refuse((f) => {
      Object.assign(site(f, 3), { isolation: 'strict', subnetSlot: 0 });
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[3].subnetSlot',
        message: expect.stringMatching(
          /subnet slot 0 .* is shared by sites "clinic" and "dentist"; set subnetSlot: \d+/,
        ),
      }),
    ]);
  });

  it('refuses a fleet whose sites the VPC cannot place, and says what would fit', () => {
    // Prepare: a /20 VPC's site range holds 16 blocks of two /26 subnets.
    const small = (sites: number) => {
      const f = example();
      f.network = { cidr: '10.40.0.0/20', maxAzs: 2, strictSubnetPrefix: 26 };
      f.sites = Array.from({ length: sites }, (_, i) => ({
        ...site(f, 0),
        id: `site-${i}`,
        domains: [`s${i}.example`],
        listenerPriority: i + 1,
        uploadsPosixId: 60000 + i,
        subnetSlot: i,
      }));
      return stringify(f);
    };

    // Act
    const error = problemsOf(small(20));

    // Assess
    expect(error.problems[0]).toMatchObject({ path: 'network' });
    expect(error.problems[0]?.message).toContain(
      'the fleet has 20 sites but the site range of 10.40.0.0/20 holds 16 blocks',
    );
    expect(error.problems[0]?.message).toContain('network.strictSubnetPrefix to 27');
    expect(parseFleet(small(16), 'fits.yaml').sites).toHaveLength(16);
  });

  it("refuses a desiredCount the site's own subnets cannot hold three times over", () => {
    const error = refuse((f) => {
      f.network = { ...(f.network as object), strictSubnetPrefix: 28 };
      site(f, 0).desiredCount = 8;
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[0].desiredCount',
        message: expect.stringContaining('desiredCount 8 needs 24 addresses'),
      }),
    ]);
  });

  it('refuses two sites of one cell with the same listener priority', () => {
    const error = refuse((f) => {
      site(f, 0).listenerPriority = 10;
      site(f, 1).listenerPriority = 10;
    });
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'sites[1].listenerPriority',
        message: expect.stringContaining('listener priority 10 in cell "blue"'),
      }),
    ]);
  });

  it('refuses two sites with the same uploads POSIX id', () => {
    const error = refuse((f) => {
      site(f, 0).uploadsPosixId = 20000;
      site(f, 3).uploadsPosixId = 20000;
    });
    expect(error.problems[0]?.message).toContain('uploads POSIX id 20000 is shared by sites "acme-shop" and "dentist"');
  });

  it('refuses a response policy or threshold it does not know', () => {
    const error = refuse((f) => {
      site(f, 0).response = { policy: 'panic', severityThreshold: 11 };
    });
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      'sites[0].response.policy',
      'sites[0].response.severityThreshold',
    ]);
  });

  it('refuses a fleet without operators, and operators that are not IAM principals', () => {
    expect(refuse((f) => delete f.operators).problems).toEqual([
      expect.objectContaining({
        path: 'operators',
        message: expect.stringContaining('operators.principals'),
      }),
    ]);
    expect(refuse((f) => (f.operators = { principals: ['bob'] })).problems[0]?.path).toBe('operators.principals[0]');
  });

  it('refuses more domains than one load balancer rule takes', () => {
    const error = refuse((f) => {
      site(f, 0).domains = ['a.example', 'b.example', 'c.example', 'd.example', 'e.example', 'f.example'];
    });
    expect(error.problems[0]).toMatchObject({ path: 'sites[0].domains' });
  });

  it('reports YAML syntax errors with their line', () => {
    const error = problemsOf('environment: example\nsites:\n  - id: a\n   cell: b\n');
    expect(error.problems[0]?.message).toMatch(/^not valid YAML/);
    expect(error.problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports a YAML key given twice', () => {
    const error = problemsOf(exampleText.replace('environment: example', 'environment: example\nenvironment: prod'));
    expect(error.problems[0]?.message).toMatch(/not valid YAML: .*unique/i);
  });

  it('reports a file that is not a mapping', () => {
    expect(problemsOf('- just\n- a list\n').problems[0]?.message).toContain('must be a YAML mapping');
  });

  it('reports a missing file with what to pass instead', () => {
    expect(() => loadFleetFile('config/no-such-env.yaml')).toThrow(/cannot read the fleet file.*-c env=<name>/);
  });

  it('lists every problem at once', () => {
    const error = refuse((f) => {
      site(f, 0).id = 'Bad Id';
      (site(f, 1).image as Record<string, unknown>).digest = 'v1';
      delete site(f, 2).contact;
    });
    expect(error.problems.map((p) => p.path)).toEqual(['sites[0].id', 'sites[1].image.digest', 'sites[2].contact']);
  });

  it('refuses pinned availability zones that do not match maxAzs or the region', () => {
    const error = refuse((f) => {
      (f.network as Record<string, unknown>).availabilityZones = ['eu-west-1a', 'us-east-1b', 'eu-west-1c'];
    });
    expect(error.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('lists 3 zones but maxAzs is 2'),
      expect.stringContaining("every zone must be in the fleet's region eu-west-1"),
    ]);
  });
});
