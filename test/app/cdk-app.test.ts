import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs the CDK app the way the CLI does: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR. */
function runApp(context: Record<string, string>) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'bulkhead-app-'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/bulkhead.ts'], {
    encoding: 'utf8',
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
  });
  return { ...result, outdir };
}

describe('the CDK app (bin/bulkhead.ts)', () => {
  it('-c site=<id> writes that one site stack and nothing else', () => {
    const result = runApp({ site: 'bakery' });
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(result.outdir).filter((f) => f.endsWith('.template.json'))).toEqual([
      'Bulkhead-example-Site-bakery.template.json',
    ]);
  });

  it('an unknown site: exit 1 and a message listing the sites', () => {
    const result = runApp({ site: 'nope' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      '-c site=nope: no site with that id in config/example.yaml. Sites: acme-shop, bakery, clinic, dentist',
    );
  });

  it('an environment without a fleet file: exit 1 and what to pass instead', () => {
    const result = runApp({ env: 'nope' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /config\/nope\.yaml: 1 problem in the fleet file; nothing was built\.[\s\S]*-c fleet=<path>/,
    );
    expect(readdirSync(result.outdir)).toEqual([]);
  });

  it('a broken fleet file: exit 1, every problem listed, nothing written', () => {
    const result = runApp({ fleet: 'test/app/fixtures/broken-fleet.yaml' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('broken-fleet.yaml: 2 problems');
    expect(result.stderr).toContain('"latest" is an image tag, not a digest');
    expect(result.stderr).toContain('unknown key "isolaton"');
    expect(readdirSync(result.outdir)).toEqual([]);
  });
});
