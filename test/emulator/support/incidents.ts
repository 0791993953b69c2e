import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { EmulatorWorld } from './world';

/** The response stack's one resource of a type. */
function responseResource(world: EmulatorWorld, type: string) {
  const stack = world.deployed.resources.get(`Bulkhead-${world.environment}-Response`);
  const found = [...(stack?.values() ?? [])].filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`${found.length} resources of type ${type} in the response stack`);
  return found[0] as NonNullable<(typeof found)[0]>;
}

/** An incident's item (`INCIDENT#<id>` / `META`), read from the incident table through the SDK. */
export async function incidentItem(world: EmulatorWorld, incidentId: string): Promise<Record<string, unknown>> {
  const table = responseResource(world, 'AWS::DynamoDB::Table').ref;
  const item = await world.aws.dynamodb.send(
    new GetItemCommand({
      TableName: table,
      Key: { pk: { S: `INCIDENT#${incidentId}` }, sk: { S: 'META' } },
      ConsistentRead: true,
    }),
  );
  if (!item.Item) throw new Error(`no incident ${incidentId} in ${table}`);
  return unmarshall(item.Item);
}

/** The inputs of the incident workflow's executions, read from Step Functions through the SDK. */
export async function workflowInputs(world: EmulatorWorld): Promise<Record<string, unknown>[]> {
  const stateMachineArn = responseResource(world, 'AWS::StepFunctions::StateMachine').ref;
  const executions = await world.aws.sfn.send(new ListExecutionsCommand({ stateMachineArn }));
  const described = await Promise.all(
    (executions.executions ?? []).map((e) =>
      world.aws.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn })),
    ),
  );
  return described.map((d) => JSON.parse(d.input ?? '{}') as Record<string, unknown>);
}

/** A value another stack imports (`Fn::ImportValue`), as the world resolved it. */
export function exported(world: EmulatorWorld, name: string): string {
  const value = world.deployed.exports.get(`bulkhead-${world.environment}-${name}`);
  if (typeof value !== 'string') throw new Error(`no export bulkhead-${world.environment}-${name}`);
  return value;
}
