/** Thread entry for `inspect`: isolates parquet-wasm panics on corrupt footers. */
import { serveThread } from '../run/serve-thread.js';
import { inspectFile } from './inspect-command.js';

serveThread(inspectFile);
