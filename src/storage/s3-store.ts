/**
 * The S3 object store (AWS S3 and S3-compatible servers) for one bucket. Keys are the object
 * keys inside the bucket, without a leading slash.
 *
 * Small bodies go up with one buffered PutObject (so the SDK can retry them); large ones with
 * lib-storage's multipart `Upload`, whose parts are buffered and retried one by one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  NotFoundError,
  PreconditionFailedError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './object-store.js';

const MiB = 1024 * 1024;

/** Settings of an `S3Store`. Secrets never go here: credentials come from the SDK's chain. */
export interface S3StoreOptions {
  /** Bucket name. */
  bucket: string;
  /** Custom endpoint URL (S3-compatible servers); default: AWS's regional endpoint. */
  endpoint?: string;
  /** Region; default `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1`. */
  region?: string;
  /** Path-style addressing (`host/bucket/key`), needed by most S3 clones; default false. */
  forcePathStyle?: boolean;
  /** Explicit credentials, for tests against local servers only; default: SDK provider chain. */
  credentials?: S3ClientConfig['credentials'];
  /**
   * When the SDK computes request checksums and validates response ones; default
   * `when_supported` (the SDK default). Use `when_required` for servers that store
   * aws-chunked uploads verbatim (s3rver).
   */
  checksums?: 'when_required' | 'when_supported';
  /**
   * Whether the server enforces `If-None-Match`/`If-Match` on writes; default true (AWS S3
   * does since 2024). When false the store checks with a HEAD first, which is racy, and
   * reports `conditionalWrites = false` so callers know.
   */
  conditionalWrites?: boolean;
  /** Bodies larger than this use multipart upload; default 16 MiB. */
  multipartThresholdBytes?: number;
  /** Multipart part size; default 8 MiB, minimum 5 MiB (an S3 limit). */
  partSizeBytes?: number;
  /** Parts uploaded concurrently by one multipart upload; default 4. */
  multipartConcurrency?: number;
  /** Server-side encryption applied to every write (put, putFile, copy, multipart). */
  serverSideEncryption?: 'AES256' | 'aws:kms';
  /** KMS key for `serverSideEncryption: 'aws:kms'`; default: the bucket's/account's key. */
  sseKmsKeyId?: string;
  /** Attempts per request, including the first (retries 5xx, throttling, resets); default 5. */
  maxAttempts?: number;
  /** SDK retry mode; default `standard`. */
  retryMode?: 'standard' | 'adaptive';
  /** ListObjectsV2 page size (MaxKeys); default 1000, the S3 maximum. Small values test paging. */
  listPageSize?: number;
}

/** Network errors that can hit while a response body streams, after the SDK has returned. */
const TRANSIENT_BODY_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

function httpStatus(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

function errName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

function isNotFound(err: unknown): boolean {
  // A missing bucket is a configuration error, not a missing object.
  if (errName(err) === 'NoSuchBucket') return false;
  return errName(err) === 'NoSuchKey' || errName(err) === 'NotFound' || httpStatus(err) === 404;
}

/** S3 etags are quoted (`"abc"`); keep the bare value so etags compare equal everywhere. */
function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^(W\/)?"|"$/g, '');
}

/** `ObjectStore` over one S3 bucket. Call `close()` to release its sockets. */
export class S3Store implements ObjectStore {
  readonly root: string;
  readonly conditionalWrites: boolean;
  readonly bucket: string;
  /** The underlying client, for operations this interface does not cover (e.g. presigning). */
  readonly client: S3Client;
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly pageSize: number;
  private readonly sse: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;

  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new Error('storage: S3Store needs a bucket name');
    this.bucket = options.bucket;
    this.root = `s3://${options.bucket}`;
    this.conditionalWrites = options.conditionalWrites ?? true;
    this.threshold = options.multipartThresholdBytes ?? 16 * MiB;
    this.partSize = options.partSizeBytes ?? 8 * MiB;
    if (this.partSize < 5 * MiB) {
      throw new Error(`storage: partSizeBytes must be at least 5 MiB for ${this.root}, got ${this.partSize}`);
    }
    this.concurrency = options.multipartConcurrency ?? 4;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.pageSize = options.listPageSize ?? 1000;
    if (options.sseKmsKeyId && options.serverSideEncryption !== 'aws:kms') {
      throw new Error(`storage: sseKmsKeyId needs serverSideEncryption 'aws:kms' for ${this.root}`);
    }
    this.sse = {
      ...(options.serverSideEncryption && { ServerSideEncryption: options.serverSideEncryption }),
      ...(options.sseKmsKeyId && { SSEKMSKeyId: options.sseKmsKeyId }),
    };
    const checksums = options.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
    this.client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(options.endpoint && { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials && { credentials: options.credentials }),
      requestChecksumCalculation: checksums,
      responseChecksumValidation: checksums,
      maxAttempts: this.maxAttempts,
      retryMode: options.retryMode ?? 'standard',
      // Without timeouts a stalled server hangs a run forever; requestTimeout is socket idle
      // time, so long transfers that keep moving are fine.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    });
  }

