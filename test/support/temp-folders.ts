/**
 * Every test file writes its temporary files (synthesized cloud assemblies with their
 * bundled Lambda code, reports, copies of the example) under a folder of its own, removed
 * when the file's tests end. Without it a full run left hundreds of synthesized assemblies
 * in /tmp and a CI machine with little free disk ran out of space mid-run ("no space left
 * on device" from esbuild). Node's `os.tmpdir()` reads TMPDIR on every call, and child
 * processes (the CDK app run as `cdk synth` would) inherit it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

const previous = process.env.TMPDIR;
const folder = mkdtempSync(path.join(tmpdir(), 'bulkhead-test-'));
process.env.TMPDIR = folder;

afterAll(() => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  rmSync(folder, { recursive: true, force: true });
});
