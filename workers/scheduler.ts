/**
 * Scheduler process entry point: `node dist/workers/scheduler.js jobs/<job>.json`.
 * Same as `batchscore scheduler`.
 */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['scheduler', ...process.argv.slice(2)]);
