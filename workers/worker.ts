/**
 * Worker process entry point (what docker-compose and process managers start):
 * `node dist/workers/worker.js [--concurrency N]`. Same as `batchscore worker`.
 */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['worker', ...process.argv.slice(2)]);
