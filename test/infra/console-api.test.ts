import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_API_STAGE,
  CONSOLE_API_URL_PATTERN,
  consoleApiName,
  consoleApiUrlParameterName,
  consoleFunctionName,
} from '../../contracts/console-api';
import { operatorRoleName, StackName } from '../../contracts/names';
import { readFileSync } from 'node:fs';
import { parseFleet } from '../../infra/config/load-fleet';
import { CONSOLE_API_THROTTLING, LAMBDA_RESOURCE_POLICY_REGIONS } from '../../infra/ops/ops-stack';
import { awsManagedPolicyDocument } from '../../tools/audit/policy/managed-policies';
import { type IntrinsicContext, resolveValue } from '../support/cfn-intrinsics';
import { type CfnTemplate, synthExample, synthFleet } from '../support/synth-fleet';
import { resourcesOfType } from '../support/template-queries';

/**
 * Issue 15, item 3: only the operator role gets into the console, and AWS verifies who it is. The
 * example fleet's Ops template, its references resolved to the names and ARNs CloudFormation would
 * give them, evaluated with an IAM evaluator others wrote (@cloud-copilot/iam-simulate):
 * - the API (`execute-api:Invoke`): the operator role's session is allowed; a PowerUser of the same
 *   account, whose own policy allows execute-api:Invoke on everything, is denied by the API's
 *   resource policy; so is any other principal;
 * - the function (`lambda:InvokeFunction`): API Gateway for the console API's `POST /` is allowed;
 *   a PowerUser's direct invoke, which its identity policy alone would allow in the same account,
 *   is denied by the function's resource policy.
 */

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ENV = 'example';
const API_ID = 'a1b2c3d4e5';
const OPERATOR_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${operatorRoleName(ENV, REGION)}`;
const OPERATOR_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/${operatorRoleName(ENV, REGION)}/alice`;
const POWER_USER_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/PowerUser/mallory`;
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${consoleFunctionName(ENV)}`;
const METHOD_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${CONSOLE_API_STAGE}/POST/requests`;

type Policy = { Statement: Record<string, unknown>[] };

let ops: CfnTemplate;
let ids: { api: string; fn: string; role: string; stage: string };

function only(type: string): [string, NonNullable<CfnTemplate['Resources'][string]>] {
  const found = resourcesOfType(ops, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, NonNullable<CfnTemplate['Resources'][string]>];
}

function context(): IntrinsicContext {
  const physical = (id: string, attribute?: string): unknown => {
    if (id === ids.api) return attribute === 'RootResourceId' ? 'root0000' : API_ID;
    if (id === ids.fn) return attribute === 'Arn' ? FUNCTION_ARN : consoleFunctionName(ENV);
    if (id === ids.role) return attribute === 'Arn' ? OPERATOR_ROLE_ARN : operatorRoleName(ENV, REGION);
    if (id === ids.stage) return CONSOLE_API_STAGE;
    // An SSM parameter's Ref is its name.
    const resource = ops.Resources[id];
    if (resource?.Type === 'AWS::SSM::Parameter' && !attribute) return resource.Properties?.Name;
    return `${id}${attribute ? `.${attribute}` : ''}`;
  };
  return {
    stackName: StackName.ops(ENV),
    stackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${StackName.ops(ENV)}/0a1b2c3d`,
    region: REGION,
    account: ACCOUNT,
    azs: [`${REGION}a`, `${REGION}b`],
    mappings: {},
    ref: async (id) => physical(id),
    getAtt: async (id, attribute) => physical(id, attribute),
    importValue: () => undefined,
    stackOutput: () => undefined,
    parameter: () => undefined,
  };
}

const resolve = async (value: unknown) => resolveValue(value, context());

beforeAll(() => {
  const json = synthExample().json.get(StackName.ops(ENV));
  if (!json) throw new Error('no ops stack');
  ops = json;
  const role = resourcesOfType(ops, 'AWS::IAM::Role').find(
    ([, r]) => r.Properties?.RoleName === operatorRoleName(ENV, REGION),
  );
  const fn = resourcesOfType(ops, 'AWS::Lambda::Function').find(
    ([, f]) => f.Properties?.FunctionName === consoleFunctionName(ENV),
  );
  if (!role || !fn) throw new Error('no operator role or console function');
  ids = {
    api: only('AWS::ApiGateway::RestApi')[0],
    fn: fn[0],
    role: role[0],
    stage: only('AWS::ApiGateway::Stage')[0],
  };
});

async function operatorPolicies(): Promise<{ name: string; policy: Policy }[]> {
  const attached = resourcesOfType(ops, 'AWS::IAM::Policy').filter(([, p]) =>
    JSON.stringify(p.Properties?.Roles ?? []).includes(`"${ids.role}"`),
  );
  return Promise.all(
    attached.map(async ([name, p]) => ({ name, policy: (await resolve(p.Properties?.PolicyDocument)) as Policy })),
  );
}

