/**
 * What the registry's operations take and return: plain data, so that the CLI can print
 * it as a table or JSON and the planner can record it in a run plan.
 */
import type { ModelMetadata } from './model-metadata.js';
import type { AliasWriteMode } from './alias-store.js';

/** Options of `ModelRegistry.register`. */
export interface RegisterOptions {
  /** Metrics, name → finite number (`--metrics auc=0.81`). */
  metrics?: Record<string, number>;
  /** Model card text (Markdown). */
  card?: string | null;
  /** Who registers. Default `defaultActor()`. */
  createdBy?: string;
  /** Where the bytes came from (path or URI as the user gave it). */
  source?: string;
  /** Column names in model-input order, when the model takes an unnamed `[N,F]` matrix. */
  featureNames?: readonly string[];
}

/** A version as stored: its metadata and where its bytes are. */
export interface RegisteredVersion {
  metadata: ModelMetadata;
  /** URI of `model.onnx` (what a job spec's `model.uri` would name). */
  uri: string;
  /** URI of `model.json`. */
  metadataUri: string;
}

/** One line of `models list`. */
export interface VersionSummary {
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  createdBy: string;
  metrics: Record<string, number>;
  /** Aliases pointing at this version. */
  aliases: string[];
  /** First heading of the model card, if any. */
  cardTitle: string | null;
}

/** An alias as `models list` shows it. */
export interface AliasSummary {
  alias: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  /** Where a rollback would go, if anywhere. */
  rollbackTo: number | null;
}

/** Result of `ModelRegistry.list`. */
export interface ModelListing {
  name: string;
  /** Ascending by version. */
  versions: VersionSummary[];
  /** Sorted by alias name. */
  aliases: AliasSummary[];
}

/** A ref pinned to exact bytes: what a run records at planning time. */
export interface ResolvedModelRef {
  /** The ref as resolved, canonical (`churn@production`, `churn@3`, `churn@latest`). */
  ref: string;
  name: string;
  version: number;
  /** The alias the ref named, if it named one. */
  alias?: string;
  sha256: string;
  size: number;
  /** URI of the version's `model.onnx`. */
  uri: string;
}

/** Result of `ModelRegistry.promote` and `ModelRegistry.rollback`. */
export interface AliasChangeResult {
  name: string;
  alias: string;
  /** Target after the change. */
  version: number;
  /** Target before the change (undefined when the alias was created). */
  previous: number | undefined;
  /** False when the alias already pointed there. */
  changed: boolean;
  /** How the write was protected against concurrent updates. */
  mode: AliasWriteMode;
}
