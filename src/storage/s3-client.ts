/**
 * S3 client settings and S3 error classification for `S3Store`: what the options mean, how
 * they become an SDK client (checksums, retries, timeouts), and which SDK errors mean
 * "missing", "precondition failed" or "try again".
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

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

/**
 * The SDK client for `options`. Retries (standard mode by default) cover 5xx, throttling and
 * connection resets on every request; checksums follow `options.checksums`.
 */
export function createS3Client(options: S3StoreOptions): S3Client {
  const checksums = options.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.endpoint && { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials && { credentials: options.credentials }),
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: options.retryMode ?? 'standard',
    // Without timeouts a stalled server hangs a run forever; requestTimeout is socket idle
    // time, so long transfers that keep moving are fine.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  });
}

/** Network errors that can hit while a response body streams, after the SDK has returned. */
export const TRANSIENT_BODY_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

/** HTTP status of an SDK error, if it got as far as a response. */
export function httpStatus(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

/** The SDK's error name (`NoSuchKey`, `SlowDown`…), or '' for non-errors. */
export function errName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** Whether an SDK error means "no such object" (GetObject's NoSuchKey, HEAD's bare 404). */
export function isNotFound(err: unknown): boolean {
  // A missing bucket is a configuration error, not a missing object.
  if (errName(err) === 'NoSuchBucket') return false;
  return errName(err) === 'NoSuchKey' || errName(err) === 'NotFound' || httpStatus(err) === 404;
}

/** Whether an SDK error means a failed `If-None-Match`/`If-Match` condition. */
export function isPreconditionFailed(err: unknown): boolean {
  return httpStatus(err) === 412 || errName(err) === 'PreconditionFailed';
}

/** S3 etags are quoted (`"abc"`); keep the bare value so etags compare equal everywhere. */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^(W\/)?"|"$/g, '');
}
