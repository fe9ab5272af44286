import type * as arrow from 'apache-arrow';
import { ParquetStreamWriter, type StreamWriterOptions } from '../../src/parquet/parquet-writer.js';

/** The bytes of `parts` written by one ParquetStreamWriter (in memory), as a whole file. */
export async function streamed(parts: readonly arrow.Table[], options: Partial<StreamWriterOptions> = {}): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const writer = new ParquetStreamWriter({ write: (c) => void chunks.push(c.slice()) }, { uri: 'mem://t', ...options });
  for (const t of parts) await writer.write(t);
  await writer.finish();
  return Buffer.concat(chunks);
}
