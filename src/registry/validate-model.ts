/**
 * The check a model passes before it is registered: it must load in ONNX Runtime exactly
 * as a run will load it (`loadModel`: from bytes, ZipMap stripped), and must not depend on
 * files the registry cannot carry (external data).
 */
import { loadModel } from '../model/load-model.js';
import { messageOf } from '../model/errors.js';
import { readSignature, type ModelSignature } from '../model/signature.js';
import { RegistryError } from './errors.js';

/**
 * Check that bytes are a model the pipeline can run, the way the pipeline will load it.
 * External data is refused with a message that says why and what to do; a path that points
 * outside the model's folder is called out, since that is what a malicious model does.
 */
export async function validateModel(
  bytes: Uint8Array,
  name: string,
  source: string | undefined,
): Promise<{ sourceSignature: ModelSignature; signature: ModelSignature; notes: string[] }> {
  const refuse = (detail: string, cause?: unknown) =>
    new RegistryError('invalid-model', `registry: cannot register "${name}"${source ? ` from ${source}` : ''}: ${detail}`, { cause });
  let declared: ModelSignature;
  try {
    declared = readSignature(bytes);
  } catch (err) {
    throw refuse(messageOf(err), err);
  }
  if (declared.externalData.length > 0) {
    const outside = declared.externalData.filter((loc) => loc === '' || loc.startsWith('/') || /^[A-Za-z]:/.test(loc) || loc.split(/[\\/]/).includes('..'));
    const what = outside.length > 0
      ? `external data files outside its own folder (${outside.map((l) => JSON.stringify(l)).join(', ')})`
      : `external data files (${declared.externalData.map((l) => JSON.stringify(l)).join(', ')})`;
    throw refuse(
      `it references ${what}; the registry stores and loads a model as one file, ` +
        'so save it with its tensors embedded (onnx.save_model(model, path, save_as_external_data=False))',
    );
  }
  let loaded;
  try {
    loaded = await loadModel(bytes, { source: source ?? `model "${name}"` });
  } catch (err) {
    throw refuse(messageOf(err), err);
  }
  // Registration only proves the model loads; the session itself is not needed.
  await loaded.session.release();
  return { sourceSignature: loaded.sourceSignature, signature: loaded.signature, notes: loaded.notes };
}
