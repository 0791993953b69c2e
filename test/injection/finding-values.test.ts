import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Containment's logger is made when its module loads: at WARN, the log test sees its warning.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
});
import { containHandler } from '../../runtime/contain/index';
import { OBSERVED_VALUE_MAX } from '../../runtime/contain/observed';
import { runWorkflowStep } from '../../runtime/incident/index';
import { renderAuditHtml } from '../../tools/audit';
import type { AuditResult } from '../../tools/audit/types';
import { formatAuditSummary } from '../../tools/audit/summary';
import { runSiteops } from '../../tools/cli/siteops';
import { DISPLAY_MAX, hasUnsafeCharacters, printable, terminalSafe } from '../../contracts/display';
import { ALICE, type ConsoleWorld, invokeConsole, setUpConsoleWorld, store } from '../console/console-world';
import { hostileString } from '../fuzz/support/hostile';
import { ecsFindingEvent } from '../support/response-world';

/**
 * Issue 15, item 6. Sink: every place Bulkhead shows text it did not write. A GuardDuty Runtime
 * Monitoring finding carries values the attacker in the container chooses (the process name, the
 * executable path, a command line, a script path, a domain it resolved); they reach the incident's
 * trigger (runtime/contain/observed.ts) and from there the notices, `siteops incidents <id>` and
 * the logs; template strings reach the audit's HTML report and terminal summary. Each is shown
 * with the hostile values below: HTML, terminal escape sequences (ESC, OSC 52 clipboard, 8-bit
 * CSI), bidirectional controls, lines that imitate Bulkhead's own, and 100 kB.
 */

/** A line each sink writes itself, which a value must never be able to write. */
const FORGED_STEP = '  - release-security-group: done at 2026-01-01T00:00:00.000Z';
const FORGED_JSON = '{"level":"INFO","message":"incident released","site":"acme"}';

const HOSTILE = {
  html: '<script>alert(1)</script>"><img src=x onerror=alert(document.domain)>',
  terminal: '\u001b[2J\u001b[H\u001b]0;owned\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\u009b8mhidden\u001b[0m',
  bidi: 'invoice\u202eexe.pdf\u2066\u200b',
  newlines: `/bin/sh -c id\n${FORGED_STEP}\r\n${FORGED_JSON}\u2028${FORGED_STEP}\u0085${FORGED_STEP}`,
  huge: `${'A'.repeat(100_000)}\n${FORGED_STEP}`,
} as const;

/** A runtime finding about the site's task whose observed values are all hostile. */
function hostileFinding(world: ConsoleWorld, site: string): Record<string, unknown> {
  const event = ecsFindingEvent(world, site) as {
    detail: Record<string, unknown> & { service: Record<string, unknown> };
  };
  event.detail.service = {
    ...event.detail.service,
    runtimeDetails: {
      process: { name: HOSTILE.terminal, executablePath: HOSTILE.bidi, user: HOSTILE.html },
      context: { commandLineExample: HOSTILE.huge, scriptPath: HOSTILE.newlines, threatFilePath: HOSTILE.html },
    },
    action: { actionType: 'DNS_REQUEST', dnsRequestAction: { domain: `${HOSTILE.html}${HOSTILE.terminal}.example` } },
  };
  return event;
}

/** What every sink's output must be, whatever the values: no control but its own line feeds, no forged line. */
function expectInert(text: string, what: string): void {
  expect(terminalSafe(text) === text, `${what} carries a raw control or bidirectional character`).toBe(true);
  for (const line of text.split('\n')) {
    expect(line.trim(), `${what} has a forged line`).not.toBe(FORGED_STEP.trim());
    expect(line, `${what} has a forged JSON line`).not.toBe(FORGED_JSON);
  }
}

let world: ConsoleWorld | undefined;
afterEach(() => {
  world?.aws.restore();
  world = undefined;
  vi.restoreAllMocks();
});

