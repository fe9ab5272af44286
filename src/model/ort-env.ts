/**
 * ONNX Runtime's telemetry, off unless the user turns it on.
 *
 * onnxruntime-node 1.30 on Linux records telemetry events (a persistent device id, the OS,
 * the host program, library and execution-provider details) in a SQLite database under
 * `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`, and uploads them over HTTPS when it can.
 * A batch-scoring tool that runs over other people's data must not report on them by
 * default: importing this module sets `ORT_DISABLE_TELEMETRY=1` in the process environment
 * unless that variable is already set (`ORT_DISABLE_TELEMETRY=0` keeps telemetry on).
 * It also saves the database's writes and fsyncs at every session start and process exit.
 *
 * ONNX Runtime reads the variable with getenv when it starts, in whichever thread loads it
 * first, so this runs on the main thread before any scoring thread starts (scoring-pool.ts
 * imports it) and before any module that loads ONNX Runtime (they import this first).
 * Worker threads cannot change the process environment (their `process.env` is a copy).
 */
import { isMainThread } from 'node:worker_threads';

/** The variable ONNX Runtime reads. */
export const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

if (isMainThread && process.env[ORT_TELEMETRY_VARIABLE] === undefined) process.env[ORT_TELEMETRY_VARIABLE] = '1';
