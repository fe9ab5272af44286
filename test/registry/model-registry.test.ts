/**
 * The registry end to end on both stores: the filesystem store (conditional writes
 * enforced) and s3rver over HTTP (conditional writes not enforced: the check-then-write
 * path). Real ONNX bytes from the demo model builders; every model loads in ONNX Runtime.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeDemoModels } from '../../src/model/build/demo.js';
import { onnx } from '../../src/model/onnx-proto.js';
import { parseAliasDocument, serializeAliasDocument } from '../../src/registry/alias-document.js';
import { RegistryError, type RegistryErrorCode } from '../../src/registry/errors.js';
import { ModelRegistry, openRegistry } from '../../src/registry/model-registry.js';
import { FileStore } from '../../src/storage/file-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { joinKey, resolveUri } from '../../src/storage/resolve.js';
import { s3StoreFor, startS3rver, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { emptyListing, HookStore } from './hook-store.js';

const demo = makeDemoModels(42);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);
const noWait = { backoff: async () => {} };

async function rejectsWith(promise: Promise<unknown>, code: RegistryErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof RegistryError, `expected RegistryError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.startsWith('registry: '), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const obj of store.list(prefix)) keys.push(obj.key.slice(prefix.length));
  return keys;
}

/** Bytes at a URI the registry returned, read through the same resolution a run uses. */
async function bytesAt(uri: string, store: ObjectStore): Promise<Uint8Array> {
  const parsed = uri.startsWith('s3://') ? uri.slice(uri.indexOf('/', 5) + 1) : resolveUri(uri).key;
  return store.get(parsed);
}

interface Fixture {
  store: ObjectStore;
  /** A fresh registry root key for one test. */
  root(name: string): string;
  cleanup(): Promise<void>;
}

