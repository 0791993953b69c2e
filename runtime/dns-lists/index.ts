import { createRequire } from 'node:module';
import { ManagedListNotFoundError } from './errors';

export { ManagedListNotFoundError };

/**
 * A Lambda-backed CloudFormation custom resource that answers CloudFormation itself: the ids of Route 53 Resolver DNS
 * Firewall's AWS managed domain lists in this region, by name. CloudFormation cannot name them:
 * they are created by AWS per region ("Managed domain lists, which AWS creates and maintains for
 * you": Route 53 Developer Guide, "Route 53 Resolver DNS Firewall domain lists"), and
 * ListFirewallDomainLists is the only way to learn their ids; a managed list carries
 * `ManagedOwnerName` ("The owner of the list, used only for lists that are not managed by you. For
 * example, the managed domain list AWSManagedDomainsMalwareDomainList has the managed owner name
 * Route 53 Resolver DNS Firewall", Route 53 Resolver API reference, FirewallDomainListMetadata).
 *
 * Read-only: Create and Update list, Delete does nothing.
 */

export const MANAGED_OWNER = 'Route 53 Resolver DNS Firewall';

export interface DomainListMetadata {
  readonly Id?: string;
  readonly Name?: string;
  readonly ManagedOwnerName?: string;
}

export interface ListPage {
  readonly FirewallDomainLists?: readonly DomainListMetadata[];
  readonly NextToken?: string;
}

/** One page of ListFirewallDomainLists. */
export type ListDomainLists = (nextToken: string | undefined) => Promise<ListPage>;

/** The ids of the named AWS managed lists (every page read); an error naming any that is missing. */
export async function managedListIds(names: readonly string[], list: ListDomainLists): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await list(token);
    for (const l of page.FirewallDomainLists ?? []) {
      if (l.ManagedOwnerName === MANAGED_OWNER && l.Name && l.Id && names.includes(l.Name)) found[l.Name] = l.Id;
    }
    token = page.NextToken;
    pages++;
  } while (token && pages < 100);
  const missing = names.filter((n) => found[n] === undefined);
  if (missing.length > 0) {
    throw new ManagedListNotFoundError(
      `Route 53 Resolver DNS Firewall has no managed domain list ${missing.join(', ')} in this region (ListFirewallDomainLists); see "Managed domain lists" in the Route 53 Developer Guide`,
    );
  }
  return found;
}

interface ResolverSdk {
  Route53ResolverClient: new (config: object) => { send(command: unknown): Promise<ListPage> };
  ListFirewallDomainListsCommand: new (input: { NextToken?: string; MaxResults?: number }) => unknown;
}

/**
 * The Lambda runtime's own AWS SDK v3 (every Node.js runtime ships it, and bundles leave
 * `@aws-sdk/*` out: infra/shared/lambda-defaults.ts). Loaded by name so that this repository needs
 * no Route 53 Resolver client of its own.
 */
function runtimeResolver(): ListDomainLists {
  const sdk = createRequire(__filename)('@aws-sdk/client-route53resolver') as ResolverSdk;
  const client = new sdk.Route53ResolverClient({ maxAttempts: 6 });
  return (nextToken) =>
    client.send(
      new sdk.ListFirewallDomainListsCommand({ ...(nextToken ? { NextToken: nextToken } : {}), MaxResults: 100 }),
    );
}

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly Names?: unknown };
}

export async function handleLookup(
  event: CustomResourceEvent,
  list: ListDomainLists,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const physical = event.PhysicalResourceId ?? 'bulkhead-dns-managed-lists';
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physical };
  const names = Array.isArray(event.ResourceProperties.Names)
    ? event.ResourceProperties.Names.filter((n): n is string => typeof n === 'string')
    : [];
  if (names.length === 0) throw new ManagedListNotFoundError('Names: no managed domain list named');
  return { PhysicalResourceId: physical, Data: await managedListIds(names, list) };
}

/** What CloudFormation sends a Lambda-backed custom resource (the fields the answer needs). */
export interface CloudFormationRequest extends CustomResourceEvent {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/**
 * The answer CloudFormation waits for: "The custom resource provider sends the response to the
 * pre-signed URL ... by using an HTTP PUT request" with `Status` SUCCESS or FAILED, `Reason`
 * (required on FAILED), `PhysicalResourceId`, `StackId`, `RequestId`, `LogicalResourceId` and
 * `Data` (CloudFormation User Guide, "Custom resource response objects").
 */
export async function respond(
  request: CloudFormationRequest,
  outcome: { PhysicalResourceId: string; Data?: Record<string, string> } | { error: string },
  put: (url: string, body: string) => Promise<void>,
): Promise<void> {
  const failed = 'error' in outcome;
  const body = JSON.stringify({
    Status: failed ? 'FAILED' : 'SUCCESS',
    Reason: failed ? outcome.error.slice(0, 1_000) : 'ok',
    PhysicalResourceId: failed
      ? (request.PhysicalResourceId ?? 'bulkhead-dns-managed-lists')
      : outcome.PhysicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...(failed || !outcome.Data ? {} : { Data: outcome.Data }),
  });
  await put(request.ResponseURL, body);
}

async function putResponse(url: string, body: string): Promise<void> {
  // The pre-signed URL was signed without a Content-Type: send none.
  const answer = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!answer.ok) throw new Error(`CloudFormation's response URL answered ${answer.status}`);
}

export async function handler(request: CloudFormationRequest): Promise<void> {
  let outcome: { PhysicalResourceId: string; Data?: Record<string, string> } | { error: string };
  try {
    outcome = await handleLookup(request, runtimeResolver());
  } catch (error) {
    outcome = { error: (error as Error).message };
  }
  await respond(request, outcome, putResponse);
}
