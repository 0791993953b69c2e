import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FaultKind, FaultSpec } from '../support/aws-model/faults';
import type { ServiceName } from '../support/aws-model/service-names';
import type { ResponseWorld } from '../support/response-world';
import { IncidentStore, type IncidentRecord } from '../../runtime/shared/incident-store';

/**
 * The fault matrix: every AWS call a path makes (found by running the path once without
 * faults), one at a time, under each kind of failure:
 * - `throttle` 12 times in a row: more than one call's SDK retries, so the code's own
 *   persistence (or Step Functions' retries) must carry it;
 * - `server` (5xx) on every attempt: the step fails for good;
 * - `timeout` on every attempt (a TimeoutError after 1 ms, as the SDK's request timeout);
 * - `stale` once, for reads: the answer from before the service's last write.
 */
export const KINDS: readonly FaultKind[] = ['throttle', 'server', 'timeout', 'stale'];

export interface Call {
  readonly service: ServiceName;
  readonly command: string;
}

export function isRead(command: string): boolean {
  return /^(Describe|Get|List|Query|Scan|BatchGet|FilterLogEvents)/.test(command);
}

export function faultFor(call: Call, kind: FaultKind): FaultSpec | undefined {
  if (kind === 'stale' && !isRead(call.command)) return undefined;
  const base = { service: call.service, command: call.command, kind };
  switch (kind) {
    case 'throttle':
      return { ...base, times: 12 };
    case 'timeout':
      return { ...base, timeoutMs: 1 };
    default:
      return base;
  }
}

/** The distinct calls made since `from` in the call log, in first-call order. */
export function callsSince(world: ResponseWorld, from: number): Call[] {
  const seen = new Map<string, Call>();
  for (const record of world.aws.calls.all().slice(from)) {
    const key = `${record.service}:${record.command}`;
    if (!seen.has(key)) seen.set(key, { service: record.service as ServiceName, command: record.command });
  }
  return [...seen.values()];
}

export function matrix(calls: readonly Call[]): { call: Call; kind: FaultKind; fault: FaultSpec }[] {
  return calls.flatMap((call) =>
    KINDS.flatMap((kind) => {
      const fault = faultFor(call, kind);
      return fault ? [{ call, kind, fault }] : [];
    }),
  );
}

export function incidentStore(world: ResponseWorld): IncidentStore {
  return new IncidentStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    world.tableName,
  );
}

/** Every incident item (META) the table holds for a site, read from the model's storage. */
export function incidentsOf(world: ResponseWorld, site: string): IncidentRecord[] {
  return world.aws.dynamodb
    .items(world.tableName)
    .filter((item) => item.sk?.S === 'META' && item.site?.S === site)
    .map((item) => ({
      incidentId: item.incidentId?.S ?? '',
      status: item.status?.S ?? '',
      failureReason: item.failureReason?.S,
    })) as unknown as IncidentRecord[];
}