function suite(label: string, make: () => Promise<Fixture>): void {
  describe(`model registry on ${label}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await make();
    });
    after(() => fx.cleanup());

    it('register → list → promote → promote another → rollback; resolveRef pins version and sha256', async () => {
      const reg = new ModelRegistry(fx.store, fx.root('lifecycle'), noWait);
      const v1 = await reg.register('churn', demo.logistic.bytes, {
        metrics: { auc: 0.81, logloss: 0.42 },
        card: '# Churn v1\r\n\r\nLogistic regression on 32 features.\r\n',
        createdBy: 'alice@laptop',
        source: './churn.onnx',
        featureNames: FEATURES,
      });
      assert.equal(v1.metadata.version, 1);
      assert.equal(v1.metadata.sha256, sha(demo.logistic.bytes));
      assert.equal(v1.metadata.size, demo.logistic.bytes.byteLength);
      assert.equal(v1.metadata.createdBy, 'alice@laptop');
      assert.equal(v1.metadata.source, './churn.onnx');
      assert.deepEqual(v1.metadata.metrics, { auc: 0.81, logloss: 0.42 });
      assert.equal(v1.metadata.card, '# Churn v1\n\nLogistic regression on 32 features.\n');
      assert.deepEqual(v1.metadata.featureNames, FEATURES);
      assert.deepEqual(v1.metadata.inputs.map((i) => [i.name, i.elemType, i.shape]), [['features', 'float32', ['N', 32]]]);
      assert.deepEqual(v1.metadata.outputs.map((o) => o.name), ['probability']);
      assert.equal(typeof v1.metadata.opset, 'number');
      assert.ok(v1.uri.endsWith('/churn/versions/1/model.onnx'), v1.uri);
      assert.equal(sha(await bytesAt(v1.uri, fx.store)), v1.metadata.sha256);

      const v2 = await reg.register('churn', demo.mlp.bytes, { metrics: { auc: 0.86 }, createdBy: 'bob@ci' });
      const v3 = await reg.register('churn', demo.trees.bytes);
      assert.deepEqual([v2.metadata.version, v3.metadata.version], [2, 3]);
      assert.equal(v2.metadata.featureNames, null, 'a [N,32] matrix input has no feature names of its own');
      assert.match(v3.metadata.createdBy, /.@./, 'default createdBy is user@host');

      let listing = await reg.list('churn');
      assert.deepEqual(listing.versions.map((v) => [v.version, v.sha256]), [
        [1, sha(demo.logistic.bytes)],
        [2, sha(demo.mlp.bytes)],
        [3, sha(demo.trees.bytes)],
      ]);
      assert.equal(listing.versions[0]?.cardTitle, 'Churn v1');
      assert.ok(listing.versions.every((v) => !Number.isNaN(Date.parse(v.createdAt))));
      assert.deepEqual(listing.aliases, []);
      assert.deepEqual(await reg.listModels(), ['churn']);

      const p1 = await reg.promote('churn', 1, 'production', { by: 'alice@laptop' });
      assert.deepEqual([p1.version, p1.previous, p1.changed], [1, undefined, true]);
      assert.equal(p1.mode, fx.store.conditionalWrites ? 'compare-and-swap' : 'last-writer-wins');
      const p2 = await reg.promote('churn', 2, 'production', { by: 'bob@ci' });
      assert.deepEqual([p2.version, p2.previous, p2.changed], [2, 1, true]);
      const again = await reg.promote('churn', 2, 'production');
      assert.deepEqual([again.version, again.previous, again.changed], [2, 2, false]);
      await reg.promote('churn', 3, 'staging');

      listing = await reg.list('churn');
      assert.deepEqual(listing.versions.map((v) => v.aliases), [[], ['production'], ['staging']]);
      assert.deepEqual(listing.aliases.map((a) => [a.alias, a.version, a.rollbackTo, a.updatedBy]), [
        ['production', 2, 1, 'bob@ci'],
        ['staging', 3, null, listing.aliases[1]?.updatedBy],
      ]);

      const pinned = await reg.resolveRef('churn@production');
      assert.deepEqual(pinned, {
        ref: 'churn@production',
        name: 'churn',
        version: 2,
        alias: 'production',
        sha256: sha(demo.mlp.bytes),
        size: demo.mlp.bytes.byteLength,
        uri: v2.uri,
      });
      assert.equal(sha(await bytesAt(pinned.uri, fx.store)), pinned.sha256, 'the pin matches the bytes at the URI');

      const back = await reg.rollback('churn', 'production', { by: 'carol@oncall' });
      assert.deepEqual([back.version, back.previous, back.changed], [1, 2, true]);
      const afterRollback = await reg.resolveRef('churn@production');
      assert.deepEqual([afterRollback.version, afterRollback.sha256], [1, sha(demo.logistic.bytes)]);
      assert.equal(pinned.version, 2, 'a ref resolved earlier stays pinned');
      await rejectsWith(reg.rollback('churn', 'production'), 'no-history', /no previous target to roll back to \(it points to version 1\)/);

      const doc = await reg.getAlias('churn', 'production');
      assert.deepEqual(doc?.history.map((h) => [h.action, h.version, h.by]), [
        ['promote', 1, 'alice@laptop'],
        ['promote', 2, 'bob@ci'],
        ['rollback', 1, 'carol@oncall'],
      ]);

      assert.deepEqual(await reg.resolveRef('churn@3'), { ref: 'churn@3', name: 'churn', version: 3, sha256: sha(demo.trees.bytes), size: demo.trees.bytes.byteLength, uri: v3.uri });
      assert.equal((await reg.resolveRef('churn')).version, 3, 'a bare name is the latest version');
      assert.equal((await reg.resolveRef('churn@latest')).ref, 'churn@latest');
      assert.equal((await reg.get('churn', 2)).metadata.metrics.auc, 0.86);
      assert.equal(sha(await reg.readModel('churn', 3)), sha(demo.trees.bytes));
    });

    it('versions are immutable: registering again, even from a stale listing, never overwrites version N', async () => {
      const root = fx.root('immutable');
      const reg = new ModelRegistry(fx.store, root);
      await reg.register('fraud', demo.logistic.bytes);
      await reg.register('fraud', demo.logistic.bytes);
      const first = await reg.get('fraud', 1);

      // A listing that lags behind (eventually consistent stores, or a cache) makes the
      // registry try version 1 again: the create-only write must move on, not overwrite.
      const lagging = new HookStore(fx.store);
      lagging.hooks.list = () => emptyListing();
      const third = await new ModelRegistry(lagging, root).register('fraud', demo.mlp.bytes);
      assert.equal(third.metadata.version, 3);
      assert.deepEqual(await reg.get('fraud', 1), first, 'version 1 metadata unchanged');
      assert.equal(sha(await reg.readModel('fraud', 1)), sha(demo.logistic.bytes), 'version 1 bytes unchanged');
      assert.deepEqual((await reg.list('fraud')).versions.map((v) => v.version), [1, 2, 3]);
    });

    it('refuses bytes that are not a loadable model, and writes nothing', async () => {
      const root = fx.root('invalid');
      const reg = new ModelRegistry(fx.store, root);
      await rejectsWith(
        reg.register('churn', new TextEncoder().encode('definitely not onnx'), { source: 'bad.onnx' }),
        'invalid-model',
        /^registry: cannot register "churn" from bad\.onnx: model: /,
      );
      const cut = onnx.ModelProto.decode(demo.mlp.bytes);
      cut.opsetImport = [];
      await rejectsWith(reg.register('churn', onnx.ModelProto.encode(cut).finish(), { source: 'no-opset.onnx' }), 'invalid-model', /cannot load no-opset\.onnx: .*opset/i);
      assert.deepEqual(await keysUnder(fx.store, `${root}/`), [], 'nothing uploaded');
      await rejectsWith(reg.list('churn'), 'not-found', /no model "churn" in /);
    });

    it('refuses models with external data, naming files outside their folder', async () => {
      const reg = new ModelRegistry(fx.store, fx.root('external'));
      const model = onnx.ModelProto.decode(demo.logistic.bytes);
      const w = model.graph?.initializer?.[0];
      assert.ok(w);
      w.rawData = new Uint8Array(0);
      w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      w.externalData = [{ key: 'location', value: '../secret/weights.bin' }];
      await rejectsWith(
        reg.register('churn', onnx.ModelProto.encode(model).finish(), { source: 'ext.onnx' }),
        'invalid-model',
        /cannot register "churn" from ext\.onnx: it references external data files outside its own folder \("\.\.\/secret\/weights\.bin"\); .*save_as_external_data=False/,
      );
      w.externalData = [{ key: 'location', value: 'weights.bin' }];
      await rejectsWith(reg.register('churn', onnx.ModelProto.encode(model).finish()), 'invalid-model', /references external data files \("weights\.bin"\)/);
    });

    it('validates names, aliases, versions and refs', async () => {
      const reg = new ModelRegistry(fx.store, fx.root('names'));
      await reg.register('churn', demo.logistic.bytes);
      await rejectsWith(reg.register('Churn', demo.logistic.bytes), 'invalid-name', /invalid model name "Churn"/);
      await rejectsWith(reg.register('../etc', demo.logistic.bytes), 'invalid-name', /invalid model name "\.\.\/etc"/);
      await rejectsWith(reg.register('churn', demo.logistic.bytes, { metrics: { auc: Number.NaN } }), 'invalid-metadata', /metric "auc" must be a finite number/);
      await rejectsWith(reg.promote('churn', 1, 'latest'), 'invalid-name', /alias "latest" is reserved/);
      await rejectsWith(reg.promote('churn', 1, '3x'), 'invalid-name', /invalid alias "3x"/);
      await rejectsWith(reg.promote('churn', 7, 'production'), 'not-found', /model "churn" has no version 7 .*\(versions: 1\)/);
      await rejectsWith(reg.resolveRef('churn@03'), 'invalid-name', /invalid version "03"/);
      await rejectsWith(reg.resolveRef('churn@prod@1'), 'invalid-name', /more than one "@"/);
      await rejectsWith(reg.resolveRef('churn@production'), 'not-found', /has no alias "production" .*\(it has no aliases\)/);
      await rejectsWith(reg.resolveRef('other@1'), 'not-found', /model "other" has no version 1 .*\(it has no versions\)/);
      await rejectsWith(reg.rollback('churn', 'production'), 'not-found', /alias "production" of model "churn" does not exist/);
    });

    it('an alias write lost to a racing writer is applied again on top of the winner', async () => {
      const root = fx.root('race-alias');
      const reg = new ModelRegistry(fx.store, root, noWait);
      for (const m of [demo.logistic, demo.mlp, demo.trees]) await reg.register('churn', m.bytes);
      await reg.promote('churn', 1, 'production', { by: 'first' });

      // Right after our write lands, another writer (who read the document before our
      // write) replaces it with its own change: our entry is gone until we re-apply it.
      const racy = new HookStore(fx.store);
      const aliasKey = joinKey(root, 'churn', 'aliases', 'production.json');
      const before = await new ModelRegistry(fx.store, root).getAlias('churn', 'production');
      assert.ok(before);
      racy.hooks.afterPut = async (key) => {
        if (key !== aliasKey) return;
        racy.hooks.afterPut = undefined;
        const theirs = { ...before, target: 3, history: [...before.history, { version: 3, at: new Date().toISOString(), by: 'racer', action: 'promote' as const, id: 'racer-id' }] };
        await fx.store.put(key, serializeAliasDocument(theirs));
      };
      const result = await new ModelRegistry(racy, root, noWait).promote('churn', 2, 'production', { by: 'us' });
      assert.equal(result.version, 2);
      const doc = await reg.getAlias('churn', 'production');
      assert.deepEqual(doc?.history.map((h) => [h.by, h.version]), [['first', 1], ['racer', 3], ['us', 2]]);
      assert.equal(doc?.target, 2);
    });

    it('a rollback refuses to undo a change made while it was running', async () => {
      const root = fx.root('race-rollback');
      const reg = new ModelRegistry(fx.store, root, noWait);
      for (const m of [demo.logistic, demo.mlp, demo.trees]) await reg.register('churn', m.bytes);
      await reg.promote('churn', 1, 'production');
      await reg.promote('churn', 2, 'production');
      const racy = new HookStore(fx.store);
      racy.hooks.beforePut = async () => {
        racy.hooks.beforePut = undefined;
        await reg.promote('churn', 3, 'production', { by: 'racer' }); // moves the alias under the rollback
      };
      await rejectsWith(new ModelRegistry(racy, root, noWait).rollback('churn', 'production'), 'conflict', /moved from version 2 to 3 while rolling back/);
      assert.equal((await reg.resolveRef('churn@production')).version, 3, 'the racer\'s change stands');
    });

    it('without conditional writes, a registration that raced another for version N fails loudly', async () => {
      const root = fx.root('race-version');
      const racy = new HookStore(fx.store, false);
      const reg = new ModelRegistry(racy, root);
      racy.hooks.afterPut = async (key) => {
        if (!key.endsWith('/model.json')) return;
        racy.hooks.afterPut = undefined;
        // The other registration's model.json lands on the same number just after ours.
        const text = Buffer.from(await fx.store.get(key)).toString('utf8');
        await fx.store.put(key, text.replace(/"registrationId": "[^"]+"/, '"registrationId": "someone-else"'));
      };
      await rejectsWith(reg.register('churn', demo.logistic.bytes), 'conflict', /version 1 of "churn" .* was written by a concurrent registration/);
      const clean = await new ModelRegistry(new HookStore(fx.store, false), root).register('churn', demo.mlp.bytes);
      assert.equal(clean.metadata.version, 2, 'without a race the verification passes');
    });

    it('concurrent promotions both succeed and both are in the history', async () => {
      const root = fx.root('concurrent');
      const reg = new ModelRegistry(fx.store, root);
      for (const m of [demo.logistic, demo.mlp]) await reg.register('churn', m.bytes);
      const [a, b] = await Promise.all([reg.promote('churn', 1, 'staging', { by: 'a' }), reg.promote('churn', 2, 'staging', { by: 'b' })]);
      assert.ok(a.changed && b.changed);
      const doc = await reg.getAlias('churn', 'staging');
      assert.ok(doc && [1, 2].includes(doc.target));
      assert.deepEqual(doc.history.map((h) => h.by).sort(), ['a', 'b']);
    });
  });
}

suite('the filesystem store', async () => {
  const dir: TmpDir = await tmpDir('batchscore-registry-');
  return { store: new FileStore(), root: (name) => `${dir.path}/${name}`, cleanup: () => dir.cleanup() };
});

suite('S3 (s3rver, no conditional writes)', async () => {
  const server: S3rverHandle = await startS3rver();
  const bucket = await server.bucket();
  const store = s3StoreFor(server.endpoint, bucket);
  return {
    store,
    root: (name) => `registry/${name}`,
    cleanup: async () => {
      store.close();
      await server.stop();
    },
  };
});

describe('openRegistry', () => {
  it('opens a registry at a local path and an s3:// URI', async () => {
    const dir = await tmpDir('batchscore-registry-open-');
    try {
      const local = openRegistry(`${dir.path}/models/`);
      assert.equal(local.root, `${dir.path}/models`);
      assert.equal(local.uri(), `file://${dir.path}/models`);
      const v = await local.register('churn', demo.logistic.bytes);
      assert.equal(v.uri, `file://${dir.path}/models/churn/versions/1/model.onnx`);
      const s3 = openRegistry('s3://models-bucket/registry', { env: {} });
      assert.equal(s3.root, 'registry');
      assert.equal(s3.uri(), 's3://models-bucket/registry');
    } finally {
      await dir.cleanup();
    }
  });
});

describe('alias documents as stored', () => {
  it('round-trip through parse and refuse a document copied under another alias', () => {
    const doc = {
      format: 'batchscore.alias/1' as const,
      model: 'churn',
      alias: 'production',
      target: 2,
      history: [
        { version: 1, at: '2026-11-01T00:00:00.000Z', by: 'a', action: 'promote' as const, id: 'x' },
        { version: 2, at: '2026-11-02T00:00:00.000Z', by: 'b', action: 'promote' as const, id: 'y' },
      ],
    };
    const text = serializeAliasDocument(doc);
    assert.deepEqual(parseAliasDocument(text, 'mem://a.json', { model: 'churn', alias: 'production' }), doc);
    assert.throws(() => parseAliasDocument(text, 'mem://a.json', { model: 'churn', alias: 'staging' }), /registry: alias document mem:\/\/a\.json is invalid: it names "churn"@"production", expected "churn@staging"/);
  });
});