function powerUserPolicies(): { name: string; policy: unknown }[] {
  return [{ name: 'PowerUserAccess', policy: awsManagedPolicyDocument('arn:aws:iam::aws:policy/PowerUserAccess') }];
}

async function apiPolicy(): Promise<Policy> {
  return (await resolve(only('AWS::ApiGateway::RestApi')[1].Properties?.Policy)) as Policy;
}

async function functionPolicy(): Promise<Policy> {
  return (await resolve(only('AWS::Lambda::ResourcePolicy')[1].Properties?.PolicyDocument)) as Policy;
}

async function decide(request: {
  principal: string;
  action: string;
  resource: string;
  identity?: { name: string; policy: unknown }[];
  resourcePolicy?: Policy;
  context?: Record<string, string>;
}): Promise<string> {
  const principalArn = request.principal.replace(
    /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.*$/,
    'arn:aws:iam::$1:role/$2',
  );
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: {
          ...(request.principal.startsWith('arn:') ? { 'aws:PrincipalArn': principalArn } : {}),
          ...request.context,
        },
      },
      identityPolicies: request.identity ?? [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    },
    {},
  );
  return result.resultType === 'error' ? `error: ${result.errors.message}` : result.overallResult;
}

describe('the console API: only the operator role gets in', () => {
  it("admits the operator role's session, with its own policy and the API's resource policy", async () => {
    // Act
    const answer = await decide({
      principal: OPERATOR_SESSION,
      action: 'execute-api:Invoke',
      resource: METHOD_ARN,
      identity: await operatorPolicies(),
      resourcePolicy: await apiPolicy(),
    });

    // Assess
    expect(answer).toBe('Allowed');
  });

  it('refuses a PowerUser of the same account, whose own policy allows execute-api:Invoke on everything', async () => {
    // Prepare
    const identity = powerUserPolicies();
    const withoutApiPolicy = await decide({
      principal: POWER_USER_SESSION,
      action: 'execute-api:Invoke',
      resource: METHOD_ARN,
      identity,
    });

    // Act
    const answer = await decide({
      principal: POWER_USER_SESSION,
      action: 'execute-api:Invoke',
      resource: METHOD_ARN,
      identity,
      resourcePolicy: await apiPolicy(),
    });

    // Assess: its own policy would let it in; the API's policy denies it explicitly
    expect(withoutApiPolicy).toBe('Allowed');
    expect(answer).toBe('ExplicitlyDenied');
  });

  it('refuses every other principal, on any stage or method, and the operator role from another account', async () => {
    // Prepare
    const resourcePolicy = await apiPolicy();
    const cases = [
      { principal: `arn:aws:iam::${ACCOUNT}:user/admin`, resource: METHOD_ARN },
      {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/PowerUser/mallory`,
        resource: METHOD_ARN.replace('/POST/', '/GET/'),
      },
      {
        principal: `arn:aws:sts::999999999999:assumed-role/${operatorRoleName(ENV, REGION)}/eve`,
        resource: METHOD_ARN,
      },
    ];

    // Act
    const answers = await Promise.all(
      cases.map((c) => decide({ ...c, action: 'execute-api:Invoke', identity: powerUserPolicies(), resourcePolicy })),
    );

    // Assess
    expect(answers).toEqual(['ExplicitlyDenied', 'ExplicitlyDenied', 'ExplicitlyDenied']);
  });

  it('has one POST method with IAM authorization, a Lambda proxy integration to the console, throttling and access logs', async () => {
    // Prepare
    const [, method] = only('AWS::ApiGateway::Method');
    const [, stage] = only('AWS::ApiGateway::Stage');
    const [, api] = only('AWS::ApiGateway::RestApi');

    // Act
    const integration = (await resolve(method.Properties?.Integration)) as Record<string, unknown>;
    const accessLog = stage.Properties?.AccessLogSetting as { DestinationArn: unknown; Format: string };

    // Assess
    expect(api.Properties).toMatchObject({ Name: consoleApiName(ENV), EndpointConfiguration: { Types: ['REGIONAL'] } });
    expect(method.Properties).toMatchObject({ HttpMethod: 'POST', AuthorizationType: 'AWS_IAM' });
    expect(integration).toMatchObject({
      Type: 'AWS_PROXY',
      IntegrationHttpMethod: 'POST',
      Uri: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${FUNCTION_ARN}/invocations`,
      TimeoutInMillis: 29_000,
    });
    expect(stage.Properties).toMatchObject({
      StageName: CONSOLE_API_STAGE,
      MethodSettings: [
        expect.objectContaining({
          ThrottlingRateLimit: CONSOLE_API_THROTTLING.rateLimit,
          ThrottlingBurstLimit: CONSOLE_API_THROTTLING.burstLimit,
        }),
      ],
    });
    expect(JSON.parse(accessLog.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      userArn: '$context.identity.userArn',
      caller: '$context.identity.caller',
    });
    expect(accessLog.DestinationArn).toBeDefined();
  });

  it('publishes its URL where siteops reads it, and the operator role may read that and call the API, nothing else', async () => {
    // Prepare
    const [, parameter] = only('AWS::SSM::Parameter');

    // Act
    const url = (await resolve(parameter.Properties?.Value)) as string;
    const statements = (await operatorPolicies()).flatMap((p) => p.policy.Statement);

    // Assess
    expect(parameter.Properties?.Name).toBe(consoleApiUrlParameterName(ENV));
    expect(url).toBe(`https://${API_ID}.execute-api.${REGION}.amazonaws.com/${CONSOLE_API_STAGE}/`);
    expect(url).toMatch(CONSOLE_API_URL_PATTERN);
    expect(statements.map((s) => [s.Effect, s.Action, s.Resource])).toEqual([
      ['Allow', 'execute-api:Invoke', METHOD_ARN],
      ['Allow', 'ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${consoleApiUrlParameterName(ENV)}`],
    ]);
  });
});

describe('the console function: API Gateway only', () => {
  it('admits API Gateway for the console API, and no other API', async () => {
    // Prepare
    const resourcePolicy = await functionPolicy();
    const asGateway = (sourceArn: string) =>
      decide({
        principal: 'apigateway.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: FUNCTION_ARN,
        resourcePolicy,
        context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT },
      });

    // Act
    const ours = await asGateway(METHOD_ARN);
    const otherApi = await asGateway(METHOD_ARN.replace(API_ID, 'zzzzzzzzzz'));

    // Assess
    expect(ours).toBe('Allowed');
    expect(otherApi).not.toBe('Allowed');
  });

  it('refuses a direct invoke by a PowerUser of the same account, which its own policy alone would allow', async () => {
    // Prepare
    const identity = powerUserPolicies();
    const withoutFunctionPolicy = await decide({
      principal: POWER_USER_SESSION,
      action: 'lambda:InvokeFunction',
      resource: FUNCTION_ARN,
      identity,
    });

    // Act
    const answer = await decide({
      principal: POWER_USER_SESSION,
      action: 'lambda:InvokeFunction',
      resource: FUNCTION_ARN,
      identity,
      resourcePolicy: await functionPolicy(),
    });
    const operator = await decide({
      principal: OPERATOR_SESSION,
      action: 'lambda:InvokeFunction',
      resource: FUNCTION_ARN,
      identity: await operatorPolicies(),
      resourcePolicy: await functionPolicy(),
    });

    // Assess
    expect(withoutFunctionPolicy).toBe('Allowed');
    expect(answer).toBe('ExplicitlyDenied');
    expect(operator).toBe('ExplicitlyDenied');
  });

  it('has one resource policy and no AWS::Lambda::Permission (CloudFormation: do not mix the two)', () => {
    const permissions = resourcesOfType(ops, 'AWS::Lambda::Permission').filter(
      ([, p]) => JSON.stringify(p.Properties?.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [ids.fn, 'Arn'] }),
    );
    expect(permissions).toEqual([]);
    expect(only('AWS::Lambda::ResourcePolicy')[1].Properties?.ResourceArn).toEqual({ 'Fn::GetAtt': [ids.fn, 'Arn'] });
  });
});

describe('where CloudFormation has no AWS::Lambda::ResourcePolicy', () => {
  it('the function gets an allow-only permission for the console API (the handler is then the only refusal)', () => {
    // Prepare: the example fleet in us-east-1, a region LAMBDA_RESOURCE_POLICY_REGIONS does not list
    const text = readFileSync('config/example.yaml', 'utf8').replaceAll('eu-west-1', 'us-east-1');
    expect(LAMBDA_RESOURCE_POLICY_REGIONS.has('us-east-1')).toBe(false);

    // Act
    const elsewhere = synthFleet(parseFleet(text, 'us-east-1.yaml'), { nag: false, cloudFormationValidation: false });
    const template = elsewhere.json.get(StackName.ops(ENV)) as CfnTemplate;

    // Assess
    expect(resourcesOfType(template, 'AWS::Lambda::ResourcePolicy')).toEqual([]);
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission')
      .map(([, p]) => p.Properties ?? {})
      .filter((p) => p.Principal === 'apigateway.amazonaws.com');
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0]?.SourceArn)).toContain('/console/POST/requests');
  });
});
