import type {
  BackupJobState,
  DescribeBackupJobCommandInput,
  DescribeBackupJobCommandOutput,
  StartBackupJobCommandInput,
  StartBackupJobCommandOutput,
} from '@aws-sdk/client-backup';
import { type Handler, type Out, ServiceModel } from './service-model';

interface BackupJobRecord {
  BackupJobId: string;
  BackupVaultName: string;
  BackupVaultArn: string;
  RecoveryPointArn: string;
  ResourceArn: string;
  ResourceType: string;
  IamRoleArn: string;
  IdempotencyToken?: string;
  CreationDate: number;
  RecoveryPointTags?: Record<string, string>;
  /** Set by a test to fail the job. */
  failure?: string;
}

interface BackupState {
  vaults: Record<string, { BackupVaultName: string; BackupVaultArn: string }>;
  jobs: Record<string, BackupJobRecord>;
}

const RESOURCE_TYPES: Record<string, string> = {
  elasticfilesystem: 'EFS',
  dynamodb: 'DynamoDB',
  rds: 'RDS',
  s3: 'S3',
  ec2: 'EC2',
};

/**
 * AWS Backup on-demand jobs. A job is CREATED, RUNNING after `startDelayMs` and COMPLETED
 * after `durationMs` of virtual time (or FAILED when a test says so). The same
 * IdempotencyToken returns the same job, as documented.
 */
export class BackupModel extends ServiceModel<BackupState> {
  readonly service = 'Backup' as const;
  startDelayMs = 60_000;
  durationMs = 300_000;

  protected initialState(): BackupState {
    return { vaults: {}, jobs: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      StartBackupJob: (i: StartBackupJobCommandInput) => this.startBackupJob(i),
      DescribeBackupJob: (i: DescribeBackupJobCommandInput) => this.describeBackupJob(i),
    };
  }

  createVault(name: string): string {
    const arn = this.arn('backup', `backup-vault:${name}`);
    this.state.vaults[name] = { BackupVaultName: name, BackupVaultArn: arn };
    return arn;
  }

  /** Jobs started (for assertions). */
  jobs(): BackupJobRecord[] {
    return Object.values(this.state.jobs).map((j) => structuredClone(j));
  }

  failJob(jobId: string, message: string): void {
    const job = this.state.jobs[jobId];
    if (job) job.failure = message;
  }

  private startBackupJob(input: StartBackupJobCommandInput): Out<StartBackupJobCommandOutput> {
    const vault = this.state.vaults[input.BackupVaultName ?? ''];
    if (!vault) return this.fail('ResourceNotFoundException', `Backup vault ${input.BackupVaultName} does not exist.`);
    if (!input.IamRoleArn) this.fail('MissingParameterValueException', 'IamRoleArn is required.');
    const service = /^arn:aws[a-z-]*:([a-z0-9-]+):/.exec(input.ResourceArn ?? '')?.[1];
    const resourceType = service ? RESOURCE_TYPES[service] : undefined;
    if (!resourceType) this.fail('InvalidParameterValueException', `Invalid ARN: ${input.ResourceArn}`);
    if (input.IdempotencyToken) {
      const same = Object.values(this.state.jobs).find((j) => j.IdempotencyToken === input.IdempotencyToken);
      if (same)
        return {
          BackupJobId: same.BackupJobId,
          RecoveryPointArn: same.RecoveryPointArn,
          CreationDate: new Date(same.CreationDate),
          IsParent: false,
        };
    }
    const id = this.model.ids.uuid().toUpperCase();
    const job: BackupJobRecord = {
      BackupJobId: id,
      BackupVaultName: vault.BackupVaultName,
      BackupVaultArn: vault.BackupVaultArn,
      RecoveryPointArn: this.arn('backup', `recovery-point:${this.model.ids.uuid()}`),
      ResourceArn: input.ResourceArn ?? '',
      ResourceType: resourceType,
      IamRoleArn: input.IamRoleArn,
      IdempotencyToken: input.IdempotencyToken,
      CreationDate: this.now,
      RecoveryPointTags: input.RecoveryPointTags,
    };
    this.state.jobs[id] = job;
    return {
      BackupJobId: id,
      RecoveryPointArn: job.RecoveryPointArn,
      CreationDate: new Date(job.CreationDate),
      IsParent: false,
    };
  }

  private describeBackupJob(input: DescribeBackupJobCommandInput): Out<DescribeBackupJobCommandOutput> {
    const job = this.state.jobs[input.BackupJobId ?? ''];
    if (!job) return this.fail('ResourceNotFoundException', `Backup job ${input.BackupJobId} not found.`);
    const elapsed = this.now - job.CreationDate;
    let state: BackupJobState = 'CREATED';
    if (elapsed >= this.startDelayMs) state = 'RUNNING';
    if (elapsed >= this.startDelayMs + this.durationMs) state = job.failure ? 'FAILED' : 'COMPLETED';
    const done = state === 'COMPLETED' || state === 'FAILED';
    return {
      AccountId: this.accountId,
      BackupJobId: job.BackupJobId,
      BackupVaultName: job.BackupVaultName,
      BackupVaultArn: job.BackupVaultArn,
      RecoveryPointArn: job.RecoveryPointArn,
      ResourceArn: job.ResourceArn,
      ResourceType: job.ResourceType,
      IamRoleArn: job.IamRoleArn,
      CreationDate: new Date(job.CreationDate),
      CompletionDate: done ? new Date(job.CreationDate + this.startDelayMs + this.durationMs) : undefined,
      State: state,
      StatusMessage: state === 'FAILED' ? job.failure : undefined,
      PercentDone:
        state === 'RUNNING'
          ? String(Math.floor(((elapsed - this.startDelayMs) / this.durationMs) * 100))
          : done
            ? '100.0'
            : '0.0',
      BackupSizeInBytes: done ? 1_048_576 : undefined,
      IsParent: false,
    };
  }
}
