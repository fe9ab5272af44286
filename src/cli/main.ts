import { EXIT, UsageError } from './usage-error.js';

const HELP = `Usage: batchscore <command> [options]

Commands:
  demo       generate a sample dataset and models, and score it (no Redis, no S3)
  run        score a job spec's partitions on this machine
  inspect    print a Parquet file's schema, row groups and row count
  verify     re-check a finished run: output hashes, row counts, re-scored sample
  models     model registry: register, list, promote, rollback
  profile    compute a reference profile of a dataset (for drift monitoring)
  evaluate   join late ground-truth labels with a run's predictions: AUC, log loss, ...

Distributed mode (BullMQ on Redis: REDIS_URL):
  worker     process scoring jobs from the queue (start any number)
  scheduler  submit a job's runs on its cron schedule, catching up missed ones
  backfill   enqueue a run over a date range or partitions
  status     progress and outcome of a run

Run 'batchscore <command> --help' for a command's options.`;

interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

// Commands load on demand: a local `run` must not pay for BullMQ, ioredis or the AWS SDK.
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => import('./demo-command.js').then((m) => ({ run: m.demoCommand, help: m.DEMO_HELP })),
  run: async () => import('./run-command.js').then((m) => ({ run: m.runCommand, help: m.RUN_HELP })),
  inspect: async () => import('./inspect-command.js').then((m) => ({ run: m.inspectCommand, help: m.INSPECT_HELP })),
  verify: async () => import('./verify-command.js').then((m) => ({ run: m.verifyCommand, help: m.VERIFY_HELP })),
  models: async () => import('./models-command.js').then((m) => ({ run: m.modelsCommand, help: m.MODELS_HELP })),
  profile: async () => import('./profile-command.js').then((m) => ({ run: m.profileCommand, help: m.PROFILE_HELP })),
  evaluate: async () => import('./evaluate-command.js').then((m) => ({ run: m.evaluateCommand, help: m.EVALUATE_HELP })),
  worker: async () => import('./queue-commands.js').then((m) => ({ run: m.workerCommand, help: m.WORKER_HELP })),
  scheduler: async () => import('./queue-commands.js').then((m) => ({ run: m.schedulerCommand, help: m.SCHEDULER_HELP })),
  backfill: async () => import('./queue-commands.js').then((m) => ({ run: m.backfillCommand, help: m.BACKFILL_HELP })),
  status: async () => import('./queue-commands.js').then((m) => ({ run: m.statusCommand, help: m.STATUS_HELP })),
};

/** CLI entry: runs a command and returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`error: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return EXIT.usage;
  }
  const command = await load();
  // Scoring spills big outputs to temporary files; remove those that crashes left behind.
  (await import('../run/spill-files.js')).installSpillCleanup();
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
