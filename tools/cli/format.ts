import type {
  ApproveResult,
  DrillResult,
  IncidentsResult,
  IncidentView,
  QuarantineResult,
  ReleaseOutcome,
  RestoreResult,
  RotateResult,
  StatusResult,
} from '../../contracts/console-api';
import type { StepRecord } from '../../contracts/incident-table';
import { printable } from '../../contracts/display';

/**
 * Human output of `siteops`: plain-text tables and short reports (no colours, no wide characters).
 * Every value from the console is shown through {@link t} (contracts/display.ts): a finding's
 * command line, an AWS error message or a reason cannot start a line of its own, send the
 * terminal an escape sequence, reorder text with bidirectional controls, or run for 100 kB.
 */

/** A value from the console, as one inert line of at most `max` characters. */
const t = (value: unknown, max = 200): string => printable(value, max);

export function table(headers: readonly string[], rawRows: readonly (readonly string[])[]): string {
  const rows = rawRows.map((r) => r.map((c) => t(c, 120)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** 0.42 s, 12.3 s, 4 min 10 s, 2 h 5 min, 3 d 4 h. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** `sha256:4f1c2d0a9b8e` (12 hex digits are plenty to tell digests apart on screen). */
export function shortDigest(digest: string): string {
  return digest
    .split(',')
    .map((d) => (/^sha256:[0-9a-f]{64}$/.test(d) ? `${d.slice(0, 19)}…` : d))
    .join(',');
}

/** `2025-06-01 12:00:05Z` */
export function when(iso: string | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** `2025-06-01 12:00:05Z` of a value from the console (escaped: it is not always a date). */
function at(iso: string | undefined): string {
  return t(when(iso), 40);
}

export function formatSteps(steps: readonly StepRecord[], indent = '  '): string[] {
  return steps.map(
    (s) => `${indent}${at(s.at)}  ${t(s.step, 80)}: ${t(s.outcome, 20)}${s.detail ? ` (${t(s.detail, 300)})` : ''}`,
  );
}

export function formatStatus(result: StatusResult): string {
  const rows = result.sites.map((s) => [
    s.site,
    s.cell,
    s.isolation,
    s.policy,
    shortDigest(s.digest) + (s.runningDigests.length > 0 && s.digest !== s.recordDigest ? ' *' : ''),
    `${s.tasks.running}/${s.tasks.desired}`,
    s.containment,
    s.openIncident
      ? `${s.openIncident.incidentId}${s.openIncident.drill ? ' (drill)' : ''}${s.openIncident.waitingForApproval ? ' (waiting for approval)' : ''}`
      : '-',
  ]);
  const lines = [table(['SITE', 'CELL', 'ISOLATION', 'POLICY', 'DIGEST', 'TASKS', 'CONTAINMENT', 'INCIDENT'], rows)];
  if (result.sites.some((s) => s.runningDigests.length > 0 && s.digest !== s.recordDigest)) {
    lines.push('* runs a different digest from the one its stack deployed (a restore, or a deployment in progress)');
  }
  const open = result.sites.filter((s) => s.openIncident).length;
  lines.push(`${result.sites.length} site(s) in ${t(result.environment, 40)}; ${open} with an open incident`);
  for (const problem of result.unreadable) lines.push(`unreadable site record: ${t(problem, 300)}`);
  return lines.join('\n');
}

export function formatIncidents(result: IncidentsResult): string {
  if (result.incidents.length === 0) return 'no incidents';
  const rows = result.incidents.map((i) => [
    i.incidentId,
    i.site,
    i.status + (i.approval.waiting ? ' (waiting)' : ''),
    when(i.detectedAt),
    duration(i.times.toDetectSeconds),
    duration(i.times.toIsolateSeconds),
    duration(i.times.toRecoverSeconds),
    i.drill ? 'drill' : '',
  ]);
  const lines = [table(['INCIDENT', 'SITE', 'STATUS', 'DETECTED', 'DETECT', 'ISOLATE', 'RECOVER', ''], rows)];
  if (result.truncated) lines.push(`(more incidents match: narrow with --site, --state, --since or raise --limit)`);
  return lines.join('\n');
}

export function formatIncident(i: IncidentView): string {
  const lines = [
    `incident ${t(i.incidentId, 128)}${i.drill ? ' (drill)' : ''}`,
    `  site:      ${t(i.site, 40)} (${t(i.environment, 40)})`,
    `  status:    ${t(i.status, 20)}${i.failureReason ? ` — ${t(i.failureReason, 500)}` : ''}`,
    `  policy:    ${t(i.policy, 20)}`,
    `  detected:  ${at(i.detectedAt)}   received ${at(i.receivedAt)}`,
    `  isolated:  ${at(i.isolatedAt)}`,
    `  times:     detect ${duration(i.times.toDetectSeconds)}, isolate ${duration(i.times.toIsolateSeconds)}, recover ${duration(i.times.toRecoverSeconds)}${i.times.recoveredBy ? ` (${t(i.times.recoveredBy, 20)})` : ''}`,
  ];
  if (i.evidence)
    lines.push(
      `  evidence:  s3://${t(i.evidence.bucket, 63)}/${t(i.evidence.prefix, 200)} (${t(i.evidence.files, 12)} files)`,
    );
  if (i.approval.waiting) {
    lines.push(
      `  approval:  waiting until ${at(i.approval.deadline)}: siteops approve ${t(i.incidentId, 128)} --restore | --false-positive`,
    );
  } else if (i.approval.decidedAt) {
    lines.push(
      `  approval:  ${t(i.approval.decision, 20)} by ${t(i.approval.decidedBy)} at ${at(i.approval.decidedAt)}`,
    );
  } else if (i.approval.timedOutAt) {
    lines.push(`  approval:  timed out at ${at(i.approval.timedOutAt)}`);
  }
  if (i.restore) {
    lines.push(
      `  restore:   ${t(i.restore.digest ?? '?', 80)} requested by ${t(i.restore.requestedBy ?? '?')}; restored ${at(i.restore.restoredAt)}`,
    );
  }
  if (i.releasedAt)
    lines.push(`  released:  ${at(i.releasedAt)} by ${t(i.releasedBy)}${i.releaseForced ? ' (forced)' : ''}`);
  if (i.closedAt) lines.push(`  closed:    ${at(i.closedAt)}`);
  if (i.triggers) {
    lines.push('  triggers:', ...i.triggers.flatMap(formatTrigger));
    if (i.triggersOmitted) lines.push(`    … and ${i.triggersOmitted} more`);
  }
  lines.push('  timeline:', ...formatSteps(i.timeline, '    '));
  return lines.join('\n');
}

/** One trigger, and what its finding observed (attacker-controlled text, escaped and cut). */
function formatTrigger(tr: NonNullable<IncidentView['triggers']>[number]): string[] {
  const what =
    tr.kind === 'guardduty'
      ? `GuardDuty ${t(tr.findingType, 256)} severity ${t(tr.severity, 8)} seen ${t(tr.count, 8)}x (finding ${t(tr.findingId, 256)})${tr.drill ? ' (drill)' : ''}`
      : tr.kind === 'alarm'
        ? `alarm ${t(tr.alarmName, 255)}${tr.reason ? `: ${t(tr.reason, 300)}` : ''}`
        : `operator${tr.reason ? `: ${t(tr.reason, 300)}` : ''}`;
  return [
    `    ${at(tr.receivedAt)}  ${what}`,
    ...(tr.observed ?? []).map(
      (o) =>
        `        ${t(o.what, 40)}: ${t(o.value, 300)}${o.length !== undefined ? ` (${t(o.length, 12)} characters in the finding)` : ''}`,
    ),
  ];
}

export function formatQuarantine(r: QuarantineResult): string {
  if (r.outcome === 'joined') {
    return [
      `${t(r.site)} already has an open incident ${t(r.incidentId)} (${t(r.status ?? '?')}); your request was recorded on it.`,
      ...(r.notContained
        ? [`The site is not isolated by that incident (${t(r.status)}). Release it, then quarantine again.`]
        : []),
    ].join('\n');
  }
  return [
    r.outcome === 'contained'
      ? `${t(r.site)} contained: incident ${t(r.incidentId)}, isolated at ${at(r.isolatedAt)} (${duration(r.timeToIsolateSeconds)} after the request)`
      : `${t(r.site)} NOT fully contained: incident ${t(r.incidentId)} is FAILED; see what was and was not done:`,
    ...formatSteps(r.steps),
    `next: siteops restore ${t(r.incidentId)}  |  siteops release ${t(r.incidentId)}`,
  ].join('\n');
}

export function formatRelease(r: ReleaseOutcome): string {
  switch (r.outcome) {
    case 'released':
      return [
        `${t(r.site)} released: incident ${t(r.incidentId)} is RELEASED${r.forced ? ' (forced over drift)' : ''}`,
        ...formatSteps(r.steps),
        ...(r.workflowAnswered ? ['  (its workflow was waiting for a decision and was told: false positive)'] : []),
      ].join('\n');
    case 'already-released':
      return `incident ${t(r.incidentId)} was already released (by ${t(r.releasedBy ?? '?')} at ${at(r.releasedAt)}); nothing changed`;
    case 'refused':
      return [
        `release of ${t(r.incidentId)} refused: ${t(r.site)} changed after containment; nothing was changed:`,
        ...r.drift.map((d) => `  - ${t(d, 300)}`),
        `put the saved state back anyway with: siteops release ${t(r.incidentId)} --force`,
      ].join('\n');
  }
}

export function formatRestore(r: RestoreResult): string {
  return r.outcome === 'approved'
    ? `incident ${t(r.incidentId)}: its workflow was waiting for a decision and now restores ${t(r.site)}${r.digest ? ` on ${t(r.digest)}` : ''}`
    : `incident ${t(r.incidentId)}: restore of ${t(r.site)} started${r.digest ? ` on ${t(r.digest)}` : ''} (execution ${t(r.executionName)})`;
}

export function formatRotate(r: RotateResult): string {
  return [
    `${t(r.site)}: new database password for ${t(r.account)}; secret version ${t(r.currentVersionId)} is AWSCURRENT (was ${t(r.previousVersionId)})`,
    r.mode === 'incident'
      ? `  the site is contained (incident ${t(r.incidentId)}): every earlier password stopped, ${t(r.sessionsKilled)} open session(s) killed${r.sessionsNotKilled ? ` (${t(r.sessionsNotKilled)} could not be)` : ''}; its tasks were left as they are; a restore starts tasks with the new password`
      : r.redeployed
        ? '  a new deployment was started so the tasks take the new account; the running tasks keep using the previous one, which works until the next rotation'
        : `  the site serves (incident ${t(r.incidentId)}): its running tasks keep using the previous account, which works until the next rotation; the next deployment takes the new one`,
  ].join('\n');
}

export function formatApprove(r: ApproveResult): string {
  return r.outcome === 'approved'
    ? `incident ${t(r.incidentId)}: decision "${t(r.decision)}" sent to its workflow`
    : `incident ${t(r.incidentId)} was already decided (${t(r.decision ?? '?')} by ${t(r.by ?? '?')} at ${at(r.at)}); nothing changed`;
}

export function formatDrill(r: DrillResult): string {
  return [
    `drill on ${t(r.site)}: incident ${t(r.incidentId)} (${t(r.policy)}) reached ${t(r.status)}`,
    `  time to isolate: ${duration(r.timeToIsolateSeconds)} from sending the finding (${duration(r.containmentSeconds)} inside containment)`,
    ...formatSteps(r.steps),
    r.released
      ? `  released: the site is back as it was`
      : `  NOT released: ${t(r.releaseProblem ?? 'unknown reason')}`,
  ].join('\n');
}
