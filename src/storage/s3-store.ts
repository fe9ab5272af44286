/**
 * The S3 object store (AWS S3 and S3-compatible servers) for one bucket. Keys are the object
 * keys inside the bucket, without a leading slash.
 *
 * Small bodies go up with one buffered PutObject (so the SDK can retry them); large ones with
 * lib-storage's multipart `Upload`, whose parts are buffered and retried one by one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
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
  type GetObjectCommandOutput,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  NotFoundError,
  PreconditionFailedError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './object-store.js';
import {
  bareEtag,
  createS3Client,
  errName,
  httpStatus,
  isNotFound,
  isPreconditionFailed,
  TRANSIENT_BODY_ERRORS,
  type S3StoreOptions,
} from './s3-client.js';

import { tempFileName } from './temp-files.js';

export type { S3StoreOptions };

const MiB = 1024 * 1024;

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
    this.client = createS3Client(options);
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
    // Download beside the target, then rename: a reader never sees a partial file, and a
    // FileStore listing of that directory skips the temporary name.
    const tmp = join(dirname(target), tempFileName());
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

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith('/')) throw new Error(`storage: deletePrefix needs a folder prefix ending in "/", got "${this.uri(prefix)}"`);
    const keys: string[] = [];
    for await (const obj of this.list(prefix)) keys.push(obj.key);
    // A few deletes in flight at once: plain DeleteObject works on every S3 clone.
    for (let i = 0; i < keys.length; i += 8) await Promise.all(keys.slice(i, i + 8).map((k) => this.delete(k)));
    return keys.length;
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
      if (isPreconditionFailed(err)) {
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
