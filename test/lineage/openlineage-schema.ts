/**
 * Validation of emitted events against the OpenLineage JSON Schemas in
 * `shared/specs/openlineage` (spec 2-0-2 and the standard facets), with ajv's 2020-12 build.
 * Every schema is loaded from disk and registered under its `$id`, so `$ref`s between them
 * resolve locally: nothing is fetched. Each facet is additionally validated against the
 * schema its own `_schemaURL` names, which proves those URLs are exact.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { MODEL_FACET_SCHEMA, OPENLINEAGE_SPEC_URL } from '../../src/lineage/facets.js';

/** dist/test/lineage → the workspace's shared/specs/openlineage. */
export const SPEC_DIR = fileURLToPath(new URL('../../../../shared/specs/openlineage/', import.meta.url));

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const URI_RE = /^[a-z][a-z0-9+.-]*:[^\s]*$/i;

/** A validator holding every OpenLineage schema plus the custom model facet schema. */
export class OpenLineageValidator {
  private readonly ajv: Ajv2020;
  private readonly event: ValidateFunction;
  /** `$id`s of the loaded facet schema files. */
  readonly facetIds: string[] = [];

  constructor() {
    // Unknown keywords stay errors (a typo in our own schema must not pass silently);
    // "example", an annotation the OpenLineage schemas use, is declared instead. strictRequired
    // and strictTypes are off: the spec's `not: { required: [...] }` and untyped allOf
    // branches are valid 2020-12 that those lint-style checks reject.
    this.ajv = new Ajv2020({ allErrors: true, strictSchema: true, strictRequired: false, strictTypes: false });
    this.ajv.addKeyword({ keyword: 'example', schemaType: ['string', 'number', 'boolean', 'object', 'array'] });
    // The formats the spec uses, checked for real instead of ignored (ajv-formats not needed).
    this.ajv.addFormat('uuid', UUID_RE);
    this.ajv.addFormat('date-time', (s: string) => DATE_TIME_RE.test(s) && !Number.isNaN(Date.parse(s)));
    this.ajv.addFormat('uri', (s: string) => URI_RE.test(s) && URL.canParse(s));
    const main = JSON.parse(readFileSync(join(SPEC_DIR, 'OpenLineage.json'), 'utf8')) as { $id: string };
    this.ajv.addSchema(main);
    for (const file of readdirSync(join(SPEC_DIR, 'facets')).filter((f) => f.endsWith('.json')).sort()) {
      const schema = JSON.parse(readFileSync(join(SPEC_DIR, 'facets', file), 'utf8')) as { $id: string };
      this.ajv.addSchema(schema);
      this.facetIds.push(schema.$id);
    }
    this.ajv.addSchema(MODEL_FACET_SCHEMA as unknown as { $id: string });
    const compiled = this.ajv.getSchema(OPENLINEAGE_SPEC_URL);
    if (!compiled) throw new Error(`test: ${OPENLINEAGE_SPEC_URL} did not load`);
    this.event = compiled;
  }

  /** The loaded `$id` of a facet file, e.g. `facetId('NominalTimeRunFacet')`. */
  facetId(name: string): string {
    const id = this.facetIds.find((i) => i.endsWith(`/${name}.json`));
    if (!id) throw new Error(`test: no facet schema ${name} in ${SPEC_DIR}`);
    return id;
  }

  /**
   * Every schema error of an event: against OpenLineage.json as a whole, then each facet
   * (run, job, dataset, input, output) against the schema its `_schemaURL` points to.
   */
  errors(event: unknown): string[] {
    const out: string[] = [];
    if (!this.event(event)) out.push(...(this.event.errors ?? []).map((e) => `event${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
    for (const [path, f] of facetsOf(event)) {
      const url = (f as { _schemaURL?: unknown })._schemaURL;
      if (typeof url !== 'string') {
        out.push(`${path}: no _schemaURL`);
        continue;
      }
      let validate: ValidateFunction | undefined;
      try {
        validate = this.ajv.getSchema(url);
      } catch (err) {
        out.push(`${path}: _schemaURL ${url} does not resolve: ${(err as Error).message}`);
        continue;
      }
      if (!validate) {
        out.push(`${path}: _schemaURL ${url} names no loaded schema`);
        continue;
      }
      if (!validate(f)) out.push(...(validate.errors ?? []).map((e) => `${path}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
    }
    return out;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** [path, facet] of every facet in an event. */
function facetsOf(event: unknown): [string, unknown][] {
  const out: [string, unknown][] = [];
  const add = (path: string, facets: unknown) => {
    if (isObject(facets)) for (const [k, v] of Object.entries(facets)) out.push([`${path}.${k}`, v]);
  };
  if (!isObject(event)) return out;
  if (isObject(event.run)) add('run.facets', event.run.facets);
  if (isObject(event.job)) add('job.facets', event.job.facets);
  for (const kind of ['inputs', 'outputs'] as const) {
    const list = event[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((d: unknown, i) => {
      if (!isObject(d)) return;
      add(`${kind}[${i}].facets`, d.facets);
      add(`${kind}[${i}].inputFacets`, d.inputFacets);
      add(`${kind}[${i}].outputFacets`, d.outputFacets);
    });
  }
  return out;
}
