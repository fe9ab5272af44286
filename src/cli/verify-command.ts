import { parseArgs } from 'node:util';
import { queueSettings } from './queue-env.js';
import { withRedis } from '../queue/connection.js';
import { RunRegistry } from '../queue/run-registry.js';
import type { RunManifest } from '../run/manifest.js';
import { manifestKey } from '../run/manifest.js';
import { verifyRun } from '../run/verify-run.js';
import { resolveUri } from '../storage/resolve.js';
import { EXIT, UsageError } from './usage-error.js';

export const VERIFY_HELP = `Usage: batchscore verify <runId | manifest-uri> [--output URI] [--sample N] [--json]

Re-check a finished run: each output file's sha256 and row count, unchanged inputs, and a
sample of rows (default 1000, spread over all files) re-scored with the pinned model.
The manifest is found from --output (the job's output URI), a manifest URI/path, or the
run's Redis record (REDIS_URL). Exit code 1 on any mismatch.`;

export async function findManifest(ref: string, output: string | undefined): Promise<string> {
  if (ref.endsWith('.json')) return ref;
  if (output) {
    const out = resolveUri(output);
    return out.store.uri(manifestKey(out.key.replace(/\/+$/, ''), ref));
  }
  const config = queueSettings();
  // A one-shot connection: an unreachable Redis fails within seconds, naming the URL.
  return withRedis(config.redisUrl, async (redis) => {
    const record = await new RunRegistry(redis, `${config.prefix}:${config.queueName}`).get(ref);
    if (!record?.manifestUri) throw new UsageError(`no manifest known for run ${ref}; pass --output <job output URI>`);
    return record.manifestUri;
  });
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { output: { type: 'string' }, sample: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return console.log(VERIFY_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError('verify expects one run id or manifest');
  const sample = values.sample === undefined ? 1000 : Number(values.sample);
  if (!Number.isInteger(sample) || sample < 1) throw new UsageError(`--sample expects a positive integer, got ${JSON.stringify(values.sample)}`);
  const uri = await findManifest(positionals[0]!, values.output);
  const { store, key } = resolveUri(uri);
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(key))) as RunManifest;
  const report = await verifyRun(manifest, { sampleRows: sample });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`run ${report.runId}: ${report.filesChecked} files checked, ${report.rowsRescored} rows re-scored`);
    for (const p of report.problems) console.log(`  MISMATCH ${p}`);
    console.log(report.problems.length ? `FAILED: ${report.problems.length} problem(s)` : 'OK: outputs match the manifest and the pinned model');
  }
  return report.problems.length ? EXIT.failed : EXIT.ok;
}
