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

/** Tag keys the principal or resource does not have: a condition on them finds no value. */
class Absent implements ReadonlySet<string> {
  constructor(
    private readonly explicit: ReadonlySet<string>,
    private readonly fixed: ReadonlyMap<string, ContextValue>,
  ) {}
  has(key: string): boolean {
    if (this.explicit.has(key)) return true;
    if (this.fixed.has(key)) return false;
    return /^aws:principaltag\//.test(key) || /^[a-z0-9-]+:resourcetag\//.test(key);
  }
  get size(): number {
    return this.explicit.size;
  }
  forEach(callback: (value: string, key: string, set: ReadonlySet<string>) => void): void {
    this.explicit.forEach((v) => callback(v, v, this));
  }
  entries() {
    return this.explicit.entries();
  }
  keys() {
    return this.explicit.keys();
  }
  values() {
    return this.explicit.values();
  }
  [Symbol.iterator]() {
    return this.explicit[Symbol.iterator]();
  }
}

const memo = new WeakMap<RoleInfo, WeakMap<Subject, ContextSpace>>();

/** What a call by `role` about `subject` carries, never carries, and may choose. */
export function contextSpace(role: RoleInfo, subject: Subject): ContextSpace {
  let perRole = memo.get(role);
  if (!perRole) {
    perRole = new WeakMap();
    memo.set(role, perRole);
  }
  const known = perRole.get(subject);
  if (known) return known;
  const fixed = new Map<string, ContextValue>([
    ['aws:principalarn', role.arn],
    ['aws:principalaccount', role.account],
    ['aws:principaltype', 'AssumedRole'],
    ['aws:viaawsservice', 'false'],
    ['aws:principalisawsservice', 'false'],
    ['aws:resourceaccount', role.account],
  ]);
  for (const [key, value] of Object.entries(role.tags)) fixed.set(`aws:principaltag/${key.toLowerCase()}`, value);
  for (const [key, value] of Object.entries(subject.tags)) {
    fixed.set(`aws:resourcetag/${key.toLowerCase()}`, value);
    fixed.set(`${subject.service}:resourcetag/${key.toLowerCase()}`, value);
  }
  const region = subject.arn.split(':')[3];
  if (region && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) fixed.set('aws:requestedregion', region);
  for (const [key, value] of Object.entries(subject.context ?? {})) fixed.set(key, value);
  const space: ContextSpace = {
    fixed,
    absent: new Absent(new Set([...NEVER_PRESENT, ...(subject.absent ?? [])]), fixed),
    domains: DOMAINS,
  };
  perRole.set(subject, space);
  return space;
}
