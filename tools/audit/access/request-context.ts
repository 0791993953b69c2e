/**
 * The request context a call by a site's code carries (IAM User Guide, "AWS global condition
 * context keys", reference_policies_condition-keys.html), split into what is fixed by who makes
 * the call and what it is about, what such a call never carries, and what the caller chooses:
 *
 * - fixed: `aws:PrincipalArn` ("the ARN of the principal that made the request … for a role
 *   session, the ARN of the role"), `aws:PrincipalAccount`, `aws:PrincipalType` (`AssumedRole`),
 *   `aws:PrincipalTag/<key>` (the role's tags), `aws:ResourceTag/<key>` and each service's own
 *   `<service>:ResourceTag/<key>` (the resource's tags as templated; a tag the resource does not
 *   have is absent), `aws:ResourceAccount`, `aws:RequestedRegion` (the resource's region),
 *   `aws:ViaAWSService` and `aws:PrincipalIsAWSService` (`false`: the call is the site's own),
 *   and keys the resource brings (`elasticfilesystem:AccessPointArn` of a mount).
 * - never present for a role session the site's task gets: `aws:username` ("This key is not
 *   included for … role sessions"), `aws:MultiFactorAuthPresent`/`Age`, `aws:CalledVia…`,
 *   `aws:SourceArn`/`SourceAccount`/`SourceOwner` (only when a service calls on a resource's
 *   behalf), `aws:PrincipalServiceName`, `aws:FederatedProvider`, `aws:SourceIdentity`.
 * - chosen by the caller: `aws:SecureTransport` (`true` or `false`), the tags it sends
 *   (`aws:RequestTag`, `aws:TagKeys`), its source address and endpoint, the time, and the
 *   request parameters services expose as keys. The search tries the values policies name.
 */
import type { RoleInfo } from './principals';
import type { Subject } from './subjects';
import type { ContextSpace, ContextValue } from '../policy/search';

const NEVER_PRESENT = [
  'aws:username',
  'aws:multifactorauthpresent',
  'aws:multifactorauthage',
  'aws:calledvia',
  'aws:calledviafirst',
  'aws:calledvialast',
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
  'aws:principalservicename',
  'aws:principalservicenameslist',
  'aws:federatedprovider',
  'aws:sourceidentity',
  'aws:ec2instancesourceprivateipv4',
  'aws:ec2instancesourcevpc',
];

const DOMAINS: ReadonlyMap<string, readonly (ContextValue | undefined)[]> = new Map([
  ['aws:securetransport', ['true', 'false']],
]);

const NEVER = new Set(NEVER_PRESENT);
const roleLayers = new WeakMap<RoleInfo, Map<string, ContextValue>>();
const subjectLayers = new WeakMap<Subject, Map<string, ContextValue>>();

function roleLayer(role: RoleInfo): Map<string, ContextValue> {
  let layer = roleLayers.get(role);
  if (layer) return layer;
  layer = new Map<string, ContextValue>([
    ['aws:principalarn', role.arn],
    ['aws:principalaccount', role.account],
    ['aws:principaltype', 'AssumedRole'],
    ['aws:viaawsservice', 'false'],
    ['aws:principalisawsservice', 'false'],
    ['aws:resourceaccount', role.account],
  ]);
  for (const [key, value] of Object.entries(role.tags)) layer.set(`aws:principaltag/${key.toLowerCase()}`, value);
  roleLayers.set(role, layer);
  return layer;
}

function subjectLayer(subject: Subject): Map<string, ContextValue> {
  let layer = subjectLayers.get(subject);
  if (layer) return layer;
  layer = new Map<string, ContextValue>();
  for (const [key, value] of Object.entries(subject.tags)) {
    layer.set(`aws:resourcetag/${key.toLowerCase()}`, value);
    layer.set(`${subject.service}:resourcetag/${key.toLowerCase()}`, value);
  }
  const region = subject.arn.split(':')[3];
  if (region && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) layer.set('aws:requestedregion', region);
  for (const [key, value] of Object.entries(subject.context ?? {})) layer.set(key, value);
  subjectLayers.set(subject, layer);
  return layer;
}

/** The fixed part of a call's context: the resource's keys over the principal's. */
class FixedContext {
  constructor(
    private readonly principal: Map<string, ContextValue>,
    private readonly resource: Map<string, ContextValue>,
  ) {}

  get(key: string): ContextValue | undefined {
    return this.resource.get(key) ?? this.principal.get(key);
  }

  has(key: string): boolean {
    return this.resource.has(key) || this.principal.has(key);
  }
}

/** Keys a call never carries; a tag the principal or the resource does not have finds no value either. */
class AbsentKeys {
  constructor(
    private readonly fixed: FixedContext,
    private readonly extra: readonly string[] | undefined,
  ) {}

  has(key: string): boolean {
    if (NEVER.has(key) || (this.extra?.includes(key) ?? false)) return true;
    return !this.fixed.has(key) && (key.startsWith('aws:principaltag/') || /^[a-z0-9-]+:resourcetag\//.test(key));
  }
}

/** What a call by `role` about `subject` carries, never carries, and may choose. */
export function contextSpace(role: RoleInfo, subject: Subject): ContextSpace {
  const fixed = new FixedContext(roleLayer(role), subjectLayer(subject));
  return { fixed, absent: new AbsentKeys(fixed, subject.absent), domains: DOMAINS };
}
