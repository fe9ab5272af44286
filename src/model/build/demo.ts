/**
 * The three demo models the project ships by building them (nothing is downloaded): a
 * logistic regression, an MLP and a tree ensemble over the same 32 features. Each comes
 * with its parameters and a reference scorer so that any test, benchmark or example can
 * check the pipeline's numbers without trusting the pipeline.
 */
import { buildLogisticModel, type LogisticParams } from './logistic.js';
import { buildMlpModel, type MlpLayer, type MlpActivation, type MlpParams } from './mlp.js';
import { buildTreeEnsembleModel } from './tree-regressor.js';
import { generateTreeEnsemble, type TreeEnsembleParams } from './trees.js';
import { type Rng, gaussian, seededRandom, uniform } from './random.js';
import { logisticReference, mlpReference, treeEnsembleReference, type FeatureRow } from '../reference.js';

/** Number of input features of every demo model. */
export const DEMO_FEATURES = 32;

/** A built model, what it expects, and how to score a row without ONNX Runtime. */
export interface DemoModel<P> {
  /** Short identifier: `logistic`, `mlp` or `trees`. */
  name: string;
  /** Encoded ONNX model. */
  bytes: Uint8Array;
  /** Parameters the model was built from. */
  params: P;
  /** Name of the single `[N, 32]` float input. */
  inputName: string;
  /** Name of the single `[N, 1]` float output. */
  outputName: string;
  /** Column names to feed, in order (`f0` … `f31`): what demo datasets should contain. */
  featureNames: readonly string[];
  /** The model's output for one row, computed in float64 in plain JS. */
  reference: (row: FeatureRow) => number;
}

/** The demo models built from one seed. */
export interface DemoModels {
  /** Logistic regression; output `probability` in (0, 1). */
  logistic: DemoModel<LogisticParams>;
  /** MLP 32→256→256→1 (relu, relu, sigmoid); output `probability` in (0, 1). */
  mlp: DemoModel<MlpParams>;
  /** 100 trees of depth 6 (TreeEnsembleRegressor, SUM); output `score`, unbounded. */
  trees: DemoModel<TreeEnsembleParams>;
}

/** Glorot-uniform layer: keeps activations O(1) through 256-wide relu layers. */
function denseLayer(rng: Rng, inp: number, out: number, activation: MlpActivation): MlpLayer {
  const limit = Math.sqrt(6 / (inp + out));
  const weights = new Float32Array(inp * out);
  for (let i = 0; i < weights.length; i++) weights[i] = uniform(rng, -limit, limit);
  const bias = new Float32Array(out);
  for (let j = 0; j < out; j++) bias[j] = uniform(rng, -0.05, 0.05);
  return { weights, bias, activation };
}

/**
 * Build the three demo models and their parameters from a seed (same seed, same bytes).
 * Each model draws from its own PRNG stream (seed, seed+1, seed+2), so changing one
 * model's shape does not change the others.
 */
export function makeDemoModels(seed = 42): DemoModels {
  const featureNames = Array.from({ length: DEMO_FEATURES }, (_, i) => `f${i}`);
  const inputName = 'features';

  const lrng = seededRandom(seed);
  const weights = new Float32Array(DEMO_FEATURES);
  // Scaled so that w·x has unit-ish spread for features uniform in [-1, 1]: probabilities
  // then cover (0, 1) instead of piling up at 0.5 or saturating.
  for (let i = 0; i < DEMO_FEATURES; i++) weights[i] = gaussian(lrng) * (3 / Math.sqrt(DEMO_FEATURES));
  const logisticParams: LogisticParams = { weights, bias: Math.fround(uniform(lrng, -0.5, 0.5)) };

  const mrng = seededRandom(seed + 1);
  const mlpParams: MlpParams = {
    layers: [
      denseLayer(mrng, DEMO_FEATURES, 256, 'relu'),
      denseLayer(mrng, 256, 256, 'relu'),
      denseLayer(mrng, 256, 1, 'sigmoid'),
    ],
  };

  const treeParams = generateTreeEnsemble(seed + 2, { nFeatures: DEMO_FEATURES, nTrees: 100, depth: 6 });

  return {
    logistic: {
      name: 'logistic',
      bytes: buildLogisticModel({ ...logisticParams, inputName, outputName: 'probability' }),
      params: logisticParams,
      inputName,
      outputName: 'probability',
      featureNames,
      reference: (row) => logisticReference(logisticParams, row),
    },
    mlp: {
      name: 'mlp',
      bytes: buildMlpModel({ ...mlpParams, inputName, outputName: 'probability' }),
      params: mlpParams,
      inputName,
      outputName: 'probability',
      featureNames,
      reference: (row) => mlpReference(mlpParams, row),
    },
    trees: {
      name: 'trees',
      bytes: buildTreeEnsembleModel(treeParams, { inputName, outputName: 'score' }),
      params: treeParams,
      inputName,
      outputName: 'score',
      featureNames,
      reference: (row) => treeEnsembleReference(treeParams, row),
    },
  };
}
