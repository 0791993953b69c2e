import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TAG_SITE } from '../../infra/shared/tags';

/** What `npm start` prints per site, read back from the synthesized templates. */
export interface SiteSummary {
  readonly site: string;
  readonly stack: string;
  readonly cell: string;
  readonly resources: number;
  readonly image: string;
  readonly size: string;
  readonly isolation: string;
  readonly ingressRules: number;
  readonly egressRules: number;
  readonly internet: boolean;
  readonly uploadsUid: string;
}

export interface StackSummary {
  readonly stack: string;
  readonly resources: number;
  readonly bytes: number;
}

interface Manifest {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Reads every stack of a cloud assembly directory. */
export function readAssembly(outdir: string): { name: string; template: Template; bytes: number }[] {
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as Manifest;
  return Object.entries(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map(([name, a]) => {
      const text = readFileSync(path.join(outdir, a.properties?.templateFile as string), 'utf8');
      return { name, template: JSON.parse(text) as Template, bytes: Buffer.byteLength(text) };
    });
}

function tag(props: Record<string, unknown> | undefined, key: string): string | undefined {
  const tags = props?.Tags as { Key: string; Value: unknown }[] | undefined;
  const value = tags?.find((t) => t.Key === key)?.Value;
  return typeof value === 'string' ? value : undefined;
}

function imageOf(props: Record<string, unknown> | undefined): string {
  const containers = props?.ContainerDefinitions as { Image: unknown }[] | undefined;
  const image = containers?.[0]?.Image;
  const text = typeof image === 'string' ? image : JSON.stringify(image ?? '');
  const digest = /@(sha256:[0-9a-f]{12})/.exec(text);
  return digest ? `${digest[1]}…` : 'not pinned!';
}

/** Summaries of every site stack and every stack, from a cloud assembly. */
export function summarizeAssembly(outdir: string): {
  sites: SiteSummary[];
  stacks: StackSummary[];
} {
  const stacks = readAssembly(outdir);
  const sites: SiteSummary[] = [];
  for (const { name, template } of stacks) {
    const resources = Object.values(template.Resources);
    const group = resources.find((r) => r.Type === 'AWS::EC2::SecurityGroup' && tag(r.Properties, TAG_SITE));
    const site = tag(group?.Properties, TAG_SITE);
    if (!site || !group) continue;
    const taskDefinition = resources.find((r) => r.Type === 'AWS::ECS::TaskDefinition')?.Properties;
    const accessPoint = resources.find((r) => r.Type === 'AWS::EFS::AccessPoint')?.Properties as
      { PosixUser?: { Uid?: string } } | undefined;
    const inline = (key: string) => ((group.Properties?.[key] as unknown[] | undefined) ?? []).length;
    const egress =
      inline('SecurityGroupEgress') + resources.filter((r) => r.Type === 'AWS::EC2::SecurityGroupEgress').length;
    const ingress =
      inline('SecurityGroupIngress') + resources.filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress').length;
    const openEgress = ((group.Properties?.SecurityGroupEgress as { CidrIp?: string }[] | undefined) ?? []).some(
      (r) => r.CidrIp === '0.0.0.0/0',
    );
    sites.push({
      site,
      stack: name,
      cell: tag(group.Properties, 'bulkhead:cell') ?? '?',
      resources: resources.length,
      image: imageOf(taskDefinition),
      size: `${taskDefinition?.Cpu ?? '?'}/${taskDefinition?.Memory ?? '?'}`,
      isolation: resources.some((r) => r.Type === 'AWS::EC2::Subnet') ? 'strict' : 'standard',
      ingressRules: ingress,
      egressRules: egress,
      internet: openEgress,
      uploadsUid: accessPoint?.PosixUser?.Uid ?? '?',
    });
  }
  return {
    sites,
    stacks: stacks.map(({ name, template, bytes }) => ({
      stack: name,
      resources: Object.keys(template.Resources).length,
      bytes,
    })),
  };
}

/** A plain-text table, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
