import { StackName } from '../../contracts/names';
import { synthExample } from './synth-fleet';
import { onlyResource } from './template-queries';

export type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };

/** The incident state machine exactly as synthesized, with its CloudFormation tokens filled in. */
export function incidentWorkflowDefinition(): Definition {
  const response = synthExample().json.get(StackName.response('example'));
  const [, machine] = onlyResource<{ DefinitionString: { 'Fn::Join': [string, unknown[]] } }>(
    response as never,
    'AWS::StepFunctions::StateMachine',
  );
  const [separator, parts] = machine.Properties.DefinitionString['Fn::Join'];
  const text = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      if (JSON.stringify(p) === JSON.stringify({ Ref: 'AWS::Partition' })) return 'aws';
      const logicalId = (p as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? 'unknown';
      return `arn:aws:lambda:eu-west-1:111122223333:function:${logicalId}`;
    })
    .join(separator);
  return JSON.parse(text) as Definition;
}
