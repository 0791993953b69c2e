import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

/** Tracked files (what a clone holds) whose text matches an extended regular expression. */
function trackedFilesMatching(pattern: string): string[] {
  try {
    return execFileSync('git', ['grep', '-l', '-E', pattern], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch (error) {
    // git grep exits 1 when nothing matches.
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

describe('the repository stands alone', () => {
  it('no tracked file reads or links the shared folder beside the checkout', () => {
    // Prepare: the folder's name is assembled here so that this file does not match itself.
    const folder = ['sha', 'red'].join('');
    const outside = [`(\\.\\./)+${folder}/(events|design|hooks)`, `'${folder}', 'events'`].join('|');

    // Act
    const files = trackedFilesMatching(outside);

    // Assess
    expect(files).toEqual([]);
  });

  it('every public sample event is in the repository and listed in SOURCES.md', () => {
    // Prepare
    const folder = path.join('test', 'fixtures', 'events');
    const samples = execFileSync('git', ['ls-files', '--', `${folder}/*.json`], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((file) => path.relative(folder, file));

    // Act
    const sources = readFileSync(path.join(root, folder, 'SOURCES.md'), 'utf8');

    // Assess
    expect(samples.length).toBeGreaterThanOrEqual(7);
    for (const sample of samples) expect(sources, sample).toContain(`\`${sample}\``);
  });
});
