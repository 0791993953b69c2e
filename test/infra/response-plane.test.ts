import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP_PERSISTENCE_MS, TAKEOVER_AFTER_MS } from '../../runtime/contain/contain';
import { cellClusterName, siteAlarmName, siteAlarmPrefix, StackName } from '../../contracts/names';
import { patternMatches } from '../support/event-bridge';
import { type SynthesizedFleet, synthExample } from '../support/synth-fleet';
import { type PolicyStatementJson, policyStatements, resourcesOfType } from '../support/template-queries';

let synth: SynthesizedFleet;
let response: Template;
let statements: (PolicyStatementJson & { role: string })[];

beforeAll(() => {
  synth = synthExample();
  const json = synth.json.get(StackName.response('example'));
  if (!json) throw new Error('no response stack');
  response = Template.fromJSON(json as never);
  statements = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([id, p]) =>
    policyStatements({ Resources: { [id]: p } }).map((s) => ({ ...s, role: id })),
  );
});

const ofRole = (prefix: string) => statements.filter((s) => s.role.startsWith(prefix));
const actions = (s: PolicyStatementJson) => [s.Action].flat();

describe('least privilege of the containment function', () => {
  it('changes security-group rules only on groups tagged as this environment’s site groups', () => {
    const sg = ofRole('ContainFunction').find((s) => s.Sid === 'SwapSiteSecurityGroupRules');
    expect(actions(sg as PolicyStatementJson).sort()).toEqual([
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:ModifySecurityGroupRules',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
    ]);
    expect(sg?.Resource).toBe('arn:aws:ec2:eu-west-1:111122223333:security-group/*');
    expect(sg?.Condition).toEqual({
      // The standby group too (issue 11 item 5): a site's tasks run there during a restore.
      StringEquals: {
        'aws:ResourceTag/bulkhead:env': 'example',
        'aws:ResourceTag/bulkhead:component': ['site-sg', 'site-sg-standby'],
      },
    });
  });

  it('swaps network ACL associations only on ACLs and subnets tagged as this environment’s (subnets: strict sites’ own)', () => {
    const subnets = ofRole('ContainFunction').find((s) => s.Sid === 'SwapSiteAclsSubnets');
    const acls = ofRole('ContainFunction').find((s) => s.Sid === 'SwapSiteAclsAcls');
    expect(actions(subnets as PolicyStatementJson)).toEqual(['ec2:ReplaceNetworkAclAssociation']);
    expect(actions(acls as PolicyStatementJson)).toEqual(['ec2:ReplaceNetworkAclAssociation']);
    expect(subnets?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/bulkhead:env': 'example', 'aws:ResourceTag/bulkhead:component': 'subnet' },
    });
    expect(acls?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/bulkhead:env': 'example',
        'aws:ResourceTag/bulkhead:component': ['quarantine-acl', 'network-acl'],
      },
    });
  });

  it('modifies listener rules only on the cells’ own listeners', () => {
    const shed = ofRole('ContainFunction').find((s) => s.Sid === 'ShedSiteTraffic');
    expect(actions(shed as PolicyStatementJson)).toEqual(['elasticloadbalancing:ModifyRule']);
    const resources = JSON.stringify(shed?.Resource);
    for (const cell of ['blue', 'green']) expect(resources).toContain(`bulkhead-example-cell-${cell}-listener-arn`);
    expect(resources).not.toContain('"*"');
  });

  it('puts role policies only on roles tagged as this environment’s task roles that carry a task-role boundary', () => {
    const revoke = ofRole('ContainFunction').find((s) => s.Sid === 'RevokeTaskRoleSessions');
    expect(actions(revoke as PolicyStatementJson)).toEqual(['iam:PutRolePolicy']);
    expect(revoke?.Resource).toBe('arn:aws:iam::111122223333:role/*');
    expect(revoke?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/bulkhead:env': 'example', 'aws:ResourceTag/bulkhead:component': 'task-role' },
      // Issue 15, item 7: whatever it puts there, the role's boundary caps it.
      ArnLike: {
        'iam:PermissionsBoundary': 'arn:aws:iam::111122223333:policy/bulkhead-example-task-boundary-eu-west-1-*',
      },
    });
  });

  it('may do nothing else that changes AWS except its own table and starting the workflow', () => {
    const allowed = new Set([
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:ModifySecurityGroupRules',
      'ec2:ReplaceNetworkAclAssociation',
      'elasticloadbalancing:ModifyRule',
      'iam:PutRolePolicy',
      'states:StartExecution',
      // Events it could not act on go to the dead-letter queue (encrypted with the response key).
      'sqs:SendMessage',
      // What an attack sequence names and it cannot resolve goes to the operators' topic (issue 11 item 4).
      'sns:Publish',
      'kms:GenerateDataKey',
      'kms:Decrypt',
    ]);
    const mutating = ofRole('ContainFunction')
      .flatMap(actions)
      .filter(
        (a) =>
          !/^(ec2:Describe|elasticloadbalancing:Describe|ecs:Describe|ssm:GetParameter|dynamodb:|xray:|logs:)/.test(a),
      );
    expect(mutating.filter((a) => !allowed.has(a))).toEqual([]);
    expect(ofRole('ContainFunction').find((s) => actions(s).includes('states:StartExecution'))?.Resource).toEqual({
      Ref: expect.stringMatching(/StateMachine/),
    });
    expect(ofRole('ContainFunction').filter((s) => actions(s).includes('sqs:SendMessage'))).toEqual([
      expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/TriggerDeadLetters/), 'Arn'] } }),
    ]);
    expect(
      ofRole('ContainFunction')
        .filter((s) => actions(s).some((a) => a.startsWith('kms:')))
        .map((s) => [[...actions(s)].sort(), s.Resource]),
    ).toEqual([
      // The dead-letter queue's and the operators' topic's: both encrypted with the response key.
      [['kms:Decrypt', 'kms:GenerateDataKey'], { 'Fn::GetAtt': [expect.stringMatching(/Key/), 'Arn'] }],
      [['kms:Decrypt', 'kms:GenerateDataKey'], { 'Fn::GetAtt': [expect.stringMatching(/Key/), 'Arn'] }],
    ]);
    expect(ofRole('ContainFunction').filter((s) => actions(s).includes('sns:Publish'))).toEqual([
      expect.objectContaining({ Resource: { Ref: expect.stringMatching(/^OpsTopic/) } }),
    ]);
  });

  it('no response role may delete data: no Delete*, no Terminate*, no s3:DeleteObject*', () => {
    // logs:DeleteLogDelivery is Step Functions' own log-delivery configuration (CDK grants it
    // with execution logging); it deletes no log data. Recovery removes only what Bulkhead
    // itself added: its session-deny policy on task roles and its restore probe rules, each
    // held to its tags (asserted below).
    const deleting = statements
      .flatMap((s) => actions(s).map((a) => `${s.role.replace(/[0-9A-F]{8}$/, '')}: ${a}`))
      .filter((a) =>
        /:(Delete|Terminate|Remove|PutBucketPolicy|PutObjectRetention|BypassGovernance)/i.test(a.split(': ')[1] ?? ''),
      )
      .filter((a) => !a.endsWith(': logs:DeleteLogDelivery'));
    expect(deleting.sort()).toEqual([
      'RecoveryFunctionServiceRoleDefaultPolicy: elasticloadbalancing:DeleteRule',
      'RecoveryFunctionServiceRoleDefaultPolicy: iam:DeleteRolePolicy',
    ]);
    const recovery = ofRole('RecoveryFunction');
    expect(recovery.find((s) => actions(s).includes('elasticloadbalancing:DeleteRule'))?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/bulkhead:env': 'example',
        'aws:ResourceTag/bulkhead:component': 'restore-probe',
      },
    });
    expect(recovery.find((s) => actions(s).includes('iam:DeleteRolePolicy'))?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/bulkhead:env': 'example', 'aws:ResourceTag/bulkhead:component': 'task-role' },
      ArnLike: {
        'iam:PermissionsBoundary': 'arn:aws:iam::111122223333:policy/bulkhead-example-task-boundary-eu-west-1-*',
      },
    });
  });

  it('recovery writes only to this environment’s sites: every write statement is held by a tag or names Bulkhead’s own resources', () => {
    const recovery = ofRole('RecoveryFunction');
    const byTag = recovery.filter((s) => JSON.stringify(s.Condition ?? {}).includes('aws:ResourceTag/bulkhead:env'));
    expect(byTag.map((s) => s.Sid).sort()).toEqual([
      'DeployKnownGoodRevisions',
      'LiftSessionDeny',
      'PassSiteRolesToEcs',
      'PutSiteAclsBackAcls',
      'PutSiteAclsBackSubnets',
      'PutSiteRulesBack',
      'ReadDeployedServices',
      'RemoveOwnProbeRules',
      'RetagServiceSecurityGroup',
      'RotateSitePasswords',
      'TakeContainedTargetsOut',
    ]);
    // Revisions: only of this environment's site families, carrying its tag, tagged only at registration.
    const register = recovery.find((s) => s.Sid === 'RegisterRevisions');
    expect(register?.Condition).toEqual({ StringEquals: { 'aws:RequestTag/bulkhead:env': 'example' } });
    const invoke = recovery.find((s) => s.Sid === 'ChangeDatabasePasswords');
    expect(invoke?.Resource).toBe('arn:aws:lambda:eu-west-1:111122223333:function:bulkhead-example-db-user');
    const pass = recovery.find((s) => s.Sid === 'PassSiteRolesToEcs');
    expect(pass?.Condition).toMatchObject({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });
});

