/**
 * Evaluates CloudFormation intrinsic functions offline, across the stacks of one assembly.
 *
 * What CloudFormation only knows at deploy time (a resource's physical id, a generated name)
 * becomes a token `⟦<stack>#<logicalId>[.<attribute>]⟧` that stands for exactly that value, so
 * the same resource reached through `Ref`, `Fn::GetAtt`, `Fn::ImportValue` of another stack's
 * export or `Fn::GetStackOutput` resolves to the same text. ARNs are built around these tokens for the
 * resource types the audit compares (secrets, log groups, roles, buckets, file systems and
 * access points), so an IAM pattern written by hand can be compared with them. A value that
 * cannot be evaluated (`Fn::If`, an unknown import) becomes {@link UNRESOLVED}.
 */
import type { AssemblyStack, CfnResource, CloudAssembly } from './cloud-assembly';

export const UNRESOLVED = '⟦?⟧';
const TOKEN_PATTERN = /⟦([^#⟧]+)#([^.⟧]+)(?:\.([^⟧]+))?⟧/g;

export type Resolved = string | number | boolean | null | undefined | Resolved[] | { [key: string]: Resolved };

export interface ResourceAddress {
  readonly stack: string;
  readonly logicalId: string;
  readonly attribute?: string;
}

export function tokenFor(stack: string, logicalId: string, attribute?: string): string {
  return `⟦${stack}#${logicalId}${attribute ? `.${attribute}` : ''}⟧`;
}

/** The resource a string stands for, when the whole string is one token. */
export function parseToken(value: unknown): ResourceAddress | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^⟦([^#⟧]+)#([^.⟧]+)(?:\.([^⟧]+))?⟧$/.exec(value);
  if (!match) return undefined;
  const [, stack, logicalId, attribute] = match;
  return { stack: stack as string, logicalId: logicalId as string, ...(attribute ? { attribute } : {}) };
}

/** A resolved string for people: tokens shown as `{stack/logicalId}`. */
export function displayValue(value: Resolved): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return text
    .replace(TOKEN_PATTERN, (_, stack: string, id: string, attribute?: string) =>
      attribute ? `{${stack}/${id}.${attribute}}` : `{${stack}/${id}}`,
    )
    .replaceAll(UNRESOLVED, '{unresolved}');
}

const PSEUDO_DEFAULTS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};

interface ExportEntry {
  readonly stack: AssemblyStack;
  readonly value: unknown;
}

/** Resolves template values of any stack of one assembly; results are cached per value. */
export class AssemblyResolver {
  readonly stacks: ReadonlyMap<string, AssemblyStack>;
  private readonly exports = new Map<string, ExportEntry>();
  private readonly importCache = new Map<string, Resolved>();
  private readonly importing = new Set<string>();
  private readonly cache = new Map<string, WeakMap<object, Resolved>>();

  constructor(assembly: CloudAssembly) {
    this.stacks = new Map(assembly.stacks.map((s) => [s.name, s]));
    for (const stack of assembly.stacks) {
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (!output || typeof output !== 'object' || output.Export === undefined) continue;
        const name = this.resolve(stack, output.Export.Name);
        if (typeof name === 'string') this.exports.set(name, { stack, value: output.Value });
      }
    }
  }

  /** The resource a token names, if it is in the assembly. */
  resourceAt(address: ResourceAddress): CfnResource | undefined {
    return this.stacks.get(address.stack)?.template.Resources?.[address.logicalId];
  }

  /** The export (stack and raw value) behind an export name. */
  exportNamed(name: string): ExportEntry | undefined {
    return this.exports.get(name);
  }

  /** Resolves a value to a string, or undefined when it is not one. */
  resolveString(stack: AssemblyStack, value: unknown): string | undefined {
    const resolved = this.resolve(stack, value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    return undefined;
  }

  /** Resolves a value to a list of strings (a single string counts as a list of one). */
  resolveStrings(stack: AssemblyStack, value: unknown): string[] {
    const resolved = this.resolve(stack, value);
    const list = Array.isArray(resolved) ? resolved : [resolved];
    return list.flatMap((item) =>
      typeof item === 'string' ? [item] : typeof item === 'number' || typeof item === 'boolean' ? [String(item)] : [],
    );
  }

  resolve(stack: AssemblyStack, value: unknown): Resolved {
    if (value === null || typeof value !== 'object') {
      return value as string | number | boolean | null | undefined;
    }
    let perStack = this.cache.get(stack.name);
    if (!perStack) {
      perStack = new WeakMap();
      this.cache.set(stack.name, perStack);
    }
    if (perStack.has(value)) return perStack.get(value);
    const resolved = this.evaluate(stack, value);
    perStack.set(value, resolved);
    return resolved;
  }

  private evaluate(stack: AssemblyStack, value: object): Resolved {
    if (Array.isArray(value)) {
      return value.map((v) => this.resolve(stack, v)).filter((v) => v !== undefined);
    }
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, argument] = entries[0] as [string, unknown];
      if (key === 'Ref') return this.ref(stack, argument);
      if (key.startsWith('Fn::')) return this.fn(stack, key, argument);
    }
    const out: Record<string, Resolved> = {};
    for (const [key, v] of entries) {
      const resolved = this.resolve(stack, v);
      if (resolved !== undefined) out[key] = resolved;
    }
    return out;
  }

  private fn(stack: AssemblyStack, name: string, argument: unknown): Resolved {
    switch (name) {
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument)
          ? [argument[0], argument.slice(1).join('.')]
          : typeof argument === 'string'
            ? [argument.split('.')[0], argument.split('.').slice(1).join('.')]
            : [undefined, undefined];
        if (typeof id !== 'string' || typeof attribute !== 'string') return UNRESOLVED;
        return this.getAtt(stack, id, attribute);
      }
      case 'Fn::ImportValue': {
        const exportName = this.resolve(stack, argument);
        return typeof exportName === 'string' ? this.importValue(exportName) : UNRESOLVED;
      }
      case 'Fn::GetStackOutput': {
        // CDK's cross-stack reference without an export: { StackName, OutputName[, Region] }.
        const args = this.resolve(stack, argument) as { StackName?: Resolved; OutputName?: Resolved } | undefined;
        const source = typeof args?.StackName === 'string' ? this.stacks.get(args.StackName) : undefined;
        const output = typeof args?.OutputName === 'string' ? source?.template.Outputs?.[args.OutputName] : undefined;
        return source && output ? this.resolve(source, output.Value) : UNRESOLVED;
      }
      case 'Fn::Join': {
        if (!Array.isArray(argument) || argument.length !== 2) return UNRESOLVED;
        const separator = this.resolve(stack, argument[0]);
        const parts = this.resolve(stack, argument[1]);
        if (typeof separator !== 'string' || !Array.isArray(parts)) return UNRESOLVED;
        return parts.map((p) => scalarText(p)).join(separator);
      }
      case 'Fn::Split': {
        if (!Array.isArray(argument) || argument.length !== 2) return UNRESOLVED;
        const separator = this.resolve(stack, argument[0]);
        const source = this.resolve(stack, argument[1]);
        if (typeof separator !== 'string' || typeof source !== 'string' || source === UNRESOLVED) return UNRESOLVED;
        return source.split(separator);
      }
      case 'Fn::Select': {
        if (!Array.isArray(argument) || argument.length !== 2) return UNRESOLVED;
        const index = Number(this.resolve(stack, argument[0]));
        const list = this.resolve(stack, argument[1]);
        if (!Array.isArray(list) || !Number.isInteger(index)) return UNRESOLVED;
        return list[index] ?? UNRESOLVED;
      }
      case 'Fn::Sub':
        return this.sub(stack, argument);
      case 'Fn::FindInMap': {
        if (!Array.isArray(argument) || argument.length < 3) return UNRESOLVED;
        const [map, top, second] = argument.slice(0, 3).map((a) => this.resolve(stack, a));
        if (typeof map !== 'string' || typeof top !== 'string' || typeof second !== 'string') return UNRESOLVED;
        const found = stack.template.Mappings?.[map]?.[top]?.[second];
        return found === undefined ? UNRESOLVED : this.resolve(stack, found);
      }
      case 'Fn::Base64':
        return this.resolve(stack, argument);
      default:
        return UNRESOLVED;
    }
  }

  private sub(stack: AssemblyStack, argument: unknown): Resolved {
    const [text, variables] = Array.isArray(argument) ? [argument[0], argument[1]] : [argument, undefined];
    if (typeof text !== 'string') return UNRESOLVED;
    const vars = (variables && typeof variables === 'object' ? variables : {}) as Record<string, unknown>;
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      if (name in vars) return scalarText(this.resolve(stack, vars[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) {
        return scalarText(this.getAtt(stack, name.slice(0, dot), name.slice(dot + 1)));
      }
      return scalarText(this.ref(stack, name));
    });
  }

  private importValue(name: string): Resolved {
    if (this.importCache.has(name)) return this.importCache.get(name);
    const entry = this.exports.get(name);
    if (!entry || this.importing.has(name)) return UNRESOLVED;
    this.importing.add(name);
    const resolved = this.resolve(entry.stack, entry.value);
    this.importing.delete(name);
    this.importCache.set(name, resolved);
    return resolved;
  }

  private pseudo(stack: AssemblyStack, name: string): string | undefined {
    if (name === 'AWS::Region') return stack.region ?? '*';
    if (name === 'AWS::AccountId') return stack.account ?? '*';
    if (name === 'AWS::StackName') return stack.name;
    // One stand-in stack instance: names of retained resources carry its last group (issue 12 item 5).
    if (name === 'AWS::StackId')
      return `arn:aws:cloudformation:${stack.region ?? '*'}:${stack.account ?? '*'}:stack/${stack.name}/00000000-0000-0000-0000-000000000000`;
    return PSEUDO_DEFAULTS[name];
  }

  private ref(stack: AssemblyStack, argument: unknown): Resolved {
    if (typeof argument !== 'string') return UNRESOLVED;
    if (argument === 'AWS::NoValue') return undefined;
    const pseudo = this.pseudo(stack, argument);
    if (pseudo !== undefined) return pseudo;
    const resource = stack.template.Resources?.[argument];
    if (resource) return this.refOfResource(stack, argument, resource);
    const parameter = stack.template.Parameters?.[argument];
    if (parameter && parameter.Default !== undefined && !String(parameter.Type ?? '').startsWith('AWS::SSM')) {
      return this.resolve(stack, parameter.Default);
    }
    return tokenFor(stack.name, argument);
  }

  private arn(stack: AssemblyStack, service: string, resource: string, regional = true): string {
    const region = regional ? (stack.region ?? '*') : '';
    const account = stack.account ?? '*';
    return `arn:aws:${service}:${region}:${account}:${resource}`;
  }

  private literalProperty(stack: AssemblyStack, resource: CfnResource, key: string): string | undefined {
    const value = this.resolve(stack, resource.Properties?.[key]);
    return typeof value === 'string' ? value : undefined;
  }

  /** What `Ref` returns, for the types whose return value the audit compares. */
  private refOfResource(stack: AssemblyStack, id: string, resource: CfnResource): string {
    const token = tokenFor(stack.name, id);
    const named = (key: string) => this.literalProperty(stack, resource, key) ?? token;
    switch (resource.Type) {
      case 'AWS::SecretsManager::Secret':
        // Secrets Manager appends a random 6-character suffix to the name in the ARN.
        return this.arn(stack, 'secretsmanager', `secret:${named('Name')}-??????`);
      case 'AWS::Logs::LogGroup':
        return named('LogGroupName');
      case 'AWS::S3::Bucket':
        return named('BucketName');
      case 'AWS::IAM::Role':
        return named('RoleName');
      case 'AWS::SSM::Parameter':
        return named('Name');
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${stack.account ?? '*'}:policy/${named('ManagedPolicyName')}`;
      case 'AWS::Lambda::Function':
        return named('FunctionName');
      case 'AWS::DynamoDB::Table':
        return named('TableName');
      case 'AWS::ECS::Cluster':
        return named('ClusterName');
      case 'AWS::CloudWatch::Alarm':
        return named('AlarmName');
      case 'AWS::SecretsManager::SecretTargetAttachment': {
        // "Ref returns the ARN of the secret" the attachment was given.
        const secret = this.resolve(stack, resource.Properties?.SecretId);
        return typeof secret === 'string' ? secret : token;
      }
      default:
        return token;
    }
  }

  private getAtt(stack: AssemblyStack, id: string, attribute: string): Resolved {
    const resource = stack.template.Resources?.[id];
    if (!resource) return UNRESOLVED;
    const ref = () => this.refOfResource(stack, id, resource);
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::EC2::SecurityGroup.GroupId':
      case 'AWS::EFS::FileSystem.FileSystemId':
      case 'AWS::EFS::AccessPoint.AccessPointId':
      case 'AWS::EC2::PrefixList.PrefixListId':
      case 'AWS::EC2::Subnet.SubnetId':
        return ref();
      case 'AWS::SecretsManager::Secret.Id':
        return ref();
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${stack.account ?? '*'}:role/${ref()}`;
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn(stack, 'logs', `log-group:${ref()}:*`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${ref()}`;
      case 'AWS::EFS::FileSystem.Arn':
        return this.arn(stack, 'elasticfilesystem', `file-system/${ref()}`);
      case 'AWS::EFS::AccessPoint.Arn':
        return this.arn(stack, 'elasticfilesystem', `access-point/${ref()}`);
      case 'AWS::Lambda::Function.Arn':
        return this.arn(stack, 'lambda', `function:${ref()}`);
      case 'AWS::KMS::Key.Arn':
        return this.arn(stack, 'kms', `key/${ref()}`);
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn(stack, 'dynamodb', `table/${ref()}`);
      case 'AWS::ECS::Cluster.Arn':
        return this.arn(stack, 'ecs', `cluster/${ref()}`);
      case 'AWS::EC2::Subnet.CidrBlock': {
        const cidr = this.literalProperty(stack, resource, 'CidrBlock');
        return cidr ?? tokenFor(stack.name, id, attribute);
      }
      case 'AWS::EC2::VPC.CidrBlock': {
        const cidr = this.literalProperty(stack, resource, 'CidrBlock');
        return cidr ?? tokenFor(stack.name, id, attribute);
      }
      default:
        return tokenFor(stack.name, id, attribute);
    }
  }
}

function scalarText(value: Resolved): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return UNRESOLVED;
}
