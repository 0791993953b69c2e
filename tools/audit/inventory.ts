/**
 * The assembly as the audit sees it: every resource with its resolved tags, and the sites
 * (one per site stack `Bulkhead-<env>-Site-<id>`, or any stack with an ECS service tagged
 * `bulkhead:site`) with the resources that belong to them.
 */
import { Component, TAG_CELL, TAG_COMPONENT, TAG_ENV, TAG_ISOLATION, TAG_SITE } from '../../contracts/tag-names';
import type { AssemblyStack, CfnResource, CloudAssembly } from './cloud-assembly';
import { AssemblyResolver, tokenFor } from './intrinsics';
import type { AuditedSite } from './types';

export interface ResourceEntry {
  readonly stack: AssemblyStack;
  readonly logicalId: string;
  readonly resource: CfnResource;
  readonly type: string;
  readonly properties: Record<string, unknown>;
  /** Tags whose values resolve to strings. */
  readonly tags: Readonly<Record<string, string>>;
  /** `⟦stack#logicalId⟧`: what a `Ref` to it resolves to for untyped resources. */
  readonly token: string;
}

export interface SiteInventory extends AuditedSite {
  readonly stackEntry: AssemblyStack;
  /** Everything of the site's stack, plus resources of other stacks tagged with the site. */
  readonly resources: readonly ResourceEntry[];
}

export interface Inventory {
  readonly assembly: CloudAssembly;
  readonly resolver: AssemblyResolver;
  readonly resources: readonly ResourceEntry[];
  readonly sites: readonly SiteInventory[];
  /** The environment of the fleet (`bulkhead:env` of the sites, or of the stack names). */
  readonly environment?: string;
  ofType(type: string): readonly ResourceEntry[];
  /** The site a resource (by token) belongs to. */
  siteOf(token: string): string | undefined;
  /** The entry of a resource named by stack and logical id. */
  entry(stack: string, logicalId: string): ResourceEntry | undefined;
}

const SITE_STACK = /^Bulkhead-(.+)-Site-(.+)$/;
const TAG_PROPERTIES = ['Tags', 'AccessPointTags', 'FileSystemTags', 'TagList', 'BackupVaultTags', 'BackupPlanTags'];

function readTags(resolver: AssemblyResolver, stack: AssemblyStack, resource: CfnResource): Record<string, string> {
  const props = resource.Properties ?? {};
  const raw = TAG_PROPERTIES.map((key) => props[key]).find((v) => v !== undefined);
  const tags: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const tag of raw as { Key?: unknown; Value?: unknown }[]) {
      if (!tag || typeof tag.Key !== 'string') continue;
      const value = resolver.resolveString(stack, tag.Value);
      if (value !== undefined) tags[tag.Key] = value;
    }
  } else if (raw && typeof raw === 'object') {
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      const text = resolver.resolveString(stack, value);
      if (text !== undefined) tags[key] = text;
    }
  }
  return tags;
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  for (const [value, count] of counts) if (best === undefined || count > (counts.get(best) ?? 0)) best = value;
  return best;
}

export function buildInventory(assembly: CloudAssembly): Inventory {
  const resolver = new AssemblyResolver(assembly);
  const resources: ResourceEntry[] = [];
  const byStack = new Map<string, ResourceEntry[]>();
  for (const stack of assembly.stacks) {
    const list: ResourceEntry[] = [];
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (!resource || typeof resource !== 'object' || typeof resource.Type !== 'string') continue;
      list.push({
        stack,
        logicalId,
        resource,
        type: resource.Type,
        properties: (resource.Properties ?? {}) as Record<string, unknown>,
        tags: readTags(resolver, stack, resource),
        token: tokenFor(stack.name, logicalId),
      });
    }
    byStack.set(stack.name, list);
    resources.push(...list);
  }

  const siteStacks = assembly.stacks.filter((stack) => {
    if (SITE_STACK.test(stack.name)) return true;
    return (byStack.get(stack.name) ?? []).some(
      (r) => r.type === 'AWS::ECS::Service' && r.tags[TAG_SITE] !== undefined,
    );
  });
  const sites: SiteInventory[] = [];
  const siteStackNames = new Set(siteStacks.map((s) => s.name));
  const taggedElsewhere = new Map<string, ResourceEntry[]>();
  for (const r of resources) {
    const site = r.tags[TAG_SITE];
    if (site === undefined || siteStackNames.has(r.stack.name)) continue;
    taggedElsewhere.set(site, [...(taggedElsewhere.get(site) ?? []), r]);
  }
  for (const stack of siteStacks) {
    const own = byStack.get(stack.name) ?? [];
    const fromName = SITE_STACK.exec(stack.name);
    const id = mostCommon(own.flatMap((r) => (r.tags[TAG_SITE] ? [r.tags[TAG_SITE]] : []))) ?? fromName?.[2];
    if (!id) continue;
    const siteResources = [...own, ...(taggedElsewhere.get(id) ?? [])];
    const service = own.find((r) => r.type === 'AWS::ECS::Service');
    const strict =
      service?.tags[TAG_ISOLATION] === 'strict' ||
      own.some((r) => r.type === 'AWS::EC2::Subnet' || r.tags[TAG_COMPONENT] === Component.networkAcl);
    const environment = mostCommon(own.flatMap((r) => (r.tags[TAG_ENV] ? [r.tags[TAG_ENV]] : []))) ?? fromName?.[1];
    const cell = mostCommon(own.flatMap((r) => (r.tags[TAG_CELL] ? [r.tags[TAG_CELL]] : [])));
    sites.push({
      id,
      stack: stack.name,
      ...(environment ? { environment } : {}),
      ...(cell ? { cell } : {}),
      isolation: strict ? 'strict' : 'standard',
      stackEntry: stack,
      resources: siteResources,
    });
  }

  const ownerByToken = new Map<string, string>();
  for (const site of sites) for (const r of site.resources) ownerByToken.set(r.token, site.id);
  const byType = new Map<string, ResourceEntry[]>();
  for (const r of resources) {
    const list = byType.get(r.type) ?? [];
    list.push(r);
    byType.set(r.type, list);
  }
  const byAddress = new Map(resources.map((r) => [`${r.stack.name}#${r.logicalId}`, r]));
  const environment =
    mostCommon(sites.flatMap((s) => (s.environment ? [s.environment] : []))) ??
    assembly.stacks.map((s) => /^Bulkhead-(.+)-(Network|Data|Response|Ops)$/.exec(s.name)?.[1]).find(Boolean);

  return {
    assembly,
    resolver,
    resources,
    sites,
    ...(environment ? { environment } : {}),
    ofType: (type) => byType.get(type) ?? [],
    siteOf: (token) => ownerByToken.get(token),
    entry: (stack, logicalId) => byAddress.get(`${stack}#${logicalId}`),
  };
}

/** The site's resources of one type. */
export function siteResourcesOfType(site: SiteInventory, type: string): ResourceEntry[] {
  return site.resources.filter((r) => r.type === type);
}

/** The site's resources with one `bulkhead:component` value. */
export function siteComponent(site: SiteInventory, component: string): ResourceEntry[] {
  return site.resources.filter((r) => r.tags[TAG_COMPONENT] === component);
}
