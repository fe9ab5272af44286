/**
 * The OpenLineage facets batchscore emits: their TypeScript shapes, their exact
 * `_schemaURL`s (the `$id` of each facet schema in the OpenLineage spec repository plus
 * `#/$defs/<Facet>`, the form consumers resolve), and the custom model facet with its own
 * JSON Schema. Pure.
 */

/** `$id` of the OpenLineage spec the events follow. */
export const OPENLINEAGE_SPEC_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
/** `schemaURL` of every RunEvent. */
export const RUN_EVENT_SCHEMA_URL = `${OPENLINEAGE_SPEC_URL}#/$defs/RunEvent`;

/**
 * Home of batchscore, used for the default producer URI and the custom facet's schema `$id`.
 * Change it here if the project is published elsewhere: consumers only compare it, they do
 * not fetch it.
 */
export const BATCHSCORE_REPOSITORY = 'https://github.com/batchscore/batchscore';

/** `_schemaURL` of each standard facet used, from the facet schemas' `$id`s. */
export const FACET_SCHEMA_URLS = {
  nominalTime: 'https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet',
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  processingEngine: 'https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  inputStatistics: 'https://openlineage.io/spec/facets/1-0-0/InputStatisticsInputDatasetFacet.json#/$defs/InputStatisticsInputDatasetFacet',
  outputStatistics: 'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
} as const;

/** Key of the custom model facet in `run.facets`: prefixed, as custom facets must be. */
export const MODEL_FACET_KEY = 'batchscore_model';
/** `$id` of the custom model facet's schema. */
export const MODEL_FACET_SCHEMA_ID = `${BATCHSCORE_REPOSITORY}/spec/facets/1-0-0/BatchscoreModelRunFacet.json`;
/** `_schemaURL` of the custom model facet. */
export const MODEL_FACET_SCHEMA_URL = `${MODEL_FACET_SCHEMA_ID}#/$defs/BatchscoreModelRunFacet`;

/** JSON Schema (2020-12) of the custom model facet, in the layout of the standard facets. */
export const MODEL_FACET_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: MODEL_FACET_SCHEMA_ID,
  $defs: {
    BatchscoreModelRunFacet: {
      allOf: [
        { $ref: `${OPENLINEAGE_SPEC_URL}#/$defs/RunFacet` },
        {
          type: 'object',
          properties: {
            name: { description: 'Registered model name, when the model came from the registry', type: 'string' },
            version: { description: 'Registered version number', type: 'integer', minimum: 1 },
            alias: { description: 'Alias the job referenced (resolved once, at planning time)', type: 'string' },
            ref: { description: 'The model ref as the job spec gave it, e.g. churn@production', type: 'string' },
            sha256: { description: 'sha256 of the model bytes the run used', type: 'string', pattern: '^[0-9a-f]{64}$' },
            size: { description: 'Size of the model bytes', type: 'integer', minimum: 0 },
            uri: { description: 'Where the model bytes were read from', type: 'string' },
          },
          required: ['sha256', 'uri'],
        },
      ],
      type: 'object',
    },
  },
  type: 'object',
  properties: { [MODEL_FACET_KEY]: { $ref: '#/$defs/BatchscoreModelRunFacet' } },
} as const;

/** Fields every facet carries. */
export interface BaseFacet {
  _producer: string;
  _schemaURL: string;
}

export interface NominalTimeRunFacet extends BaseFacet {
  nominalStartTime: string;
  nominalEndTime?: string;
}

export interface ParentRunFacet extends BaseFacet {
  run: { runId: string };
  job: { namespace: string; name: string };
  root?: { run: { runId: string }; job: { namespace: string; name: string } };
}

export interface ErrorMessageRunFacet extends BaseFacet {
  message: string;
  programmingLanguage: string;
  stackTrace?: string;
}

export interface ProcessingEngineRunFacet extends BaseFacet {
  version: string;
  name?: string;
  openlineageAdapterVersion?: string;
}

/** The custom model facet: which model bytes produced the outputs. */
export interface BatchscoreModelRunFacet extends BaseFacet {
  name?: string;
  version?: number;
  alias?: string;
  ref?: string;
  sha256: string;
  size?: number;
  uri: string;
}

export interface JobTypeJobFacet extends BaseFacet {
  processingType: 'BATCH' | 'STREAMING' | 'SERVICE';
  integration: string;
  jobType?: string;
}

/** One column of a dataset. */
export interface SchemaField {
  name: string;
  type?: string;
  description?: string;
}

export interface SchemaDatasetFacet extends BaseFacet {
  fields: SchemaField[];
}

/** Rows, bytes and files read from or written to a dataset by one run. */
export interface StatisticsFacet extends BaseFacet {
  rowCount: number;
  size: number;
  fileCount: number;
}

/** Run facets batchscore may set. */
export interface RunFacets {
  nominalTime?: NominalTimeRunFacet;
  parent?: ParentRunFacet;
  errorMessage?: ErrorMessageRunFacet;
  processing_engine?: ProcessingEngineRunFacet;
  batchscore_model?: BatchscoreModelRunFacet;
}

/** Job facets batchscore sets. */
export interface JobFacets {
  jobType?: JobTypeJobFacet;
}

/** A facet of kind `key` with its `_producer` and `_schemaURL`. */
export function facet<K extends keyof typeof FACET_SCHEMA_URLS, T extends object>(producer: string, key: K, body: T): T & BaseFacet {
  return { _producer: producer, _schemaURL: FACET_SCHEMA_URLS[key], ...body };
}
