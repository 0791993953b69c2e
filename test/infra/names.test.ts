import { beforeAll, describe, expect, it } from 'vitest';
import { loadFleetFile } from '../../infra/config/load-fleet';
import { type CfnTemplate, type SynthesizedFleet, synthExample, synthFleet } from '../support/synth-fleet';

/**
 * Issue 12, item 5: names that would block a second deploy. A retained resource outlives its
 * stack ("Retain ... keeps the resource without deleting the resource or its contents when its
 * stack is deleted": CloudFormation, DeletionPolicy attribute), so a fixed name makes the same
 * stack fail to create again ("already exists"). IAM names are account-wide, other names
 * regional, so two regions of one environment collide only on IAM (and S3 bucket) names.
 */

const NAME_KEYS = /^(Name|\w+Name|DBClusterIdentifier|DBInstanceIdentifier)$/;

/** Renders a name as CloudFormation would in one stack instance; other references stay symbolic. */
function render(value: unknown, pseudo: Record<string, string>): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    // A resource of the same stack gets a new physical id in a new stack instance.
    if ('Ref' in o) return pseudo[o.Ref as string] ?? `{${String(o.Ref)}@${pseudo['AWS::StackId'] ?? ''}}`;
    if ('Fn::GetAtt' in o) return `{${JSON.stringify(o['Fn::GetAtt'])}@${pseudo['AWS::StackId'] ?? ''}}`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => render(p, pseudo)).join(sep);
    }
    if ('Fn::Split' in o)
      return JSON.stringify(
        render((o['Fn::Split'] as [string, unknown])[1], pseudo).split((o['Fn::Split'] as [string])[0]),
      );
    if ('Fn::Select' in o) {
      const [i, list] = o['Fn::Select'] as [number, unknown];
      const rendered = render(list, pseudo);
      try {
        return (JSON.parse(rendered) as string[])[Number(i)] ?? '';
      } catch {
        return `{select ${rendered}}`;
      }
    }
  }
  return JSON.stringify(value);
}

function stackId(stack: string, uuid: string): string {
  return `arn:aws:cloudformation:eu-west-1:111122223333:stack/${stack}/${uuid}`;
}

/** Names of a template's named resources, in one stack instance. */
function names(template: CfnTemplate, stack: string, uuid: string, onlyRetained: boolean): string[] {
  const pseudo = { 'AWS::StackId': stackId(stack, uuid), 'AWS::StackName': stack, 'AWS::Region': 'eu-west-1' };
  return Object.values(template.Resources)
    .filter(
      (r) =>
        !onlyRetained ||
        ['Retain', 'RetainExceptOnCreate'].includes(String((r as { DeletionPolicy?: string }).DeletionPolicy)),
    )
    .flatMap((r) =>
      Object.entries(r.Properties ?? {})
        .filter(([key]) => NAME_KEYS.test(key))
        .map(([key, value]) => `${r.Type} ${key}=${render(value, pseudo)}`),
    );
}

let example: SynthesizedFleet;
beforeAll(() => {
  example = synthExample();
});

describe('deleting a stack and deploying it again', () => {
  it('no retained resource of any stack keeps a name the re-created stack would use again', () => {
    for (const [stack, template] of example.json) {
      // Act: deploy, delete (retained resources stay), deploy again (a new stack id).
      const left = new Set(names(template, stack, '11111111-2222-3333-4444-555555555555', true));
      const again = names(template, stack, '66666666-7777-8888-9999-aaaaaaaaaaaa', false);
      // Assess
      expect(
        again.filter((n) => left.has(n)),
        stack,
      ).toEqual([]);
    }
  });

  it('the Data stack holds no policy that denies deleting its secrets', () => {
    // Act
    const data = example.json.get('Bulkhead-example-Data') as CfnTemplate;
    const denies = Object.values(data.Resources)
      .filter((r) => r.Type === 'AWS::SecretsManager::ResourcePolicy')
      .flatMap((r) => (r.Properties?.ResourcePolicy as { Statement: Record<string, unknown>[] }).Statement)
      .filter((s) => s.Effect === 'Deny' && JSON.stringify(s.Action).includes('DeleteSecret'));
    // Assess
    expect(denies).toEqual([]);
  });
});

describe('two regions of one environment in one account', () => {
  it('have no account-wide name in common', () => {
    // Prepare
    const other = synthFleet(
      { ...loadFleetFile('config/example.yaml'), region: 'eu-central-1' },
      { nag: false, cloudFormationValidation: false },
    );
    const global = (fleet: SynthesizedFleet, region: string) =>
      [...fleet.json.entries()].flatMap(([stack, template]) =>
        Object.values(template.Resources)
          .filter((r) => /^AWS::IAM::(Role|ManagedPolicy|InstanceProfile|User|Group)$|^AWS::S3::Bucket$/.test(r.Type))
          .flatMap((r) =>
            Object.entries(r.Properties ?? {})
              .filter(([key]) => NAME_KEYS.test(key))
              .map(
                ([key, value]) =>
                  `${r.Type} ${key}=${render(value, { 'AWS::Region': region, 'AWS::StackName': stack })}`,
              ),
          ),
      );
    // Act
    const ireland = new Set(global(example, 'eu-west-1'));
    const frankfurt = global(other, 'eu-central-1');
    // Assess
    expect(ireland.size).toBeGreaterThan(0);
    expect(frankfurt.filter((n) => ireland.has(n))).toEqual([]);
  });
});
