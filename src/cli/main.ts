import { demoCommand, DEMO_HELP } from './demo-command.js';
import { inspectCommand, INSPECT_HELP } from './inspect-command.js';
import { runCommand, RUN_HELP } from './run-command.js';
import { verifyCommand, VERIFY_HELP } from './verify-command.js';
import { modelsCommand, MODELS_HELP } from './models-command.js';
import { BACKFILL_HELP, backfillCommand, SCHEDULER_HELP, schedulerCommand, STATUS_HELP, statusCommand, WORKER_HELP, workerCommand } from './queue-commands.js';
import { EXIT, UsageError } from './usage-error.js';

const HELP = `Usage: batchscore <command> [options]

Commands:
  demo       generate a sample dataset and models, and score it (no Redis, no S3)
  run        score a job spec's partitions on this machine
  inspect    print a Parquet file's schema, row groups and row count
  verify     re-check a finished run: output hashes, row counts, re-scored sample
  models     model registry: register, list, promote, rollback

Distributed mode (BullMQ on Redis: REDIS_URL):
  worker     process scoring jobs from the queue (start any number)
  scheduler  submit a job's runs on its cron schedule, catching up missed ones
  backfill   enqueue a run over a date range or partitions
  status     progress and outcome of a run

Run 'batchscore <command> --help' for a command's options.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  demo: { run: demoCommand, help: DEMO_HELP },
  run: { run: runCommand, help: RUN_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  verify: { run: verifyCommand, help: VERIFY_HELP },
  models: { run: modelsCommand, help: MODELS_HELP },
  worker: { run: workerCommand, help: WORKER_HELP },
  scheduler: { run: schedulerCommand, help: SCHEDULER_HELP },
  backfill: { run: backfillCommand, help: BACKFILL_HELP },
  status: { run: statusCommand, help: STATUS_HELP },
};

/** CLI entry: runs a command and returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`error: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${e.message}\n\n${command.help}`);
      return EXIT.usage;
    }
    console.error(`error: ${e.message}`);
    return EXIT.failed;
  }
}
