import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One error root per function (as Powertools' utilities do): each runtime folder's errors.ts
 * declares one class that extends Error, and every other error class of the folder extends
 * that root or another of the folder's errors, so a caller catches the function's errors by
 * one class.
 */
const FUNCTIONS_WITH_ERRORS = ['console', 'contain', 'db-user', 'dns-lists', 'incident', 'recovery'];

function errorClasses(folder: string): { name: string; base: string; file: string }[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(path.join(folder, file), 'utf8').matchAll(/\bclass (\w+) extends (\w+)/g)]
        .filter((m) => /Error$/.test(m[2] ?? ''))
        .map((m) => ({ name: m[1] ?? '', base: m[2] ?? '', file })),
    );
}

describe('error roots', () => {
  it.each(FUNCTIONS_WITH_ERRORS)(
    'runtime/%s: one class extends Error, in errors.ts, and every other error extends it',
    (fn) => {
      // Act
      const classes = errorClasses(path.join('runtime', fn));
      // Assess
      const roots = classes.filter((c) => c.base === 'Error');
      expect(roots.map((r) => r.file)).toEqual(['errors.ts']);
      const names = new Set(classes.map((c) => c.name));
      for (const c of classes.filter((x) => x.base !== 'Error')) {
        expect({ error: c.name, extends: names.has(c.base) }).toEqual({ error: c.name, extends: true });
        expect({ error: c.name, file: c.file }).toEqual({ error: c.name, file: 'errors.ts' });
      }
    },
  );
});
