import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  DeleteObjectCommandInput,
  DeleteObjectCommandOutput,
  GetObjectCommandInput,
  GetObjectRetentionCommandInput,
  GetObjectRetentionCommandOutput,
  HeadObjectCommandInput,
  HeadObjectCommandOutput,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { type Handler, type Out, ServiceModel } from './service-model';

interface ObjectVersion {
  VersionId: string;
  deleteMarker: boolean;
  body: Uint8Array;
  ContentType?: string;
  ETag: string;
  LastModified: number;
  Metadata?: Record<string, string>;
  ChecksumSHA256?: string;
  ObjectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  ObjectLockRetainUntilDate?: number;
  ObjectLockLegalHoldStatus?: 'ON' | 'OFF';
}

interface BucketRecord {
  Name: string;
  CreationDate: number;
  versioning?: 'Enabled' | 'Suspended';
  objectLock?: { mode?: 'GOVERNANCE' | 'COMPLIANCE'; days?: number };
  /** Versions per key, oldest first. */
  objects: Record<string, ObjectVersion[]>;
}

interface S3State {
  buckets: Record<string, BucketRecord>;
}

/** What GetObject's Body offers (the SDK's stream mixin). */
export interface ModelBody extends Readable {
  transformToString(encoding?: string): Promise<string>;
  transformToByteArray(): Promise<Uint8Array>;
  transformToWebStream(): ReadableStream;
}

function body(bytes: Uint8Array): ModelBody {
  const stream = Readable.from([Buffer.from(bytes)]) as ModelBody;
  stream.transformToString = async (encoding = 'utf-8') => Buffer.from(bytes).toString(encoding as BufferEncoding);
  stream.transformToByteArray = async () => new Uint8Array(bytes);
  stream.transformToWebStream = () => new Blob([Buffer.from(bytes)]).stream();
  return stream;
}

async function readBody(value: unknown): Promise<Uint8Array> {
  if (value === undefined || value === null) return new Uint8Array();
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'utf8'));
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof Blob !== 'undefined' && value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (value instanceof Readable || (typeof value === 'object' && Symbol.asyncIterator in value)) {
    const chunks: Buffer[] = [];
    for await (const chunk of value as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return new Uint8Array(Buffer.concat(chunks));
  }
  throw new Error('aws-model: unsupported S3 Body type');
}

/**
 * S3 objects in buckets with optional versioning and Object Lock. A version under
 * retention (or legal hold) cannot be deleted: DeleteObject with its VersionId answers
 * AccessDenied; DeleteObject without a VersionId on a versioned bucket only adds a delete
 * marker, as S3 does.
 */
export class S3Model extends ServiceModel<S3State> {
  readonly service = 'S3' as const;

  protected initialState(): S3State {
    return { buckets: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      PutObject: (i: PutObjectCommandInput & { Body: Uint8Array }) => this.putObject(i),
      GetObject: (i: GetObjectCommandInput) => this.getObject(i),
      HeadObject: (i: HeadObjectCommandInput) => this.headObject(i),
      ListObjectsV2: (i: ListObjectsV2CommandInput) => this.listObjectsV2(i),
      DeleteObject: (i: DeleteObjectCommandInput) => this.deleteObject(i),
      GetObjectRetention: (i: GetObjectRetentionCommandInput) => this.getObjectRetention(i),
    };
  }

  override async prepareInput(command: string, input: unknown): Promise<unknown> {
    if (command !== 'PutObject') return input;
    const i = input as PutObjectCommandInput;
    return { ...i, Body: await readBody(i.Body) };
  }

  override finalizeOutput(command: string, output: unknown): unknown {
    if (command !== 'GetObject') return output;
    const o = output as { Body: Uint8Array };
    return { ...o, Body: body(o.Body) };
  }