describe('triggers', () => {
  it('a rule for GuardDuty ECS findings at or above the lowest site threshold', () => {
    const lowest = Math.min(...synth.fleet.sites.map((s) => s.response.severityThreshold));
    response.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Finding'],
        detail: { resource: { resourceType: ['ECSCluster'] }, severity: [{ numeric: ['>=', lowest] }] },
      },
    });
  });

  it('a rule for GuardDuty ECS attack sequences (resource type AttackSequence), to containment like the findings (issue 11 item 4)', () => {
    const rules = resourcesOfType(synth.json.get(StackName.response('example')) as never, 'AWS::Events::Rule');
    const pattern = (r: (typeof rules)[number]) => r[1].Properties?.EventPattern as Record<string, unknown>;
    const sequences = rules.filter(([id]) => id.startsWith('GuardDutyEcsAttackSequences'));
    const findings = rules.find(([id]) => id.startsWith('GuardDutyEcsFindings'));
    expect(sequences).toHaveLength(1);
    expect(pattern(sequences[0] as (typeof rules)[number])).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: { type: ['AttackSequence:ECS/CompromisedCluster'] },
    });
    expect(sequences[0]?.[1].Properties?.Targets).toEqual(findings?.[1].Properties?.Targets);

    // Routing, with EventBridge's matching rules (test/support/event-bridge.ts): an ECS attack
    // sequence is taken by this rule only; another type of sequence by no rule of containment.
    const sequence = (type: string) => ({
      source: 'aws.guardduty',
      'detail-type': 'GuardDuty Finding',
      detail: { type, severity: 9, resource: { resourceType: 'AttackSequence' } },
    });
    const takenBy = (event: Record<string, unknown>) =>
      [sequences[0], findings]
        .filter((r) => r && patternMatches(pattern(r), event))
        .map((r) => r?.[0].split(/[A-F0-9]{8}$/)[0]);
    expect(takenBy(sequence('AttackSequence:ECS/CompromisedCluster'))).toEqual(['GuardDutyEcsAttackSequences']);
    expect(takenBy(sequence('AttackSequence:IAM/CompromisedCredentials'))).toEqual([]);
  });

  it('containment may list the site records by their path and tell the operators, nothing more', () => {
    const contain = ofRole('ContainFunction');
    expect(contain.find((s) => s.Sid === 'ListSiteRecords')).toMatchObject({
      Action: 'ssm:GetParametersByPath',
      Resource: 'arn:aws:ssm:eu-west-1:111122223333:parameter/bulkhead/example/sites',
    });
    const publish = contain.find((s) => s.Sid === 'TellOperatorsUnresolved');
    expect(publish?.Action).toBe('sns:Publish');
    expect(publish?.Resource).toEqual({ Ref: expect.stringMatching(/^OpsTopic/) });
  });

  it('a rule for Bulkhead’s site alarms entering ALARM', () => {
    response.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: 'bulkhead.example.' }], state: { value: ['ALARM'] } },
      },
    });
  });

  it('each target retries, has a dead-letter queue, and the queue has an alarm', () => {
    const rules = resourcesOfType(synth.json.get(StackName.response('example')) as never, 'AWS::Events::Rule');
    // Findings, attack sequences, alarms, deployments (the ledger) and GuardDuty coverage changes.
    expect(rules).toHaveLength(5);
    for (const [, rule] of rules) {
      expect(rule.Properties?.Targets).toEqual([
        expect.objectContaining({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/TriggerDeadLetters/), 'Arn'] } },
        }),
      ]);
    }
    response.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'bulkhead-response-example-dead-letters',
      Dimensions: [{ Name: 'QueueName', Value: Match.anyValue() }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('OpsTopic') }],
    });
  });

  it('a containment that could not isolate runs again: Lambda retries its error twice, then dead-letters the event', () => {
    response.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^ContainFunction') },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 7200,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('TriggerDeadLetters'), 'Arn'] } },
      },
    });
  });

  // Issue 11 item 6: with environments `example` and `example-eu` in one account, the
  // rules must not take each other's events (a prefix `bulkhead-example-` did).
  it('the alarm and ledger rules take this environment’s names only, never those of an environment it is a prefix of', () => {
    const rules = resourcesOfType(synth.json.get(StackName.response('example')) as never, 'AWS::Events::Rule').map(
      ([, r]) => r.Properties?.EventPattern as Record<string, unknown>,
    );
    const of = (source: string) => rules.find((p) => JSON.stringify(p.source) === JSON.stringify([source]));
    const alarmFilter = (of('aws.cloudwatch')?.detail as { alarmName: { prefix: string }[] }).alarmName;
    expect(alarmFilter).toEqual([{ prefix: siteAlarmPrefix('example') }]);
    const [{ prefix }] = alarmFilter as [{ prefix: string }];
    for (const site of synth.fleet.sites) {
      expect(siteAlarmName('example', site.id, 'egress').startsWith(prefix)).toBe(true);
      expect(siteAlarmName('example-eu', site.id, 'egress').startsWith(prefix)).toBe(false);
      expect(siteAlarmName('example-eu', site.id, 'error-rate').startsWith(prefix)).toBe(false);
    }
    // Each cluster's exact name, then '/': not a prefix of any other cluster's services.
    expect((of('aws.ecs')?.resources as { prefix: unknown }[]).map((r) => r.prefix)).toEqual(
      synth.fleet.cells.map(
        (cell) => `arn:aws:ecs:eu-west-1:111122223333:service/${cellClusterName('example', cell.id)}/`,
      ),
    );
  });

  it('the containment function is told its scope by the stack, not by the event', () => {
    response.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          BULKHEAD_ENV: 'example',
          CLUSTER_ARNS:
            'arn:aws:ecs:eu-west-1:111122223333:cluster/bulkhead-example-blue,arn:aws:ecs:eu-west-1:111122223333:cluster/bulkhead-example-green',
          LOGS_ENDPOINT_SG_ID: Match.anyValue(),
          QUARANTINE_ACL_ID: Match.anyValue(),
        }),
      },
    });
  });
});

