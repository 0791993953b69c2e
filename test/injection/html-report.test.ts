import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderAuditHtml } from '../../tools/audit';
import { type AuditResult, type Finding, PATH_KINDS, type PairVerdict } from '../../tools/audit/types';
import { hostileString } from '../fuzz/support/hostile';
import { preview } from '../fuzz/support/json';

/**
 * Sink: the HTML audit report (`renderAuditHtml`, tools/audit/html-report.ts). Every string of
 * an AuditResult comes from templates (site ids from tags, stack names, logical ids, rule
 * descriptions) or from the command line (the assembly path). Whatever they hold, the page's
 * markup must not change: rendering a result with hostile strings and rendering the same
 * result with `<`, `>`, `"` and `'` removed from every string must give exactly the same
 * number of raw `<`, `>`, `"` and `'` characters (so no tag opened or closed, no attribute
 * ended early). 500 generated results; plus the classic payloads by name.
 *
 * Not covered: the typed fields the page prints raw (`answer`, `kind`, `number`, the
 * statistics). They are not strings from templates; the audit computes them.
 */

const MARKUP = /[<>"']/g;

/** A result whose every string is `text(i)` for a distinct i (so stripping keeps them distinct). */
function resultOf(text: (i: number) => string, shape: { sites: number; questions: number }): AuditResult {
  let n = 0;
  const next = () => text(n++);
  const sites = Array.from({ length: shape.sites }, () => ({
    id: next(),
    stack: next(),
    environment: next(),
    cell: next(),
    isolation: 'standard' as const,
  }));
  const findings: Finding[] = [];
  const pairs: PairVerdict[] = [];
  sites.forEach((a, i) =>
    sites.forEach((b, j) => {
      if (i === j) return;
      const mine: Finding[] =
        (i + j) % 2 === 0
          ? [
              {
                kind: PATH_KINDS[(i + j) % PATH_KINDS.length] ?? 'network',
                from: a.id,
                to: b.id,
                summary: next(),
                rules: [{ stack: next(), logicalId: next(), rule: next() }],
              },
            ]
          : [];
      findings.push(...mine);
      pairs.push({ from: a.id, to: b.id, ok: mine.length === 0, findings: mine });
    }),
  );
  return {
    assembly: next(),
    environment: next(),
    generatedAt: next(),
    sites,
    pairs,
    pairsChecked: pairs.length,
    findings,
    passed: findings.length === 0,
    questions: Array.from({ length: shape.questions }, (_, k) => ({
      number: k + 1,
      question: next(),
      answer: k % 2 === 0 ? ('yes' as const) : ('no' as const),
      evidence: [next(), `✗ ${next()}`],
    })),
    score: Math.ceil(shape.questions / 2),
    statistics: {
      stacks: 1,
      resources: 2,
      securityGroups: 3,
      securityGroupRules: 4,
      policyStatements: 5,
      accessPoints: 6,
      databaseUsers: 7,
      durationMs: 8,
    },
  };
}

function markupCount(html: string): Record<string, number> {
  const counts: Record<string, number> = { '<': 0, '>': 0, '"': 0, "'": 0 };
  for (const c of html.match(MARKUP) ?? []) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

function expectSameMarkup(strings: readonly string[], shape: { sites: number; questions: number }): void {
  const hostile = resultOf((i) => `${strings[i % strings.length]}#${i}`, shape);
  const benign = resultOf((i) => `${(strings[i % strings.length] ?? '').replace(MARKUP, '')}#${i}`, shape);
  const html = renderAuditHtml(hostile);
  expect(markupCount(html), preview(strings)).toEqual(markupCount(renderAuditHtml(benign)));
  expect(html).not.toMatch(/<script/i);
}

describe('HTML report: strings from templates never become markup', () => {
  it.each([
    ['a script tag', '<script>alert(1)</script>'],
    ['an attribute breakout', '" onmouseover="alert(1)" x="'],
    ['a single-quote breakout', "' onfocus='alert(1)' autofocus '"],
    ['an img onerror', '<img src=x onerror=alert(1)>'],
    ['closing the title', '</title><script>alert(1)</script>'],
    ['closing the style', '</style><script>alert(1)</script>'],
    ['an href javascript: URL', '"><a href="javascript:alert(1)">x</a>'],
    ['an entity', '&lt;script&gt;'],
    ['an svg', '<svg/onload=alert(1)>'],
    ['a comment', '<!-- x -->'],
  ])('%s in every string field', (_, payload) => {
    expectSameMarkup([payload], { sites: 4, questions: 10 });
  });

  it('500 results with generated hostile strings (unicode, binary, quotes, brackets, huge) in every field', () => {
    const markupHeavy = fc
      .array(fc.constantFrom('<', '>', '"', "'", '&', '/', '=', ' ', 'on', 'script', '\u0000', '`'), { maxLength: 20 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(hostileString({ maxHuge: 1_100 }), markupHeavy), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 10 }),
        (strings, sites, questions) => {
          expectSameMarkup(strings, { sites, questions });
        },
      ),
      { numRuns: 500 },
    );
  });
});