  /** Creates a bucket; Object Lock turns versioning on, as S3 requires. */
  createBucket(
    name: string,
    options: { versioning?: boolean; objectLock?: { mode?: 'GOVERNANCE' | 'COMPLIANCE'; days?: number } } = {},
  ): void {
    this.state.buckets[name] = {
      Name: name,
      CreationDate: this.now,
      versioning: options.versioning || options.objectLock ? 'Enabled' : undefined,
      objectLock: options.objectLock,
      objects: {},
    };
  }

  /** Every version of every key (for assertions), bodies as text. */
  dump(bucket: string): Array<{ key: string; versionId: string; deleteMarker: boolean; body: string }> {
    const b = this.bucket(bucket);
    return Object.entries(b.objects).flatMap(([key, versions]) =>
      versions.map((v) => ({
        key,
        versionId: v.VersionId,
        deleteMarker: v.deleteMarker,
        body: Buffer.from(v.body).toString('utf8'),
      })),
    );
  }

  private bucket(name: string | undefined): BucketRecord {
    const b = this.state.buckets[name ?? ''];
    if (!b)
      return this.fail('NoSuchBucket', 'The specified bucket does not exist', {
        status: 404,
        fields: { BucketName: name },
      });
    return b;
  }

  private latest(b: BucketRecord, key: string): ObjectVersion | undefined {
    const versions = b.objects[key];
    return versions?.[versions.length - 1];
  }