describe('containment at the scale of the fleet (issue 11 item 7)', () => {
  it('reserves concurrency for every site at once, sized from the fleet', () => {
    response.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Bulkhead containment'),
      ReservedConcurrentExecutions: 2 * synth.fleet.sites.length + 10,
    });
  });

  it('turns on Parameter Store’s higher throughput (default: 40 reads a second for the account), and may change nothing else', () => {
    const json = synth.json.get(StackName.response('example')) as never;
    const [[, setting]] = resourcesOfType(json, 'Custom::AWS') as unknown as [
      [string, { Properties: Record<string, unknown> }],
    ];
    const create = JSON.stringify(setting.Properties.Update ?? setting.Properties.Create);
    expect(create).toContain('updateServiceSetting');
    expect(create).toContain('/ssm/parameter-store/high-throughput-enabled');
    const granted = statements.filter((s) => actions(s).includes('ssm:UpdateServiceSetting'));
    expect(granted.map((g) => g.Resource)).toEqual([
      'arn:aws:ssm:eu-west-1:111122223333:servicesetting/ssm/parameter-store/high-throughput-enabled',
    ]);
    expect(actions(granted[0] as PolicyStatementJson)).toEqual(['ssm:UpdateServiceSetting']);
  });
});

describe('containment timing', () => {
  it('a lock is taken over only after its holder’s function has surely timed out, and the timeout covers persistence and tidy-up', () => {
    const [, fn] = resourcesOfType(
      synth.json.get(StackName.response('example')) as never,
      'AWS::Lambda::Function',
    ).find(([id]) => id.startsWith('ContainFunction')) as unknown as [string, { Properties: { Timeout: number } }];
    const timeoutMs = fn.Properties.Timeout * 1000;
    expect(TAKEOVER_AFTER_MS).toBeGreaterThan(timeoutMs);
    // Worst case: isolation persisting through throttling, the tidy-up delay (40 s), the tidy-up persisting.
    expect(timeoutMs).toBeGreaterThanOrEqual(2 * STEP_PERSISTENCE_MS + 40_000);
  });
});

describe('evidence', () => {
  it('goes to a versioned, Object Lock, KMS-encrypted bucket that is kept', () => {
    response.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
          ],
        },
      }),
    });
  });
});

describe('the ledger of images', () => {
  it('hears completed deployments of Bulkhead’s site services only', () => {
    response.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED'] },
        resources: [
          { prefix: 'arn:aws:ecs:eu-west-1:111122223333:service/bulkhead-example-blue/' },
          { prefix: 'arn:aws:ecs:eu-west-1:111122223333:service/bulkhead-example-green/' },
        ],
      },
    });
  });
});
