import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSiteops, type SiteopsOptions } from '../../tools/cli/siteops';
import { type AssemblyProvenance, PROVENANCE_FILE, sourceState } from '../../infra/shared/provenance';
import { synthExample } from '../support/synth-fleet';

/**
 * `siteops audit` audits what it is asked about: the environment's fleet file at this commit,
 * synthesized when the default cdk.out holds another fleet or a stale one, refused when a
 * directory given with --cdk-out is not it; it says what it audited; and it ends quietly when
 * its reader goes away (`siteops audit | head -1`).
 */
const repo = process.cwd();
afterEach(() => {
  process.chdir(repo);
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
    env: {},
    ...options,
  });
  return { code, stdout, stderr };
}

/** A copy of the example assembly whose provenance is changed by `change`. */
function exampleCopy(into: string, change: (p: AssemblyProvenance) => AssemblyProvenance): string {
  cpSync(synthExample().outdir, into, { recursive: true });
  const file = path.join(into, PROVENANCE_FILE);
  const provenance = JSON.parse(readFileSync(file, 'utf8')) as AssemblyProvenance;
  writeFileSync(file, JSON.stringify(change(provenance)));
  return into;
}

describe('siteops audit: what it audits', () => {
  it('prints the fleet file, environment and commit it audited', async () => {
    // Prepare
    const { outdir } = synthExample();
    const html = path.join(mkdtempSync(path.join(tmpdir(), 'siteops-audited-')), 'audit.html');

    // Act
    const { code, stdout } = await siteops(['audit', '--cdk-out', outdir, '--html', html]);

    // Assess
    const commit = sourceState().commit.slice(0, 12);
    expect(code).toBe(0);
    expect(stdout.split('\n')[1]).toMatch(
      new RegExp(
        `^  audited: fleet file config/example\\.yaml \\(environment example\\) at commit ${commit}.*; assembly ${outdir}$`,
      ),
    );
    expect(readFileSync(html, 'utf8')).toContain(
      `Audited: fleet file config/example.yaml (environment example) at commit ${commit}`,
    );
  });

  it("synthesizes the environment asked about when the default cdk.out holds another environment's fleet", async () => {
    // Prepare: cdk.out of the working directory says it is config/prod.yaml's (environment prod).
    const work = mkdtempSync(path.join(tmpdir(), 'siteops-foreign-'));
    exampleCopy(path.join(work, 'cdk.out'), (p) => ({ ...p, environment: 'prod', fleetFile: 'config/prod.yaml' }));
    process.chdir(work);
    const synthesized: string[] = [];

    // Act
    const { code, stdout, stderr } = await siteops(['--env', 'example', 'audit'], {
      synthesize: (environment, target) => {
        synthesized.push(`${environment} → ${target}`);
        cpSync(synthExample().outdir, target, { recursive: true });
      },
    });

    // Assess
    expect(stderr).toContain(
      'siteops audit: cdk.out is not the current assembly of config/example.yaml: it holds environment prod (config/prod.yaml), not example; synthesizing example first',
    );
    expect(synthesized).toEqual(['example → cdk.out']);
    expect(code).toBe(0);
    expect(stdout).toContain('audited: fleet file config/example.yaml (environment example)');
  });

  it('refuses a directory given with --cdk-out that holds another environment, saying why, and changes nothing', async () => {
    // Prepare
    const dir = exampleCopy(mkdtempSync(path.join(tmpdir(), 'siteops-foreign-dir-')), (p) => ({
      ...p,
      environment: 'prod',
      fleetFile: 'config/prod.yaml',
    }));
    const before = readFileSync(path.join(dir, PROVENANCE_FILE), 'utf8');

    // Act
    const { code, stdout, stderr } = await siteops(['--env', 'example', 'audit', '--cdk-out', dir], {
      synthesize: () => {
        throw new Error('must not synthesize over a directory it was given');
      },
    });

    // Assess
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `siteops audit: refusing ${dir}: it holds environment prod (config/prod.yaml), not example.`,
    );
    expect(readFileSync(path.join(dir, PROVENANCE_FILE), 'utf8')).toBe(before);
  });

  it('refuses a stale assembly (synthesized at another commit) and one that does not say where it comes from', async () => {
    // Prepare
    const stale = exampleCopy(mkdtempSync(path.join(tmpdir(), 'siteops-stale-')), (p) => ({
      ...p,
      commit: '0123456789abcdef0123456789abcdef01234567',
    }));
    const unknown = exampleCopy(mkdtempSync(path.join(tmpdir(), 'siteops-unknown-')), (p) => p);
    writeFileSync(path.join(unknown, PROVENANCE_FILE), '{"not":"provenance"}');

    // Act
    const staleRun = await siteops(['audit', '--cdk-out', stale]);
    const unknownRun = await siteops(['audit', '--cdk-out', unknown]);

    // Assess
    expect(staleRun.code).toBe(1);
    expect(staleRun.stderr).toContain(
      `refusing ${stale}: it was synthesized at commit 0123456789ab; the checkout is at ${sourceState().commit.slice(0, 12)}`,
    );
    expect(unknownRun.code).toBe(1);
    expect(unknownRun.stderr).toContain(
      `refusing ${unknown}: it holds no ${PROVENANCE_FILE}, so nothing says which fleet, environment and commit it was synthesized from`,
    );
  });

  it('with --no-synth, refuses a stale default cdk.out instead of synthesizing', async () => {
    // Prepare
    const work = mkdtempSync(path.join(tmpdir(), 'siteops-nosynth-'));
    exampleCopy(path.join(work, 'cdk.out'), (p) => ({ ...p, environment: 'prod', fleetFile: 'config/prod.yaml' }));
    process.chdir(work);

    // Act
    const { code, stderr } = await siteops(['--env', 'example', 'audit', '--no-synth'], {
      synthesize: () => {
        throw new Error('--no-synth must not synthesize');
      },
    });

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain(
      'siteops audit: refusing cdk.out: cdk.out is not the current assembly of config/example.yaml',
    );
    expect(stderr).toContain('(--no-synth)');
  });
});

describe('siteops audit: a reader that goes away', () => {
  it('ends quietly, without an EPIPE trace, when stdout is closed before it writes (siteops audit | head -1)', async () => {
    // Prepare
    const { outdir } = synthExample();
    const child = spawn(process.execPath, [path.join(repo, 'bin', 'siteops.mjs'), 'audit', '--cdk-out', outdir], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    // Act: the reader is gone before the audit has printed anything.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    // Assess
    expect(stderr).not.toMatch(/EPIPE|Error|at .*\(/);
    expect(code).toBe(0);
  });
});