  private find(b: BucketRecord, key: string, versionId: string | undefined, head: boolean): ObjectVersion {
    const notFound = (): never =>
      head
        ? this.fail('NotFound', 'Not Found', { status: 404 })
        : this.fail('NoSuchKey', 'The specified key does not exist.', { status: 404, fields: { Key: key } });
    if (versionId !== undefined) {
      const v = b.objects[key]?.find((x) => x.VersionId === versionId);
      if (!v) {
        return head
          ? this.fail('NotFound', 'Not Found', { status: 404 })
          : this.fail('NoSuchVersion', 'The specified version does not exist.', {
              status: 404,
              fields: { Key: key, VersionId: versionId },
            });
      }
      if (v.deleteMarker)
        return this.fail('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
          status: 405,
        });
      return v;
    }
    const v = this.latest(b, key);
    if (!v || v.deleteMarker) return notFound();
    return v;
  }

  private putObject(input: PutObjectCommandInput & { Body: Uint8Array }): Out<PutObjectCommandOutput> {
    const b = this.bucket(input.Bucket);
    const key = input.Key ?? '';
    if (!key) this.fail('InvalidArgument', 'Object key must not be empty', { status: 400 });
    const bytes = input.Body;
    const sha256 = createHash('sha256').update(bytes).digest('base64');
    if (input.ChecksumSHA256 !== undefined && input.ChecksumSHA256 !== sha256) {
      this.fail('BadDigest', 'The SHA256 you specified did not match the calculated checksum.', { status: 400 });
    }
    const md5 = createHash('md5').update(bytes).digest();
    if (input.ContentMD5 !== undefined && input.ContentMD5 !== md5.toString('base64')) {
      this.fail('BadDigest', 'The Content-MD5 you specified did not match what we received.', { status: 400 });
    }
    if ((input.ObjectLockMode || input.ObjectLockRetainUntilDate || input.ObjectLockLegalHoldStatus) && !b.objectLock) {
      this.fail('InvalidRequest', 'Bucket is missing Object Lock Configuration', { status: 400 });
    }
    if (Boolean(input.ObjectLockMode) !== Boolean(input.ObjectLockRetainUntilDate)) {
      this.fail(
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
        { status: 400 },
      );
    }
    let mode = input.ObjectLockMode as ObjectVersion['ObjectLockMode'];
    let until = input.ObjectLockRetainUntilDate ? new Date(input.ObjectLockRetainUntilDate).getTime() : undefined;
    if (!mode && b.objectLock?.mode && b.objectLock.days) {
      mode = b.objectLock.mode;
      until = this.now + b.objectLock.days * 86_400_000;
    }
    // PutObject API reference (ContentMD5, ChecksumAlgorithm): "The Content-MD5 or
    // x-amz-sdk-checksum-algorithm header is required for any request to upload an object
    // with a retention period configured using Amazon S3 Object Lock." A bucket's default
    // retention is such a period (PutObjectLockConfiguration: "The rule specified in the
    // Object Lock configuration will be applied by default to every new object placed in
    // the specified bucket"). A checksum value alone (x-amz-checksum-sha256) is not the
    // header the reference names. The message is the one S3 answers with.
    if (mode && input.ContentMD5 === undefined && input.ChecksumAlgorithm === undefined) {
      this.fail(
        'InvalidRequest',
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
        { status: 400 },
      );
    }
    // ChecksumAlgorithm: "If the individual checksum value you provide through
    // x-amz-checksum-algorithm doesn't match the checksum algorithm you set through
    // x-amz-sdk-checksum-algorithm, Amazon S3 fails the request with a BadDigest error."
    if (
      input.ChecksumAlgorithm !== undefined &&
      input.ChecksumSHA256 !== undefined &&
      input.ChecksumAlgorithm !== 'SHA256'
    ) {
      this.fail('BadDigest', `The ${input.ChecksumAlgorithm} you specified did not match the calculated checksum.`, {
        status: 400,
      });
    }
    const versioned = b.versioning === 'Enabled';
    const version: ObjectVersion = {
      VersionId: versioned
        ? this.model.ids.pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._', 32)
        : 'null',
      deleteMarker: false,
      body: bytes,
      ContentType: input.ContentType ?? 'application/octet-stream',
      ETag: `"${md5.toString('hex')}"`,
      LastModified: this.now - (this.now % 1000),
      Metadata: input.Metadata,
      ChecksumSHA256: input.ChecksumSHA256 !== undefined || input.ChecksumAlgorithm === 'SHA256' ? sha256 : undefined,
      ObjectLockMode: mode,
      ObjectLockRetainUntilDate: until,
      ObjectLockLegalHoldStatus: input.ObjectLockLegalHoldStatus as ObjectVersion['ObjectLockLegalHoldStatus'],
    };
    const versions = b.objects[key] ?? [];
    b.objects[key] = versioned ? [...versions, version] : [...versions.filter((v) => v.VersionId !== 'null'), version];
    return {
      ETag: version.ETag,
      VersionId: versioned ? version.VersionId : undefined,
      ChecksumSHA256: version.ChecksumSHA256,
      ServerSideEncryption: 'AES256',
    };
  }

  private meta(v: ObjectVersion, versioned: boolean) {
    return {
      ContentLength: v.body.length,
      ContentType: v.ContentType,
      ETag: v.ETag,
      LastModified: new Date(v.LastModified),
      VersionId: versioned ? v.VersionId : undefined,
      Metadata: v.Metadata ?? {},
      ServerSideEncryption: 'AES256' as const,
      ObjectLockMode: v.ObjectLockMode,
      ObjectLockRetainUntilDate:
        v.ObjectLockRetainUntilDate !== undefined ? new Date(v.ObjectLockRetainUntilDate) : undefined,
      ObjectLockLegalHoldStatus: v.ObjectLockLegalHoldStatus,
    };
  }

  private getObject(input: GetObjectCommandInput) {
    const b = this.bucket(input.Bucket);
    const v = this.find(b, input.Key ?? '', input.VersionId, false);
    return {
      ...this.meta(v, b.versioning !== undefined),
      ChecksumSHA256: input.ChecksumMode === 'ENABLED' ? v.ChecksumSHA256 : undefined,
      Body: v.body,
    };
  }

  private headObject(input: HeadObjectCommandInput): Out<HeadObjectCommandOutput> {
    const b = this.bucket(input.Bucket);
    const v = this.find(b, input.Key ?? '', input.VersionId, true);
    return {
      ...this.meta(v, b.versioning !== undefined),
      ChecksumSHA256: input.ChecksumMode === 'ENABLED' ? v.ChecksumSHA256 : undefined,
    };
  }

  private listObjectsV2(input: ListObjectsV2CommandInput): Out<ListObjectsV2CommandOutput> {
    const b = this.bucket(input.Bucket);
    const prefix = input.Prefix ?? '';
    const maxKeys = input.MaxKeys ?? 1000;
    let start = input.StartAfter ?? '';
    if (input.ContinuationToken) start = Buffer.from(input.ContinuationToken, 'base64').toString('utf8');
    const keys = Object.keys(b.objects)
      .filter((k) => {
        const v = this.latest(b, k);
        return v && !v.deleteMarker && k.startsWith(prefix) && k > start;
      })
      .sort((a, c) => Buffer.compare(Buffer.from(a), Buffer.from(c)));
    const contents: NonNullable<ListObjectsV2CommandOutput['Contents']> = [];
    const prefixes: string[] = [];
    let last = '';
    let truncated = false;
    for (const key of keys) {
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (input.Delimiter) {
        const rest = key.slice(prefix.length);
        const at = rest.indexOf(input.Delimiter);
        if (at >= 0) {
          const common = prefix + rest.slice(0, at + input.Delimiter.length);
          if (!prefixes.includes(common)) prefixes.push(common);
          last = key;
          continue;
        }
      }
      const v = this.latest(b, key) as ObjectVersion;
      contents.push({
        Key: key,
        LastModified: new Date(v.LastModified),
        ETag: v.ETag,
        Size: v.body.length,
        StorageClass: 'STANDARD',
      });
      last = key;
    }
    return {
      Name: b.Name,
      Prefix: input.Prefix,
      Delimiter: input.Delimiter,
      MaxKeys: maxKeys,
      KeyCount: contents.length + prefixes.length,
      IsTruncated: truncated,
      Contents: contents.length ? contents : undefined,
      CommonPrefixes: prefixes.length ? prefixes.map((p) => ({ Prefix: p })) : undefined,
      ContinuationToken: input.ContinuationToken,
      NextContinuationToken: truncated ? Buffer.from(last).toString('base64') : undefined,
      StartAfter: input.StartAfter,
    };
  }

  private deleteObject(input: DeleteObjectCommandInput): Out<DeleteObjectCommandOutput> {
    const b = this.bucket(input.Bucket);
    const key = input.Key ?? '';
    const versions = b.objects[key] ?? [];
    if (input.VersionId === undefined) {
      if (b.versioning === 'Enabled') {
        const marker: ObjectVersion = {
          VersionId: this.model.ids.pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._', 32),
          deleteMarker: true,
          body: new Uint8Array(),
          ETag: '',
          LastModified: this.now - (this.now % 1000),
        };
        b.objects[key] = [...versions, marker];
        return { DeleteMarker: true, VersionId: marker.VersionId };
      }
      delete b.objects[key];
      return {};
    }
    const version = versions.find((v) => v.VersionId === input.VersionId);
    if (!version) return {};
    const retained =
      version.ObjectLockRetainUntilDate !== undefined &&
      version.ObjectLockRetainUntilDate > this.now &&
      (version.ObjectLockMode === 'COMPLIANCE' || !input.BypassGovernanceRetention);
    if (retained || version.ObjectLockLegalHoldStatus === 'ON') {
      this.fail('AccessDenied', 'Access Denied', { status: 403 });
    }
    b.objects[key] = versions.filter((v) => v !== version);
    if (!b.objects[key]?.length) delete b.objects[key];
    return { DeleteMarker: version.deleteMarker || undefined, VersionId: version.VersionId };
  }

  private getObjectRetention(input: GetObjectRetentionCommandInput): Out<GetObjectRetentionCommandOutput> {
    const b = this.bucket(input.Bucket);
    const v = this.find(b, input.Key ?? '', input.VersionId, false);
    if (!v.ObjectLockMode) {
      this.fail('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration', {
        status: 404,
      });
    }
    return {
      Retention: {
        Mode: v.ObjectLockMode,
        RetainUntilDate: v.ObjectLockRetainUntilDate !== undefined ? new Date(v.ObjectLockRetainUntilDate) : undefined,
      },
    };
  }
}
