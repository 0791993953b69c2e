/** The AWS services the model answers for, named as tests and fault rules name them. */
export const SERVICE_NAMES = [
  'EC2',
  'ECS',
  'ELBv2',
  'IAM',
  'SecretsManager',
  'S3',
  'SNS',
  'SFN',
  'DynamoDB',
  'CloudWatch',
  'CloudWatchLogs',
  'Backup',
  'Lambda',
  'SSM',
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Whether a command changes state or has an effect outside the caller (publishing,
 * starting an execution, recording a metric). AWS read APIs are consistently named
 * Describe*, Get*, List*, Head*, Query, Scan, Filter*, BatchGet* and TransactGet*;
 * everything else mutates.
 */
export function isMutating(command: string): boolean {
  return !/^(Describe|Get|List|Head|Query$|Scan$|Filter|BatchGet|TransactGet)/.test(command);
}
