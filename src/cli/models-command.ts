/**
 * `batchscore models register|list|promote|rollback`: the model registry from the shell.
 * The registry root comes from `--registry` or `BATCHSCORE_REGISTRY`.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseMetricArgs } from '../registry/model-card.js';
import { openRegistry } from '../registry/model-registry.js';
import { checkVersion } from '../registry/names.js';
import { RegistryError } from '../registry/errors.js';
import { EXIT, UsageError } from './usage-error.js';
import { parseDatasetProfile } from '../monitor/profile-json.js';
import { referenceProfileUri } from '../run/monitor-run.js';
import { resolveUri } from '../storage/resolve.js';

export const MODELS_HELP = `Usage: batchscore models <subcommand> [--registry URI] [--json]

  register <name> <model.onnx> [--metrics auc=0.81,...] [--card card.md] [--reference profile.json]
                            validate (loads in ONNX Runtime) and store as the next version;
                            --reference attaches a training-data profile (batchscore profile)
                            that monitored runs of this version compare against by default
  list <name>               versions (sha256, created, metrics) and aliases
  promote <name> <version> --alias <alias>
                            point an alias at a version (history kept)
  rollback <name> --alias <alias>
                            point the alias back at its previous target

The registry is a folder or prefix: --registry, else BATCHSCORE_REGISTRY (local path,
file:// or s3://). Job specs use it with "model": {"ref": "<name>@<alias|version>"}.`;

function registryUri(flag: string | undefined): string {
  const uri = flag ?? process.env.BATCHSCORE_REGISTRY;
  if (!uri) throw new UsageError('no registry: pass --registry URI or set BATCHSCORE_REGISTRY');
  return uri;
}

function out(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

export async function modelsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      registry: { type: 'string' },
      metrics: { type: 'string', multiple: true },
      card: { type: 'string' },
      reference: { type: 'string' },
      alias: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(MODELS_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const [sub, ...args] = positionals;
  try {
    const registry = openRegistry(registryUri(values.registry));
    switch (sub) {
      case 'register': {
        if (args.length !== 2) throw new UsageError('models register expects <name> <model.onnx>');
        const [name, path] = args as [string, string];
        const bytes = await readFile(path).catch((err: Error) => {
          throw new UsageError(`cannot read model ${path}: ${err.message}`);
        });
        const card = values.card ? await readFile(values.card, 'utf8') : undefined;
        // Check the reference before registering: a version is immutable once written.
        const reference = values.reference ? parseDatasetProfile(JSON.parse(await readFile(values.reference, 'utf8')), values.reference) : undefined;
        const v = await registry.register(name, bytes, { metrics: parseMetricArgs(values.metrics ?? []), card, source: basename(path) });
        if (reference) {
          const loc = resolveUri(referenceProfileUri(v.uri));
          await loc.store.put(loc.key, JSON.stringify(reference), { ifNoneMatch: '*', contentType: 'application/json' });
        }
        out(values.json, v, () => `registered ${name} version ${v.metadata.version} (sha256 ${v.metadata.sha256}) at ${v.uri}${reference ? ' with a reference profile' : ''}`);
        return EXIT.ok;
      }
      case 'list': {
        if (args.length !== 1) throw new UsageError('models list expects <name>');
        const listing = await registry.list(args[0]!);
        out(values.json, listing, () => [
          `${listing.name}:`,
          ...listing.versions.map((v) => `  v${v.version}  ${v.sha256.slice(0, 12)}  ${v.createdAt}  ${Object.entries(v.metrics).map(([k, m]) => `${k}=${m}`).join(' ')}${v.aliases.length ? `  [${v.aliases.join(', ')}]` : ''}`),
          ...listing.aliases.map((a) => `  @${a.alias} -> v${a.version} (updated ${a.updatedAt} by ${a.updatedBy}${a.rollbackTo ? `, rollback to v${a.rollbackTo}` : ''})`),
        ].join('\n'));
        return EXIT.ok;
      }
      case 'promote': {
        if (args.length !== 2 || !values.alias) throw new UsageError('models promote expects <name> <version> --alias <alias>');
        const r = await registry.promote(args[0]!, checkVersion(args[1]), values.alias);
        out(values.json, r, () => `${r.name}@${r.alias} -> v${r.version}${r.previous ? ` (was v${r.previous})` : ''}${r.changed ? '' : ' (unchanged)'}`);
        return EXIT.ok;
      }
      case 'rollback': {
        if (args.length !== 1 || !values.alias) throw new UsageError('models rollback expects <name> --alias <alias>');
        const r = await registry.rollback(args[0]!, values.alias);
        out(values.json, r, () => `${r.name}@${r.alias} rolled back to v${r.version}${r.previous ? ` (was v${r.previous})` : ''}`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown models subcommand ${JSON.stringify(sub)}`);
    }
  } catch (err) {
    if (err instanceof RegistryError && (err.code === 'invalid-name' || err.code === 'invalid-metadata')) throw new UsageError(err.message);
    throw err;
  }
}
