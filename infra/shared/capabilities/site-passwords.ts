import { ArnFormat, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { databaseUserFunctionName, siteSecretNamePrefix } from '../../../contracts/names';
import { Component, TAG_COMPONENT, TAG_ENV } from '../../../contracts/tag-names';
import { stackArn } from '../iam-statements';

/**
 * Rotate a site's database password (release and restore, and the console's
 * rotate-credentials): the site's secret (by name and by tag), a random password
 * (`secretsmanager:GetRandomPassword` supports no resource-level permissions), and the
 * database-user function that runs ALTER USER.
 */
export function rotateSitePasswordStatements(stack: Stack, environment: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'RotateSitePasswords',
      actions: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [
        stackArn(
          stack,
          'secretsmanager',
          'secret',
          `${siteSecretNamePrefix(environment)}*`,
          ArnFormat.COLON_RESOURCE_NAME,
        ),
      ],
      conditions: {
        StringEquals: {
          [`aws:ResourceTag/${TAG_ENV}`]: environment,
          [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.secret,
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'RandomPasswords',
      actions: ['secretsmanager:GetRandomPassword'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ChangeDatabasePasswords',
      actions: ['lambda:InvokeFunction'],
      resources: [
        stackArn(stack, 'lambda', 'function', databaseUserFunctionName(environment), ArnFormat.COLON_RESOURCE_NAME),
      ],
    }),
  ];
}