  uri(key: string): string {
    return `${this.root}/${key}`;
  }

  /** Release the client's sockets; the store is unusable afterwards. */
  close(): void {
    this.client.destroy();
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    let previous: Buffer | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: this.pageSize,
            ...(token && { ContinuationToken: token }),
          }),
        ),
      );
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined) continue;
        // S3 lists in UTF-8 byte order and pages by "keys after the last one". A server that
        // sorts otherwise (s3rver walks its directories: `a/x` before `a-b`) silently drops
        // keys across pages; fail loudly where the disorder is visible.
        const current = Buffer.from(obj.Key, 'utf8');
        if (previous && Buffer.compare(previous, current) >= 0) {
          throw new Error(
            `storage: list ${this.uri(prefix)} failed: the server returned "${obj.Key}" after ` +
              `"${previous.toString('utf8')}", not in S3 key order, so paginated listings may miss objects`,
          );
        }
        previous = current;
        yield { key: obj.Key, size: obj.Size ?? 0, etag: bareEtag(obj.ETag), mtime: obj.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: res.ContentLength ?? 0, etag: bareEtag(res.ETag), mtime: res.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.wrap('head', key, err);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return this.download('get', key, undefined, (body) => body.transformToByteArray());
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new Error(`storage: invalid byte range [${start}, ${end}) for ${this.uri(key)}`);
    }
    if (start === end) {
      // No HTTP range can express zero bytes; still fail for a missing object, as reads do.
      if (!(await this.head(key))) throw new NotFoundError(this.uri(key));
      return new Uint8Array(0);
    }
    try {
      // Always an explicit first-last range: suffix ranges (`bytes=-N`) are answered
      // wrongly by some S3 clones (s3rver).
      return await this.download('getRange', key, `bytes=${start}-${end - 1}`, async (body, contentRange) => {
        const bytes = await body.transformToByteArray();
        const wanted = end - start;
        if (bytes.byteLength <= wanted) return bytes;
        // More than asked for: HTTP lets a server ignore Range (200, whole object), and
        // s3rver answers `bytes=0-0` with the whole object. Cut our range out of it.
        const bodyStart = Number(/^bytes (\d+)-/.exec(contentRange ?? '')?.[1] ?? 0);
        if (bodyStart > start) {
          throw new Error(`storage: getRange ${this.uri(key)}: server sent ${contentRange} for bytes=${start}-${end - 1}`);
        }
        return bytes.subarray(start - bodyStart, start - bodyStart + wanted);
      });
    } catch (err) {
      // 416: the range starts at or past the end of the object; a short read, like a file.
      if (httpStatus((err as Error).cause) === 416) return new Uint8Array(0);
      throw err;
    }
  }

  async getFile(key: string, localPath: string): Promise<void> {
    const target = resolve(localPath);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.batchscore-tmp-${randomBytes(8).toString('hex')}`);
    try {
      await this.download('getFile', key, undefined, (body) =>
        pipeline(body as unknown as Readable, createWriteStream(tmp)),
      );
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return this.upload(key, bytes, bytes.byteLength, options);
  }

  async putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }> {
    let size: number;
    try {
      size = (await stat(localPath)).size;
    } catch (err) {
      throw new Error(`storage: cannot upload "${localPath}" to ${this.uri(key)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // Below the threshold a buffer is cheap and lets the SDK retry; above it, stream and let
    // lib-storage buffer one part at a time.
    const body = size > this.threshold ? createReadStream(localPath) : await readFile(localPath);
    return this.upload(key, body, size, options);
  }

  async copy(fromKey: string, toKey: string): Promise<{ etag: string }> {
    // `=` stays literal (valid in a URI path): s3rver does not decode `%3D` in CopySource,
    // and Hive partition folders (`dt=2026-11-01`) are full of them.
    const source = `${encodeURIComponent(this.bucket)}/${fromKey.split('/').map((s) => encodeURIComponent(s).replace(/%3D/g, '=')).join('/')}`;
    try {
      const res = await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: source, ...this.sse }),
      );
      return { etag: bareEtag(res.CopyObjectResult?.ETag) };
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(this.uri(fromKey));
      throw this.wrap(`copy from ${this.uri(fromKey)} to`, toKey, err);
    }
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** PutObject at or below the threshold, multipart above; SSE and conditions on both. */
  private async upload(
    key: string,
    body: Uint8Array | Readable,
    size: number,
    options: PutOptions | undefined,
  ): Promise<{ etag: string }> {
    const conditions = await this.conditions(key, options);
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentLength: size,
      ...(options?.contentType && { ContentType: options.contentType }),
      ...this.sse,
      ...conditions,
    };
    try {
      if (size <= this.threshold) {
        const res = await this.client.send(new PutObjectCommand(params));
        return { etag: bareEtag(res.ETag) };
      }
      // lib-storage passes these params to CreateMultipartUpload (SSE, content type) and
      // CompleteMultipartUpload (If-None-Match / If-Match), and aborts the upload on failure.
      const upload = new Upload({ client: this.client, params, partSize: this.partSize, queueSize: this.concurrency });
      const res = await upload.done();
      return { etag: bareEtag(res.ETag) };
    } catch (err) {
      if (httpStatus(err) === 412 || errName(err) === 'PreconditionFailed') {
        const detail = options?.ifNoneMatch ? 'an object already exists' : `etag is not ${options?.ifMatch}`;
        throw new PreconditionFailedError(this.uri(key), detail);
      }
      throw this.wrap('put', key, err);
    }
  }

  /** Request headers for the conditions, or a racy HEAD check where the server ignores them. */
  private async conditions(key: string, options: PutOptions | undefined): Promise<Partial<PutObjectCommandInput>> {
    if (!options?.ifNoneMatch && options?.ifMatch === undefined) return {};
    if (this.conditionalWrites) {
      return {
        ...(options.ifNoneMatch && { IfNoneMatch: '*' }),
        ...(options.ifMatch !== undefined && { IfMatch: `"${bareEtag(options.ifMatch)}"` }),
      };
    }
    const current = await this.head(key);
    if (options.ifNoneMatch && current) {
      throw new PreconditionFailedError(this.uri(key), 'an object already exists');
    }
    if (options.ifMatch !== undefined && current?.etag !== bareEtag(options.ifMatch)) {
      const found = current ? `etag is ${current.etag}` : 'object does not exist';
      throw new PreconditionFailedError(this.uri(key), `expected etag ${options.ifMatch}, ${found}`);
    }
    return {};
  }

  /**
   * GetObject and consume its body. The SDK retries the request, but not a body that breaks
   * while streaming, so those failures restart the whole read here.
   */
  private async download<T>(
    op: string,
    key: string,
    range: string | undefined,
    consume: (body: NonNullable<GetObjectCommandOutput['Body']>, contentRange: string | undefined) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.call(op, key, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range && { Range: range }) })),
      );
      if (!res.Body) throw new Error(`storage: ${op} ${this.uri(key)} failed: response has no body`);
      try {
        // Errors thrown by `consume` itself (already `storage:` errors) are not retried.
        return await consume(res.Body, res.ContentRange);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (attempt >= this.maxAttempts || !TRANSIENT_BODY_ERRORS.has(code)) throw this.wrap(op, key, err);
        await sleep(Math.min(2000, 100 * 2 ** attempt) * Math.random());
      }
    }
  }

  /** Send one request, mapping errors to the store's error types. */
  private async call<T>(op: string, key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (op !== 'list' && op !== 'delete' && isNotFound(err)) throw new NotFoundError(this.uri(key));
      throw this.wrap(op, key, err);
    }
  }

  private wrap(op: string, key: string, err: unknown): Error {
    if (err instanceof Error && err.message.startsWith('storage:')) return err;
    const status = httpStatus(err);
    const detail = `${errName(err) || 'Error'}${status ? ` (HTTP ${status})` : ''}: ${(err as Error)?.message ?? err}`;
    return new Error(`storage: ${op} ${this.uri(key)} failed: ${detail}`, { cause: err });
  }
}
