import { type CloudAssembly, loadCloudAssembly } from '../../tools/audit';
import { StackName } from '../../contracts/names';
import { synthExample } from '../support/synth-fleet';

/** A template as the tests mutate it. */
export interface MutableTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; [key: string]: unknown }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  [key: string]: unknown;
}

export const ENV = 'example';

/** The example fleet (config/example.yaml), synthesized once per test file and read back from its cdk.out. */
export function exampleAssembly(): CloudAssembly {
  return loadCloudAssembly(synthExample().outdir);
}

export function siteStackName(site: string): string {
  return StackName.site(ENV, site);
}

/** A deep copy of the assembly with some of its templates changed. */
export function mutated(
  assembly: CloudAssembly,
  changes: Record<string, (template: MutableTemplate) => void>,
): CloudAssembly {
  const copy = structuredClone(assembly) as CloudAssembly;
  for (const [stackName, change] of Object.entries(changes)) {
    const stack = copy.stacks.find((s) => s.name === stackName);
    if (!stack) throw new Error(`no stack ${stackName} in the assembly`);
    change(stack.template as unknown as MutableTemplate);
  }
  return copy;
}

function tagValue(resource: { Properties: Record<string, unknown> }, key: string): unknown {
  const tags = (resource.Properties.Tags ?? resource.Properties.AccessPointTags) as
    { Key: string; Value: unknown }[] | Record<string, unknown> | undefined;
  if (Array.isArray(tags)) return tags.find((t) => t.Key === key)?.Value;
  return tags?.[key];
}

/** The logical id of the one resource of a type (and `bulkhead:component`, if given) in a template. */
export function logicalIdOf(template: MutableTemplate, type: string, component?: string): string {
  const found = Object.entries(template.Resources).filter(
    ([, r]) => r.Type === type && (component === undefined || tagValue(r, 'bulkhead:component') === component),
  );
  if (found.length !== 1) throw new Error(`expected one ${type} ${component ?? ''}, found ${found.length}`);
  return (found[0] as [string, unknown])[0];
}

export function resourceOf(template: MutableTemplate, type: string, component?: string) {
  const id = logicalIdOf(template, type, component);
  return { id, resource: template.Resources[id] as MutableTemplate['Resources'][string] };
}

/** The `AWS::IAM::Policy` attached to the site's task role (CDK's DefaultPolicy). */
export function taskRolePolicy(template: MutableTemplate) {
  const role = logicalIdOf(template, 'AWS::IAM::Role', 'task-role');
  const found = Object.entries(template.Resources).filter(
    ([, r]) =>
      r.Type === 'AWS::IAM::Policy' &&
      ((r.Properties.Roles as { Ref?: string }[] | undefined) ?? []).some((ref) => ref.Ref === role),
  );
  if (found.length !== 1) throw new Error(`expected one policy on the task role, found ${found.length}`);
  const [id, resource] = found[0] as [string, MutableTemplate['Resources'][string]];
  return { id, resource, document: resource.Properties.PolicyDocument as { Statement: Record<string, unknown>[] } };
}

/**
 * The assembly with every site task role's permissions boundary taken away (the role's
 * `PermissionsBoundary`; the boundary policy itself stays). Since issue 15 (item 7) each task
 * role's boundary caps whatever a widened policy, a resource policy or a trust policy would grant
 * it, so tests that show the audit finding a path through a task role's own permissions start from
 * this shape; test/infra/response-role-limits.test.ts and the boundary test in iam-paths.test.ts
 * show what the boundary itself refuses.
 */
export function withoutTaskRoleBoundaries(assembly: CloudAssembly): CloudAssembly {
  const copy = structuredClone(assembly) as CloudAssembly;
  for (const stack of copy.stacks) {
    const template = stack.template as unknown as MutableTemplate;
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type === 'AWS::IAM::Role' && tagValue(resource, 'bulkhead:component') === 'task-role')
        delete resource.Properties.PermissionsBoundary;
    }
  }
  return copy;
}
