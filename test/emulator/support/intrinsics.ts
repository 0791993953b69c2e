/**
 * CloudFormation's intrinsic functions, evaluated the way CloudFormation evaluates them at
 * deploy time (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html),
 * against resources that exist: what a Ref or Fn::GetAtt returns comes from the resource
 * the emulator world created for it.
 */

export interface IntrinsicContext {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly account: string;
  /** Availability zones of the region, for Fn::GetAZs. */
  readonly azs: readonly string[];
  ref(logicalId: string): Promise<unknown>;
  getAtt(logicalId: string, attribute: string): Promise<unknown>;
  importValue(name: string): unknown;
  stackOutput(stackName: string, outputName: string): unknown;
  parameter(name: string): unknown;
  /** The template's Mappings, for Fn::FindInMap. */
  readonly mappings: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
}

/** Marks a property CloudFormation drops (`Ref: AWS::NoValue`). */
export const NO_VALUE = Symbol('AWS::NoValue');

function pseudo(name: string, ctx: IntrinsicContext): unknown {
  switch (name) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.account;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return ctx.stackId;
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

function text(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

/** Resolves every intrinsic in a template value. */
export async function resolveValue(value: unknown, ctx: IntrinsicContext): Promise<unknown> {
  if (Array.isArray(value)) {
    const items = await Promise.all(value.map((v) => resolveValue(v, ctx)));
    return items.filter((v) => v !== NO_VALUE);
  }
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0] as [string, unknown];
    switch (key) {
      case 'Ref': {
        const name = text(arg, 'Ref');
        if (name.startsWith('AWS::')) return pseudo(name, ctx);
        const parameter = ctx.parameter(name);
        return parameter !== undefined ? parameter : ctx.ref(name);
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? (arg as string[]) : text(arg, 'Fn::GetAtt').split(/\.(.*)/);
        return ctx.getAtt(id as string, attribute as string);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        const resolved = (await resolveValue(parts, ctx)) as unknown[];
        return resolved.map((p) => text(p, 'Fn::Join')).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = (await resolveValue(arg, ctx)) as [number | string, unknown[]];
        const items = list as unknown[];
        const item = items[Number(index)];
        if (item === undefined) throw new Error(`Fn::Select: no item ${index} in ${JSON.stringify(items)}`);
        return item;
      }
      case 'Fn::Split': {
        const [separator, source] = (await resolveValue(arg, ctx)) as [string, string];
        return text(source, 'Fn::Split').split(separator);
      }
      case 'Fn::Sub': {
        const [template, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg, {}];
        const vars = (await resolveValue(variables, ctx)) as Record<string, unknown>;
        let out = '';
        const pattern = /\$\{([^}]+)\}/g;
        let last = 0;
        for (const match of text(template, 'Fn::Sub').matchAll(pattern)) {
          out += (template as string).slice(last, match.index);
          const name = match[1] as string;
          let replacement: unknown;
          if (name.startsWith('!')) replacement = `\${${name.slice(1)}}`;
          else if (name in vars) replacement = vars[name];
          else if (name.includes('.')) {
            const [id, attribute] = name.split(/\.(.*)/) as [string, string];
            replacement = await ctx.getAtt(id, attribute);
          } else replacement = await resolveValue({ Ref: name }, ctx);
          out += text(replacement, `Fn::Sub \${${name}}`);
          last = (match.index ?? 0) + match[0].length;
        }
        return out + (template as string).slice(last);
      }
      case 'Fn::ImportValue':
        return ctx.importValue(text(await resolveValue(arg, ctx), 'Fn::ImportValue'));
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = (await resolveValue(arg, ctx)) as { StackName: string; OutputName: string };
        return ctx.stackOutput(StackName, OutputName);
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = (await resolveValue(arg, ctx)) as [string, string, string];
        const found = ctx.mappings[map]?.[top]?.[second];
        if (found === undefined) throw new Error(`Fn::FindInMap: no ${map}.${top}.${second}`);
        return found;
      }
      case 'Fn::GetAZs':
        return [...ctx.azs];
      case 'Fn::Base64':
        return Buffer.from(text(await resolveValue(arg, ctx), 'Fn::Base64')).toString('base64');
      default:
        if (key.startsWith('Fn::')) throw new Error(`intrinsic ${key} is not interpreted by the emulator world`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const resolved = await resolveValue(v, ctx);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}
