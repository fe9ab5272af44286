/**
 * Remove ZipMap from classifier graphs so onnxruntime-node can run them.
 *
 * sklearn-onnx ends every classifier with ZipMap by default, turning the `[N, classes]`
 * probability tensor into a sequence of `{label: probability}` maps. onnxruntime-node loads
 * such a model but `session.run` fails with "Non tensor type is temporarily not supported",
 * and a map per row would be the slowest possible output anyway.
 *
 * Choice of names: each ZipMap node is replaced by an Identity node from its input to its
 * former output, and that graph output's type becomes `tensor(float)[N, classes]`. So the
 * output keeps the name users know from the converter and from Netron (`output_probability`),
 * a job spec written against it keeps working, and no other tensor is renamed (the
 * ZipMap's input may also feed other nodes or be a graph output of its own). ORT's graph
 * optimizer removes the Identity, so it costs nothing at run time.
 *
 * Limitation: onnx-proto knows the ONNX 1.10 schema; fields added later are dropped when
 * the model is re-encoded. That is why this returns the original bytes untouched when there
 * is nothing to strip, and why callers should only use it on models that have a ZipMap.
 */
import { onnx, toNumber, DataType } from './onnx-proto.js';
import { decodeModel, hasZipMapNode } from './signature.js';

/** Result of {@link stripZipMap}. */
export interface ZipMapStripResult {
  /** The model to load: re-encoded when something changed, the input bytes otherwise. */
  bytes: Uint8Array;
  /** Whether any ZipMap was removed. */
  changed: boolean;
  /** One line per ZipMap handled, for logs and lineage. */
  notes: string[];
}

/** Default-domain opset declared when a model imports none (Identity exists at every version). */
const FALLBACK_OPSET = 13;

function attrCount(node: onnx.INodeProto, name: string): number | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  return name.endsWith('strings') ? (a.strings ?? []).length : (a.ints ?? []).length;
}

/**
 * First dimension of a tensor's declared shape, if the graph declares it anywhere: the
 * probability tensor's batch dimension should read the same as the model's other outputs.
 */
function batchDimOf(graph: onnx.IGraphProto, tensor: string): onnx.TensorShapeProto.IDimension {
  const declared = [...(graph.valueInfo ?? []), ...(graph.output ?? [])].find((v) => v.name === tensor);
  const first = declared?.type?.tensorType?.shape?.dim?.[0];
  if (first?.dimParam) return { dimParam: first.dimParam };
  if (first?.dimValue !== null && first?.dimValue !== undefined) return { dimValue: toNumber(first.dimValue) };
  return { dimParam: 'N' };
}

/**
 * Replace every strippable ZipMap of the main graph (see the file comment) and re-encode.
 * A ZipMap is strippable when its output is a graph output that no other node consumes;
 * others are left in place and reported in `notes` (the model will then fail at run time
 * with ORT's own message, which is more useful than a guess here).
 *
 * Throws a ModelError (`invalid-model`) if the bytes are not an ONNX model.
 */
export function stripZipMap(bytes: Uint8Array): ZipMapStripResult {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  if (!hasZipMapNode(graph)) return { bytes, changed: false, notes: [] };

  const nodes = graph.node ?? [];
  const outputs = graph.output ?? [];
  const consumed = new Set(nodes.flatMap((n) => n.input ?? []));
  const notes: string[] = [];
  let changed = false;

  graph.node = nodes.map((n) => {
    if (n.opType !== 'ZipMap' || n.domain !== 'ai.onnx.ml') return n;
    const input = n.input?.[0];
    const output = n.output?.[0];
    const label = `ZipMap node '${n.name || output}'`;
    const graphOutput = outputs.find((o) => o.name === output);
    if (input === undefined || output === undefined || !graphOutput || consumed.has(output)) {
      notes.push(`${label} kept: its output is not a graph output or feeds another node`);
      return n;
    }
    const classes = attrCount(n, 'classlabels_int64s') ?? attrCount(n, 'classlabels_strings');
    graphOutput.type = {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: [batchDimOf(graph, input), classes ? { dimValue: classes } : {}] },
      },
    };
    // A stale value_info entry with the sequence type would contradict the new output type.
    graph.valueInfo = (graph.valueInfo ?? []).filter((v) => v.name !== output);
    changed = true;
    notes.push(
      `${label} replaced by Identity: output '${output}' is now float32 [N, ${classes ?? '?'}] ` +
        `(probabilities from '${input}') instead of a sequence of maps`,
    );
    return { opType: 'Identity', domain: '', name: `${n.name || output}_zipmap_removed`, input: [input], output: [output] };
  });

  if (!changed) return { bytes, changed: false, notes };
  const opsets = model.opsetImport ?? [];
  if (!opsets.some((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')) {
    model.opsetImport = [...opsets, { domain: '', version: FALLBACK_OPSET }];
    notes.push(`declared default-domain opset ${FALLBACK_OPSET} for the Identity node`);
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), changed: true, notes };
}