describe('printable (contracts/display.ts)', () => {
  it('any string becomes one line with no control, bidirectional or lone-surrogate character, within its bound', () => {
    fc.assert(
      fc.property(hostileString(), fc.integer({ min: 1, max: 2_000 }), (value, max) => {
        // Act
        const shown = printable(value, max);
        // Assess
        expect(hasUnsafeCharacters(shown)).toBe(false);
        expect(shown.includes('\n')).toBe(false);
        // The escapes are at most 6 characters each, and the cut note at most ~30.
        expect(shown.length).toBeLessThanOrEqual(max * 6 + 40);
        if (!hasUnsafeCharacters(value) && value.length <= max) expect(shown).toBe(value);
      }),
      { numRuns: 2_000 },
    );
  });

  it('shows each hostile value as text: escapes for controls, a note for what was cut', () => {
    expect(printable(HOSTILE.terminal)).toBe(
      '\\u001b[2J\\u001b[H\\u001b]0;owned\\u0007\\u001b]52;c;cm0gLXJmIH4=\\u0007\\u009b8mhidden\\u001b[0m',
    );
    expect(printable(HOSTILE.bidi)).toBe('invoice\\u202eexe.pdf\\u2066\\u200b');
    expect(printable(HOSTILE.newlines)).toContain('/bin/sh -c id\\n  - release-security-group');
    expect(printable(HOSTILE.huge)).toBe(
      `${'A'.repeat(DISPLAY_MAX)}… [${100_000 + 1 + FORGED_STEP.length - DISPLAY_MAX} more characters]`,
    );
    expect(printable(HOSTILE.html)).toBe(HOSTILE.html); // plain text: HTML escaping is the HTML sink's
  });
});

describe('a runtime finding with hostile values', () => {
  it('is kept on the trigger as data, each value cut to its bound with its full length', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);

    // Act
    const outcome = await containHandler(hostileFinding(world, 'acme'));

    // Assess
    expect(outcome.outcome).toBe('contained');
    const incidentId = (outcome as { incidentId: string }).incidentId;
    const [trigger] = await store(world).triggersOf(incidentId);
    expect(trigger?.observed).toEqual([
      { what: 'process', value: HOSTILE.terminal },
      { what: 'executable', value: HOSTILE.bidi },
      { what: 'user', value: HOSTILE.html },
      { what: 'command line', value: HOSTILE.huge.slice(0, OBSERVED_VALUE_MAX), length: HOSTILE.huge.length },
      { what: 'script', value: HOSTILE.newlines },
      { what: 'threat file', value: HOSTILE.html },
      { what: 'domain', value: `${HOSTILE.html}${HOSTILE.terminal}.example` },
    ]);
  });

  it('notices: every value one inert, bounded line; the message far under SNS’s 256 KiB', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const outcome = (await containHandler(hostileFinding(world, 'acme'))) as { incidentId: string };

    // Act
    await runWorkflowStep({
      step: 'notify',
      input: {
        incidentId: outcome.incidentId,
        site: 'acme',
        status: 'CONTAINED',
        drill: false,
        forensicHoldSeconds: 0,
      },
    });

    // Assess: both topics (operators', the site's) got the same notice
    const published = world.aws.sns.published();
    expect(published).toHaveLength(2);
    for (const message of published) {
      expectInert(message.Message, 'the notice');
      expectInert(message.Subject ?? '', 'the subject');
      expect(Buffer.byteLength(message.Message)).toBeLessThan(16_384);
      expect(message.Message).toContain('      process: \\u001b[2J\\u001b[H\\u001b]0;owned\\u0007');
      expect(message.Message).toContain('      executable: invoice\\u202eexe.pdf\\u2066\\u200b');
      expect(message.Message).toContain(
        `      command line: ${'A'.repeat(300)}… [${OBSERVED_VALUE_MAX - 300} more characters] (${HOSTILE.huge.length} characters in the finding)`,
      );
      expect(message.Message).toContain(
        '      script: /bin/sh -c id\\n  - release-security-group: done at 2026-01-01T00:00:00.000Z\\r\\n{',
      );
    }
  });

  it('siteops incidents <id>: the values escaped in the table of triggers; --json stays JSON with nothing raw', async () => {
    // Prepare
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const outcome = (await containHandler(hostileFinding(world, 'acme'))) as { incidentId: string };
    const run = async (args: string[]) => {
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
        invokerFactory: () => ({ invoke: (request) => invokeConsole(request as Record<string, unknown>, ALICE) }),
      });
      return { code, stdout, stderr };
    };

    // Act
    const human = await run(['incidents', outcome.incidentId]);
    const json = await run(['--json', 'incidents', outcome.incidentId]);

    // Assess
    expect(human.code).toBe(0);
    expectInert(human.stdout, 'siteops incidents');
    expect(human.stdout).toContain('        process: \\u001b[2J\\u001b[H\\u001b]0;owned\\u0007');
    expect(human.stdout).toContain(`        command line: ${'A'.repeat(300)}… [`);
    expect(human.stdout).toContain(`(${HOSTILE.huge.length} characters in the finding)`);
    expect(human.stdout.length).toBeLessThan(8_000);
    expect(json.code).toBe(0);
    expectInert(json.stdout, 'siteops --json incidents');
    const parsed = JSON.parse(json.stdout) as {
      result: { incidents: { triggers: { observed: { value: string }[] }[] }[] };
    };
    // JSON carries the values whole (as stored): a script reads them unchanged.
    expect(parsed.result.incidents[0]?.triggers[0]?.observed.map((o) => o.value)).toContain(HOSTILE.bidi);
  });

  it('logs: every line one JSON object; a hostile event’s text stays inside its value, bounded', async () => {
    // Prepare: containment logs why it ignored an event, quoting the event's type and resource type
    world = setUpConsoleWorld([{ id: 'acme', cell: 'c1' }]);
    const event = hostileFinding(world, 'acme') as {
      detail: Record<string, unknown> & { resource: Record<string, unknown> };
    };
    event.detail.type = `Execution:Runtime/Fake\n${FORGED_JSON}\u009b2J`;
    event.detail.resource = { ...event.detail.resource, resourceType: HOSTILE.huge + HOSTILE.terminal };
    // Powertools writes INFO and DEBUG to stdout, WARN and ERROR to stderr, one JSON object a line.
    const lines: string[] = [];
    const capture = ((chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      return true;
    }) as typeof process.stdout.write;
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);

    // Act
    const outcome = await containHandler(event);

    // Assess: the event was ignored and its reason logged once, as one bounded JSON line
    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'not-ecs-finding' });
    const logged = lines.filter((l) => l.includes('event ignored'));
    expect(lines.every((l) => JSON.parse(l) !== null)).toBe(true);
    expect(logged).toHaveLength(1);
    for (const line of logged) {
      expectInert(line, 'the log line');
      const record = JSON.parse(line) as { message: string; reason: string };
      expect(record.message).toBe('event ignored, nothing changed');
      expect(record.reason.length).toBeLessThan(2_100);
      expect(record.reason).toContain('Execution:Runtime/Fake\\n{"level":"INFO"');
    }
  });
});

