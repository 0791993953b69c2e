import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AuditResult,
  auditAssembly,
  type CloudAssembly,
  formatAuditSummary,
  QUESTIONS,
  renderAuditHtml,
  runAudit,
} from '../../tools/audit';
import { answeredWell } from '../../tools/audit/types';
import { synthExample } from '../support/synth-fleet';
import { exampleAssembly } from './audit-support';

let assembly: CloudAssembly;
let result: AuditResult;
let siteIds: string[];
beforeAll(() => {
  assembly = exampleAssembly();
  result = auditAssembly(assembly);
  siteIds = synthExample().fleet.sites.map((s) => s.id);
});

describe('audit of the example fleet', () => {
  it('finds every site of the fleet, in fleet order, with its stack', () => {
    // Assess
    expect(result.environment).toBe('example');
    expect(result.sites.map((s) => s.id)).toEqual(siteIds);
    expect(result.sites.map((s) => s.stack)).toEqual(siteIds.map((id) => `Bulkhead-example-Site-${id}`));
    expect(result.sites.find((s) => s.id === 'clinic')?.isolation).toBe('strict');
  });

  it('checks every ordered pair once and finds no path: the audit passes', () => {
    // Prepare
    const n = siteIds.length;
    const expectedPairs = siteIds.flatMap((a) => siteIds.filter((b) => b !== a).map((b) => `${a}→${b}`));

    // Act
    const checked = result.pairs.map((p) => `${p.from}→${p.to}`);

    // Assess
    expect(result.pairsChecked).toBe(n * (n - 1));
    expect(checked).toEqual(expectedPairs);
    expect(result.findings).toEqual([]);
    expect(result.pairs.every((p) => p.ok && p.findings.length === 0)).toBe(true);
    expect(result.passed).toBe(true);
  });

  it('reads every security-group rule, policy statement, access point and database user of the fleet', () => {
    // Assess: one group, one ingress and 5-6 egress rules per site, plus the platform's.
    expect(result.statistics.stacks).toBe(assembly.stacks.length);
    expect(result.statistics.securityGroupRules).toBeGreaterThan(siteIds.length * 6);
    expect(result.statistics.policyStatements).toBe(siteIds.length * 2);
    expect(result.statistics.accessPoints).toBe(siteIds.length);
    expect(result.statistics.databaseUsers).toBe(siteIds.length);
  });

  it('scores full marks on the isolation self-assessment (all fourteen questions, each answered as a sealed fleet answers it)', () => {
    // Act
    const no = result.questions.filter((q) => !answeredWell(q)).map((q) => `${q.number}: ${q.evidence.join(' | ')}`);

    // Assess
    expect(result.questions.map((q) => q.question)).toEqual([...QUESTIONS]);
    expect(no).toEqual([]);
    expect(result.questions).toHaveLength(14);
    expect(result.score).toBe(14);
  });

  it('answers each question with evidence read from the templates', () => {
    // Prepare
    const evidence = (n: number) => (result.questions[n - 1]?.evidence ?? []).join('\n');

    // Assess: per-site evidence names each site and its resources.
    for (const id of siteIds) {
      expect(evidence(1)).toContain(`${id}: service `);
      expect(evidence(2)).toContain(
        `creates user site_${id.replaceAll('-', '_')} with schema wp_${id.replaceAll('-', '_')}`,
      );
      expect(evidence(3)).toContain(`root /sites/${id} uid `);
      expect(evidence(6)).toMatch(
        new RegExp(`${id}: container site takes .*WORDPRESS_DB_PASSWORD.* from Secrets Manager`),
      );
      expect(evidence(8)).toMatch(new RegExp(`${id}: container site image .*@sha256:[0-9a-f]{12}…`));
      expect(evidence(10)).toContain(`bulkhead.example.${id}.error-rate`);
    }
    expect(evidence(5)).toContain(`${result.pairsChecked} ordered pairs of ${siteIds.length} sites checked`);
    expect(evidence(7)).toMatch(/Bulkhead-example-Response\/GuardDutyEcsFindings\w+: aws\.guardduty/);
    // Three alarms per site: error rate, egress, rejected connections (SITE_ALARM_KINDS).
    expect(evidence(7)).toContain(`${siteIds.length * 3} of ${siteIds.length * 3} site alarms match`);
    expect(evidence(9)).toMatch(/evidence bucket with S3 Object Lock/);
    expect(evidence(9)).toMatch(/Incidents\w+: incident table/);
  });

  it('summarizes for a terminal: pairs, verdict and the ten answers', () => {
    // Act
    const summary = formatAuditSummary(result);
    const lines = summary.split('\n');

    // Assess
    expect(lines[0]).toBe(
      `Isolation audit: ${siteIds.length} sites, ${result.pairsChecked} ordered pairs checked, no path between sites: PASSED`,
    );
    expect(summary).toContain(`Self-assessment: ${result.score}/14`);
    expect(lines.filter((l) => /^ +\d{1,2}\. (yes|no |YES|NO ) /.test(l))).toHaveLength(14);
  });

  it('renders a self-contained HTML report with the whole matrix', () => {
    // Act
    const html = renderAuditHtml(result);
    const n = siteIds.length;

    // Assess
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|href="http|@import|url\(/i);
    expect(html.match(/<td class="ok"/g)).toHaveLength(n * (n - 1));
    expect(html.match(/<td class="self"/g)).toHaveLength(n);
    expect(html).not.toContain('<td class="bad"');
    for (const id of siteIds) expect(html).toContain(`<th title="${id}">${id}</th>`);
    expect(html).toContain('Sealed: no path between any two sites');
  });

  it('runAudit loads, audits and writes the HTML report', () => {
    // Prepare
    const htmlOut = path.join(mkdtempSync(path.join(tmpdir(), 'bulkhead-audit-')), 'reports', 'audit.html');

    // Act
    const run = runAudit({ cdkOut: assembly.directory, htmlOut });

    // Assess
    expect(run.passed).toBe(true);
    expect(run.pairs).toEqual(result.pairs);
    expect(readFileSync(htmlOut, 'utf8')).toContain('Bulkhead isolation audit: example');
  });
});
