import { type SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { IncidentStore, StepRecord } from '../shared/incident-store';
import { ApprovalError } from './errors';

export { ApprovalError };

/**
 * The operator's decision on a contained incident when the site does not restore on its
 * own (`autoRestore: false`): the workflow waits with a Step Functions task token, stored
 * on the incident; `siteops approve` answers it. The token is never returned or logged.
 */

export type ApprovalDecision = 'restore' | 'false-positive';

export interface ApprovalDeps {
  readonly store: IncidentStore;
  readonly sfn: SFNClient;
  readonly now: () => Date;
}

export interface ApprovalRequest {
  readonly incidentId: string;
  readonly decision: ApprovalDecision;
  /** Restore to this digest (`sha256:...`) instead of the newest known-good one. */
  readonly digest?: string;
  /** Who decides (the invoking principal). */
  readonly by: string;
}

export type ApprovalResult =
  | { readonly outcome: 'approved'; readonly incidentId: string; readonly decision: ApprovalDecision }
  | {
      readonly outcome: 'already-decided';
      readonly incidentId: string;
      readonly decision?: ApprovalDecision;
      readonly by?: string;
      readonly at?: string;
    };

/** Workflow step: records the wait (and its token) on the incident. */
export async function requestApproval(
  deps: ApprovalDeps,
  input: { incidentId: string; approvalTimeoutSeconds?: number },
  taskToken: string,
): Promise<void> {
  const requestedAt = deps.now();
  const deadline = new Date(requestedAt.getTime() + (input.approvalTimeoutSeconds ?? 86_400) * 1000).toISOString();
  const step: StepRecord = {
    step: 'await-approval',
    outcome: 'done',
    at: requestedAt.toISOString(),
    detail: `waiting until ${deadline} for \`siteops approve ${input.incidentId} --restore\` (or --false-positive); the site stays contained`,
  };
  await deps.store.updateIncident(
    input.incidentId,
    { approvalRequestedAt: requestedAt.toISOString(), approvalToken: taskToken, approvalDeadline: deadline },
    [step],
  );
}

/** Workflow step: the wait timed out; the site stays contained, and the incident says so. */
export async function recordApprovalTimeout(deps: ApprovalDeps, input: { incidentId: string }): Promise<void> {
  const incident = await deps.store.getIncident(input.incidentId);
  const at = deps.now().toISOString();
  await deps.store.updateIncident(input.incidentId, { approvalTimedOutAt: at }, [
    {
      step: 'await-approval',
      outcome: 'failed',
      at,
      detail: `approval not received by ${incident?.approvalDeadline ?? at}; the site stays contained. Restore with \`siteops restore ${input.incidentId}\` or release with \`siteops release ${input.incidentId}\``,
    },
  ]);
}

/** Answers the workflow's wait. A second answer changes nothing and says who decided. */
export async function approveIncident(deps: ApprovalDeps, request: ApprovalRequest): Promise<ApprovalResult> {
  const incident = await deps.store.getIncident(request.incidentId);
  if (!incident) throw new ApprovalError(`no incident ${request.incidentId}`);
  if (incident.approvedAt) {
    return {
      outcome: 'already-decided',
      incidentId: incident.incidentId,
      decision: incident.approvalDecision,
      by: incident.approvedBy,
      at: incident.approvedAt,
    };
  }
  if (!incident.approvalToken) {
    throw new ApprovalError(
      `incident ${incident.incidentId} (${incident.status}) is not waiting for approval${incident.status === 'CONTAINED' ? ' yet (its workflow is still keeping evidence)' : ''}`,
    );
  }
  if (incident.approvalTimedOutAt) {
    throw new ApprovalError(
      `the wait for a decision on ${incident.incidentId} timed out at ${incident.approvalTimedOutAt}; use \`siteops restore ${incident.incidentId}\` or \`siteops release ${incident.incidentId}\``,
    );
  }
  if (request.decision === 'false-positive' && request.digest) {
    throw new ApprovalError('a digest goes with --restore only');
  }
  try {
    await deps.sfn.send(
      new SendTaskSuccessCommand({
        taskToken: incident.approvalToken,
        output: JSON.stringify({ decision: request.decision, digest: request.digest, by: request.by }),
      }),
    );
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') {
      throw new ApprovalError(
        `the workflow of ${incident.incidentId} no longer waits (${name}); use \`siteops restore\` or \`siteops release\``,
        { cause: error },
      );
    }
    throw error;
  }
  const at = deps.now().toISOString();
  await deps.store.updateIncident(
    incident.incidentId,
    { approvedAt: at, approvedBy: request.by, approvalDecision: request.decision },
    [
      {
        step: 'approve',
        outcome: 'done',
        at,
        detail: `${request.decision}${request.digest ? ` on ${request.digest}` : ''} by ${request.by}`,
      },
    ],
  );
  return { outcome: 'approved', incidentId: incident.incidentId, decision: request.decision };
}