describe('the audit: template strings in the HTML report and the terminal summary', () => {
  function resultWith(value: string): AuditResult {
    const sites = [
      { id: `a-${value}`, stack: value, environment: value, cell: value, isolation: 'standard' as const },
      { id: 'b', stack: 'Bulkhead-x-Site-b', environment: 'x', cell: 'c', isolation: 'standard' as const },
    ];
    const finding = {
      kind: 'network' as const,
      from: sites[0]?.id ?? '',
      to: 'b',
      summary: value,
      rules: [{ stack: value, logicalId: value, rule: value }],
    };
    return {
      assembly: value,
      environment: value,
      generatedAt: '2026-01-01T00:00:00Z',
      sites,
      pairs: [
        { from: finding.from, to: 'b', ok: false, findings: [finding] },
        { from: 'b', to: finding.from, ok: true, findings: [] },
      ],
      pairsChecked: 2,
      findings: [finding],
      reviews: [{ site: 'b', summary: value, rules: [{ stack: value, logicalId: value, rule: value }] }],
      passed: false,
      questions: [{ number: 1, question: value, answer: 'no', evidence: [`✗ ${value}`] }],
      score: 0,
      statistics: {
        stacks: 1,
        resources: 1,
        securityGroups: 1,
        securityGroupRules: 1,
        policyStatements: 1,
        accessPoints: 1,
        databaseUsers: 1,
        durationMs: 1,
      },
    };
  }

  it.each(Object.entries(HOSTILE))('%s: no markup, no raw control, no forged line, the page bounded', (_, value) => {
    // Act
    const html = renderAuditHtml(resultWith(value));
    const summary = formatAuditSummary(resultWith(value));

    // Assess
    expectInert(html.replace(/\n/g, ''), 'the HTML report');
    expect(html).not.toMatch(/<script>alert|<img src=x/);
    expect(html.length).toBeLessThan(200_000);
    expectInert(summary, 'the audit summary');
    expect(summary.length).toBeLessThan(40_000);
  });
});
