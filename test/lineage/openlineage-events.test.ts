/**
 * Every event the lineage builders produce is validated against the OpenLineage 2-0-2
 * JSON Schemas (and each facet against the schema its _schemaURL names), then checked for
 * the values a consumer like Marquez keys on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { datasetOf } from '../../src/lineage/dataset-naming.js';
import { FACET_SCHEMA_URLS, MODEL_FACET_SCHEMA_URL, RUN_EVENT_SCHEMA_URL } from '../../src/lineage/facets.js';
import { partitionWindow, runWindow } from '../../src/lineage/nominal-time.js';
import {
  buildFinishEvents,
  buildRunEvents,
  buildStartEvent,
  deriveSchemas,
  partitionRunId,
  type LineageOptions,
  type RunEvent,
} from '../../src/lineage/openlineage-events.js';
import { manifest, plan, RUN_ID, SHA, spec, unplannedManifest } from './fixtures.js';
import { OpenLineageValidator } from './openlineage-schema.js';

const validator = new OpenLineageValidator();
const OPTIONS: LineageOptions = { producer: 'https://github.com/batchscore/batchscore/tree/v0.1.0', engineVersion: '0.1.0' };

function assertValid(events: readonly RunEvent[]): void {
  for (const e of events) {
    // Through JSON, as consumers receive it: undefined fields vanish, nothing else may change.
    const wire: unknown = JSON.parse(JSON.stringify(e));
    assert.deepEqual(validator.errors(wire), [], `${e.eventType} ${e.job.name} ${e.run.runId}`);
  }
}

const byJob = (events: readonly RunEvent[], name: string) => events.filter((e) => e.job.name === name);

describe('OpenLineage events', () => {
  it('START (from the run plan): job, run id, datasets, nominal time, job type, model facet', () => {
    const start = buildStartEvent(plan(), '2026-11-04T02:00:01.000Z', OPTIONS);
    assertValid([start]);
    assert.equal(start.eventType, 'START');
    assert.equal(start.eventTime, '2026-11-04T02:00:01.000Z');
    assert.equal(start.schemaURL, RUN_EVENT_SCHEMA_URL);
    assert.equal(start.producer, OPTIONS.producer);
    assert.equal(start.run.runId, RUN_ID);
    assert.deepEqual([start.job.namespace, start.job.name], ['scoring', 'churn-nightly']);
    assert.deepEqual(start.job.facets.jobType && [start.job.facets.jobType.processingType, start.job.facets.jobType.integration, start.job.facets.jobType.jobType], ['BATCH', 'BATCHSCORE', 'JOB']);
    assert.deepEqual(start.run.facets.nominalTime && [start.run.facets.nominalTime.nominalStartTime, start.run.facets.nominalTime.nominalEndTime], ['2026-11-01T00:00:00.000Z', '2026-11-04T00:00:00.000Z']);
    assert.deepEqual(start.run.facets.batchscore_model, {
      _producer: OPTIONS.producer,
      _schemaURL: MODEL_FACET_SCHEMA_URL,
      name: 'churn',
      version: 3,
      alias: 'production',
      ref: 'churn@production',
      sha256: SHA,
      size: 1234,
      uri: 's3://models/churn/versions/3/model.onnx',
    });
    assert.equal(start.run.facets.processing_engine?.version, '0.1.0');
    assert.deepEqual(start.inputs.map((d) => [d.namespace, d.name]), [['s3://lake', 'features/churn']]);
    assert.deepEqual(start.outputs.map((d) => [d.namespace, d.name]), [['s3://lake', 'scores/churn']]);
    assert.deepEqual(start.inputs[0]?.facets?.schema?.fields.map((f) => f.name), ['f0', 'f1', 'id']);
    assert.deepEqual(start.outputs[0]?.facets?.schema?.fields.map((f) => [f.name, f.type]), [['id', undefined], ['probability', 'float32'], ['probabilities_0', 'float32'], ['probabilities_1', 'float32']]);
    assert.equal(start.inputs[0]?.inputFacets, undefined, 'no statistics before anything was read');
  });

  it('COMPLETE: one child run per partition (parent facet, own nominal time), statistics over the run', () => {
    const events = buildFinishEvents(manifest(), OPTIONS);
    assertValid(events);
    const children = byJob(events, 'churn-nightly.partition');
    assert.equal(children.length, 6);
    assert.deepEqual(children.map((e) => e.eventType), ['START', 'COMPLETE', 'START', 'COMPLETE', 'START', 'COMPLETE']);
    const first = children[1]!;
    assert.equal(first.run.runId, partitionRunId(RUN_ID, 'dt=2026-11-01'));
    assert.deepEqual(first.run.facets.parent && { run: first.run.facets.parent.run, job: first.run.facets.parent.job }, {
      run: { runId: RUN_ID },
      job: { namespace: 'scoring', name: 'churn-nightly' },
    });
    assert.equal(first.run.facets.nominalTime?.nominalStartTime, '2026-11-01T00:00:00.000Z');
    assert.equal(first.run.facets.nominalTime?.nominalEndTime, '2026-11-02T00:00:00.000Z');
    assert.equal(first.job.facets.jobType?.jobType, 'TASK');
    const outStats = first.outputs[0]?.outputFacets?.outputStatistics;
    assert.deepEqual(outStats && [outStats.rowCount, outStats.size, outStats.fileCount], [1000, 1600, 2]);

    const end = events[events.length - 1]!;
    assert.equal(end.eventType, 'COMPLETE');
    assert.equal(end.run.runId, RUN_ID);
    assert.equal(end.eventTime, '2026-11-04T02:05:00.000Z');
    assert.equal(end.run.facets.errorMessage, undefined);
    const runOut = end.outputs[0]?.outputFacets?.outputStatistics;
    assert.deepEqual(runOut && [runOut.rowCount, runOut.size, runOut.fileCount], [3000, 4800, 6]);
    const runIn = end.inputs[0]?.inputFacets?.inputStatistics;
    assert.deepEqual(runIn && [runIn.rowCount, runIn.size, runIn.fileCount], [3000, 6000, 6]);
  });

  it('FAIL: the failed partition and the run carry errorMessage; nothing counted as written for it', () => {
    const events = buildFinishEvents(manifest(['succeeded', 'failed', 'failed'], 1), OPTIONS);
    assertValid(events);
    const failedChild = byJob(events, 'churn-nightly.partition').find((e) => e.eventType === 'FAIL' && e.run.runId === partitionRunId(RUN_ID, 'dt=2026-11-02'));
    assert.ok(failedChild);
    assert.match(failedChild.run.facets.errorMessage?.message ?? '', /^ParquetError: parquet: cannot read s3:\/\/lake\/features\/churn\/dt=2026-11-02\/part-1\.parquet/);
    assert.equal(failedChild.run.facets.errorMessage?.programmingLanguage, 'JavaScript');
    assert.deepEqual(failedChild.outputs, []);
    const end = events[events.length - 1]!;
    assert.equal(end.eventType, 'FAIL');
    assert.match(end.run.facets.errorMessage?.message ?? '', /^2 of 3 partitions failed\nParquetError: dt=2026-11-02: parquet: cannot read/);
    assert.equal(end.outputs[0]?.outputFacets?.outputStatistics?.fileCount, 2, 'only the published partition counts');
  });

  it('partial runs COMPLETE with an errorMessage; superseded partitions ABORT', () => {
    const events = buildFinishEvents(manifest(['succeeded', 'failed', 'superseded'], 1), OPTIONS);
    assertValid(events);
    const end = events[events.length - 1]!;
    assert.equal(end.eventType, 'COMPLETE');
    assert.match(end.run.facets.errorMessage?.message ?? '', /^1 of 3 partitions failed \(within maxFailedPartitions=1\)/);
    assert.deepEqual(byJob(events, 'churn-nightly.partition').map((e) => e.eventType), ['START', 'COMPLETE', 'START', 'FAIL', 'START', 'ABORT']);
  });

  it('a run that failed before planning: START then FAIL, no statistics, no model facet', () => {
    const events = buildRunEvents(unplannedManifest(), OPTIONS);
    assertValid(events);
    assert.deepEqual(events.map((e) => e.eventType), ['START', 'FAIL']);
    const fail = events[1]!;
    assert.equal(fail.run.facets.batchscore_model, undefined);
    assert.match(fail.run.facets.errorMessage?.message ?? '', /^the run failed before scoring\nRegistryError: registry: model "churn" has no alias "production"/);
    assert.equal(fail.outputs[0]?.outputFacets, undefined);
    assert.equal(fail.run.facets.nominalTime?.nominalStartTime, '2026-11-01T00:00:00.000Z', 'the selection still names the window');
  });

  it('uses the exact _schemaURL of every facet schema file', () => {
    const names: Record<keyof typeof FACET_SCHEMA_URLS, string> = {
      nominalTime: 'NominalTimeRunFacet',
      parent: 'ParentRunFacet',
      errorMessage: 'ErrorMessageRunFacet',
      processingEngine: 'ProcessingEngineRunFacet',
      jobType: 'JobTypeJobFacet',
      schema: 'SchemaDatasetFacet',
      inputStatistics: 'InputStatisticsInputDatasetFacet',
      outputStatistics: 'OutputStatisticsOutputDatasetFacet',
    };
    for (const [key, name] of Object.entries(names)) {
      assert.equal(FACET_SCHEMA_URLS[key as keyof typeof FACET_SCHEMA_URLS], `${validator.facetId(name)}#/$defs/${name}`);
    }
  });

  it('the validator is not vacuous: broken events and facets are reported', () => {
    const start = JSON.parse(JSON.stringify(buildStartEvent(plan(), '2026-11-04T02:00:01.000Z', OPTIONS))) as Record<string, any>;
    start.run.runId = 'run-1';
    start.eventTime = 'yesterday';
    delete start.run.facets.nominalTime._producer;
    start.job.facets.jobType._schemaURL = 'https://openlineage.io/spec/facets/9-9-9/Nope.json#/$defs/Nope';
    start.run.facets.batchscore_model.sha256 = 'not-a-hash';
    start.job.facets.jobType.processingType = 7;
    const errors = validator.errors(start).join('\n');
    assert.match(errors, /event\/run\/runId must match format "uuid"/);
    assert.match(errors, /event\/eventTime must match format "date-time"/);
    assert.match(errors, /_producer/);
    assert.match(errors, /job\.facets\.jobType: _schemaURL .*Nope/);
    assert.match(errors, /run\.facets\.batchscore_model\/sha256 must match pattern/);
  });
});

test('dataset naming follows the OpenLineage naming spec', () => {
  assert.deepEqual(datasetOf('s3://lake/features/churn/'), { namespace: 's3://lake', name: 'features/churn' });
  assert.deepEqual(datasetOf('s3://lake'), { namespace: 's3://lake', name: '/' });
  assert.deepEqual(datasetOf('/data/scores/'), { namespace: 'file', name: '/data/scores' });
  assert.deepEqual(datasetOf('file:///data/in%20put'), { namespace: 'file', name: '/data/in put' });
  assert.deepEqual(datasetOf('demo-data/input', '/home/u/work'), { namespace: 'file', name: join('/home/u/work', 'demo-data/input') });
});

test('local datasets in events: namespace "file", absolute path as name', () => {
  const s = spec({ input: { uri: 'demo-data/input', partitionKey: 'dt' }, output: { uri: '/srv/scores/' } });
  const start = buildStartEvent({ ...plan(s) }, '2026-11-04T02:00:01.000Z', { ...OPTIONS, cwd: '/home/u' });
  assertValid([start]);
  assert.deepEqual(start.inputs.map((d) => [d.namespace, d.name]), [['file', '/home/u/demo-data/input']]);
  assert.deepEqual(start.outputs.map((d) => [d.namespace, d.name]), [['file', '/srv/scores']]);
});

test('nominal time: dates, hours and months, in the job time zone, across DST', () => {
  assert.deepEqual(partitionWindow('2026-11-01'), { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' });
  assert.deepEqual(partitionWindow('2026-11-01', 'Europe/Paris'), { start: '2026-10-31T23:00:00.000Z', end: '2026-11-01T23:00:00.000Z' });
  // 2026-03-29 in Paris has 23 hours (clocks go forward at 02:00).
  assert.deepEqual(partitionWindow('2026-03-29', 'Europe/Paris'), { start: '2026-03-28T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z' });
  assert.deepEqual(partitionWindow('2026-11-01T03'), { start: '2026-11-01T03:00:00.000Z', end: '2026-11-01T04:00:00.000Z' });
  assert.deepEqual(partitionWindow('2026-12'), { start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' });
  for (const v of ['eu', '2026-02-30', '2026-13', null]) assert.equal(partitionWindow(v), undefined);
  assert.deepEqual(runWindow([], { kind: 'values', values: ['2026-11-03', '2026-11-01'] }), { start: '2026-11-01T00:00:00.000Z', end: '2026-11-04T00:00:00.000Z' });
  assert.equal(runWindow([{ value: '2026-11-01' }, { value: 'eu' }], { kind: 'all' }), undefined);
  assert.equal(runWindow([], { kind: 'all' }), undefined);
  const paris = buildStartEvent(plan(spec({ schedule: { cron: '0 2 * * *', tz: 'Europe/Paris' } })), '2026-11-04T02:00:01.000Z', OPTIONS);
  assert.equal(paris.run.facets.nominalTime?.nominalStartTime, '2026-10-31T23:00:00.000Z', 'the schedule tz is the default');
});

test('child run ids: UUID v5, stable, distinct per partition', () => {
  const a = partitionRunId(RUN_ID, 'dt=2026-11-01');
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(partitionRunId(RUN_ID, 'dt=2026-11-01'), a);
  assert.notEqual(partitionRunId(RUN_ID, 'dt=2026-11-02'), a);
  assert.throws(() => partitionRunId('nope', 'x'), /lineage: run id "nope" is not a UUID/);
});

test('schemas: per-feature model inputs name the features when the spec does not', () => {
  const perFeature = { uri: 'm', sha256: SHA, inputs: [{ name: 'age', elemType: 'float32', shape: ['N', 1] }, { name: 'tenure', elemType: 'float32', shape: ['N', 1] }], outputs: [{ name: 'label', elemType: 'int64', shape: ['N'] }, { name: 'probabilities', elemType: 'float32', shape: ['N', 'C'] }] };
  const s = { ...spec(), features: undefined };
  const { input, output } = deriveSchemas(s, perFeature);
  assert.deepEqual(input.map((f) => f.name), ['age', 'tenure', 'id']);
  assert.deepEqual(output.map((f) => f.name), ['id', 'label', 'probabilities_<i>']);
});
