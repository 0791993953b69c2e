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
} from '../../lambdas/console/contract';
import type { StepRecord } from '../../lambdas/shared/incident-store';

/** Human output of `siteops`: plain-text tables and short reports (no colours, no wide characters). */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
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

export function formatSteps(steps: readonly StepRecord[], indent = '  '): string[] {
  return steps.map(
    (s) => `${indent}${when(s.at)}  ${s.step}: ${s.outcome}${s.detail ? ` (${s.detail.slice(0, 300)})` : ''}`,
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
  lines.push(`${result.sites.length} site(s) in ${result.environment}; ${open} with an open incident`);
  for (const problem of result.unreadable) lines.push(`unreadable site record: ${problem}`);
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
    `incident ${i.incidentId}${i.drill ? ' (drill)' : ''}`,
    `  site:      ${i.site} (${i.environment})`,
    `  status:    ${i.status}${i.failureReason ? ` — ${i.failureReason}` : ''}`,
    `  policy:    ${i.policy}`,
    `  detected:  ${when(i.detectedAt)}   received ${when(i.receivedAt)}`,
    `  isolated:  ${when(i.isolatedAt)}`,
    `  times:     detect ${duration(i.times.toDetectSeconds)}, isolate ${duration(i.times.toIsolateSeconds)}, recover ${duration(i.times.toRecoverSeconds)}${i.times.recoveredBy ? ` (${i.times.recoveredBy})` : ''}`,
  ];
  if (i.evidence) lines.push(`  evidence:  s3://${i.evidence.bucket}/${i.evidence.prefix} (${i.evidence.files} files)`);
  if (i.approval.waiting) {
    lines.push(
      `  approval:  waiting until ${when(i.approval.deadline)}: siteops approve ${i.incidentId} --restore | --false-positive`,
    );
  } else if (i.approval.decidedAt) {
    lines.push(`  approval:  ${i.approval.decision} by ${i.approval.decidedBy} at ${when(i.approval.decidedAt)}`);
  } else if (i.approval.timedOutAt) {
    lines.push(`  approval:  timed out at ${when(i.approval.timedOutAt)}`);
  }
  if (i.restore) {
    lines.push(
      `  restore:   ${i.restore.digest ?? '?'} requested by ${i.restore.requestedBy ?? '?'}; restored ${when(i.restore.restoredAt)}`,
    );
  }
  if (i.releasedAt)
    lines.push(`  released:  ${when(i.releasedAt)} by ${i.releasedBy}${i.releaseForced ? ' (forced)' : ''}`);
  if (i.closedAt) lines.push(`  closed:    ${when(i.closedAt)}`);
  lines.push('  timeline:', ...formatSteps(i.timeline, '    '));
  return lines.join('\n');
}

export function formatQuarantine(r: QuarantineResult): string {
  if (r.outcome === 'joined') {
    return [
      `${r.site} already has an open incident ${r.incidentId} (${r.status ?? '?'}); your request was recorded on it.`,
      ...(r.notContained
        ? [`The site is not isolated by that incident (${r.status}). Release it, then quarantine again.`]
        : []),
    ].join('\n');
  }
  return [
    r.outcome === 'contained'
      ? `${r.site} contained: incident ${r.incidentId}, isolated at ${when(r.isolatedAt)} (${duration(r.timeToIsolateSeconds)} after the request)`
      : `${r.site} NOT fully contained: incident ${r.incidentId} is FAILED; see what was and was not done:`,
    ...formatSteps(r.steps),
    `next: siteops restore ${r.incidentId}  |  siteops release ${r.incidentId}`,
  ].join('\n');
}

export function formatRelease(r: ReleaseOutcome): string {
  switch (r.outcome) {
    case 'released':
      return [
        `${r.site} released: incident ${r.incidentId} is RELEASED${r.forced ? ' (forced over drift)' : ''}`,
        ...formatSteps(r.steps),
        ...(r.workflowAnswered ? ['  (its workflow was waiting for a decision and was told: false positive)'] : []),
      ].join('\n');
    case 'already-released':
      return `incident ${r.incidentId} was already released (by ${r.releasedBy ?? '?'} at ${when(r.releasedAt)}); nothing changed`;
    case 'refused':
      return [
        `release of ${r.incidentId} refused: ${r.site} changed after containment; nothing was changed:`,
        ...r.drift.map((d) => `  - ${d}`),
        `put the saved state back anyway with: siteops release ${r.incidentId} --force`,
      ].join('\n');
  }
}

export function formatRestore(r: RestoreResult): string {
  return r.outcome === 'approved'
    ? `incident ${r.incidentId}: its workflow was waiting for a decision and now restores ${r.site}${r.digest ? ` on ${r.digest}` : ''}`
    : `incident ${r.incidentId}: restore of ${r.site} started${r.digest ? ` on ${r.digest}` : ''} (execution ${r.executionName})`;
}

export function formatRotate(r: RotateResult): string {
  return [
    `${r.site}: new database password for ${r.account}; secret version ${r.currentVersionId} is AWSCURRENT (was ${r.previousVersionId})`,
    r.mode === 'incident'
      ? `  the site is contained (incident ${r.incidentId}): every earlier password stopped, ${r.sessionsKilled} open session(s) killed${r.sessionsNotKilled ? ` (${r.sessionsNotKilled} could not be)` : ''}; its tasks were left as they are; a restore starts tasks with the new password`
      : r.redeployed
        ? '  a new deployment was started so the tasks take the new account; the running tasks keep using the previous one, which works until the next rotation'
        : `  the site serves (incident ${r.incidentId}): its running tasks keep using the previous account, which works until the next rotation; the next deployment takes the new one`,
  ].join('\n');
}

export function formatApprove(r: ApproveResult): string {
  return r.outcome === 'approved'
    ? `incident ${r.incidentId}: decision "${r.decision}" sent to its workflow`
    : `incident ${r.incidentId} was already decided (${r.decision ?? '?'} by ${r.by ?? '?'} at ${when(r.at)}); nothing changed`;
}

export function formatDrill(r: DrillResult): string {
  return [
    `drill on ${r.site}: incident ${r.incidentId} (${r.policy}) reached ${r.status}`,
    `  time to isolate: ${duration(r.timeToIsolateSeconds)} from sending the finding (${duration(r.containmentSeconds)} inside containment)`,
    ...formatSteps(r.steps),
    r.released ? `  released: the site is back as it was` : `  NOT released: ${r.releaseProblem ?? 'unknown reason'}`,
  ].join('\n');
}
