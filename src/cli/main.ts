import { demoCommand, DEMO_HELP } from './demo-command.js';
import { inspectCommand, INSPECT_HELP } from './inspect-command.js';
import { runCommand, RUN_HELP } from './run-command.js';
import { EXIT, UsageError } from './usage-error.js';

const HELP = `Usage: batchscore <command> [options]

Commands:
  demo       generate a sample dataset and models, and score it (no Redis, no S3)
  run        score a job spec's partitions on this machine
  inspect    print a Parquet file's schema, row groups and row count

Run 'batchscore <command> --help' for a command's options.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  demo: { run: demoCommand, help: DEMO_HELP },
  run: { run: runCommand, help: RUN_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
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
