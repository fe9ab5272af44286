/**
 * Build step after `tsc`: bundle the scoring thread (dist/src/run/score-thread.js and what it
 * imports) into one CommonJS script, dist/thread/score-thread.cjs, which
 * dist/src/run/thread-loader.cjs runs with V8's code cache (see src/run/thread-loader.cts).
 *
 * Why: every scoring thread is a fresh V8 isolate that parses and compiles its code again
 * (~120 ms of CPU per thread in a cold run, measured with perf); Node 20 has no code cache
 * for ES modules, but `vm.Script` takes one for a script. The bundle is that script.
 *
 * Two modules pick a build with a top-level await, which CommonJS cannot have; in a scoring
 * thread their choice is fixed, so the bundle gets that choice written out:
 * parquet/arrow.js → apache-arrow's single-file bundle; parquet/wasm.js → parquet-wasm's web
 * build. Packages a thread loads only on rare paths (onnx-proto, the AWS SDK) and native ones
 * (onnxruntime-node) stay outside, loaded by `require` when needed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'dist', 'src');

/** Replace `from` (exactly once) in a file's text, or fail the build naming the file. */
function rewrite(path, from, to) {
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`bundle-thread: ${path} no longer contains ${JSON.stringify(from)}; update scripts/bundle-thread.mjs`);
  return text.replace(from, to);
}

await esbuild.build({
  entryPoints: [join(src, 'run', 'score-thread.js')],
  outfile: join(root, 'dist', 'thread', 'score-thread.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  external: ['onnxruntime-node', 'onnx-proto', '@aws-sdk/*', 'pino', 'prom-client'],
  define: { 'import.meta.url': '__bundle_url' },
  banner: { js: "var __bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  plugins: [
    {
      name: 'scoring-thread-builds',
      setup(build) {
        build.onLoad({ filter: /[\\/]dist[\\/]src[\\/]parquet[\\/]arrow\.js$/ }, (args) => ({
          contents: rewrite(args.path, "createRequire(import.meta.url)('apache-arrow/Arrow.esnext.min')\n    : await import('apache-arrow')", "require('apache-arrow/Arrow.esnext.min')\n    : null"),
          loader: 'js',
          resolveDir: dirname(args.path),
        }));
        build.onLoad({ filter: /[\\/]dist[\\/]src[\\/]parquet[\\/]wasm\.js$/ }, (args) => ({
          contents: rewrite(
            args.path,
            "export const pw = threaded ? (await import('parquet-wasm/esm')) : await import('parquet-wasm');",
            "import * as webBuild from 'parquet-wasm/esm';\nexport const pw = webBuild;",
          ),
          loader: 'js',
          resolveDir: dirname(args.path),
        }));
      },
    },
  ],
});
