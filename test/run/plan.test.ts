import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDate, planPartitions, PlanError, type ListedObject, type PartitionSelection } from '../../src/run/plan.js';

const ROOT = 'warehouse/features';
const ALL: PartitionSelection = { kind: 'all' };

let counter = 0;
/** A listed object under ROOT with distinct size/etag/mtime so fields can be traced back. */
function obj(rel: string, root = ROOT): ListedObject {
  counter++;
  return { key: root ? `${root}/${rel}` : rel, size: 1000 + counter, etag: `"etag-${counter}"`, mtime: new Date(Date.UTC(2026, 0, 1, 0, 0, counter)) };
}

/** [dir, [outputName...]] per partition: the part of a plan most tests check. */
function shape(plan: ReturnType<typeof planPartitions>): [string, string[]][] {
  return plan.map((p) => [p.dir, p.files.map((f) => f.outputName)]);
}

function planError(fn: () => unknown): PlanError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlanError, `expected PlanError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a PlanError');
}

test('files are grouped by dt= folder, partitions and files sorted, listed fields carried over', () => {
  const listed = [
    obj('dt=2026-11-02/part-1.parquet'),
    obj('dt=2026-10-31/part-0.parquet'),
    obj('dt=2026-11-02/part-0.parquet'),
    obj('dt=2026-11-01/part-0.parquet'),
  ];
  const plan = planPartitions(listed, ROOT, 'dt', ALL);
  assert.deepEqual(plan.map((p) => p.value), ['2026-10-31', '2026-11-01', '2026-11-02']);
  assert.deepEqual(shape(plan), [
    ['dt=2026-10-31', ['part-0.parquet']],
    ['dt=2026-11-01', ['part-0.parquet']],
    ['dt=2026-11-02', ['part-0.parquet', 'part-1.parquet']],
  ]);
  // Every listed object appears exactly once with its own size, etag and mtime.
  const planned = plan.flatMap((p) => p.files);
  assert.equal(planned.length, listed.length);
  for (const o of listed) {
    const f = planned.find((x) => x.key === o.key);
    assert.ok(f, o.key);
    assert.equal(f.size, o.size);
    assert.equal(f.etag, o.etag);
    assert.equal(f.mtime, o.mtime.toISOString());
  }
  assert.deepEqual(plan[2]!.files.map((f) => f.key), [`${ROOT}/dt=2026-11-02/part-0.parquet`, `${ROOT}/dt=2026-11-02/part-1.parquet`]);
});

test('a root given with a trailing slash plans the same', () => {
  const listed = [obj('dt=2026-11-01/a.parquet'), obj('dt=2026-11-02/b.parquet')];
  assert.deepEqual(planPartitions(listed, `${ROOT}/`, 'dt', ALL), planPartitions(listed, ROOT, 'dt', ALL));
});

test('output names: part-<stem>.parquet, or the stem itself when it already starts with part-', () => {
  const plan = planPartitions(
    [obj('dt=2026-11-01/data_0.parquet'), obj('dt=2026-11-01/part-00007-abc.snappy.parquet')],
    ROOT,
    'dt',
    ALL,
  );
  assert.deepEqual(shape(plan), [['dt=2026-11-01', ['part-data_0.parquet', 'part-00007-abc.snappy.parquet']]]);
});

test("writers' side files and hidden folders are ignored", () => {
  const plan = planPartitions(
    [
      obj('dt=2026-11-01/part-0.parquet'),
      obj('dt=2026-11-01/_SUCCESS'),
      obj('dt=2026-11-01/_SUCCESS.parquet'),
      obj('dt=2026-11-01/.part-0.parquet.crc'),
      obj('dt=2026-11-01/.part-1.parquet'),
      obj('dt=2026-11-01/_temporary/0/part-9.parquet'),
      obj('dt=2026-11-01/.spark-staging/part-8.parquet'),
      obj('_temporary/dt=2026-11-02/part-0.parquet'),
      obj('_common_metadata'),
      obj('_metadata.parquet'),
    ],
    ROOT,
    'dt',
    ALL,
  );
  assert.deepEqual(shape(plan), [['dt=2026-11-01', ['part-0.parquet']]]);
});

test('non-.parquet files, objects outside the root and files outside partition folders are ignored', () => {
  const plan = planPartitions(
    [
      obj('dt=2026-11-01/part-0.parquet'),
      obj('dt=2026-11-01/part-0.csv'),
      obj('dt=2026-11-01/part-0.parquet.bak'),
      obj('dt=2026-11-01/README'),
      obj('loose.parquet'), // partitioned dataset: not in a partition folder
      obj('other=2026-11-03/part-0.parquet'), // another key's folder
      obj('dtx=2026-11-04/part-0.parquet'),
      obj('dt=2026-11-05/part-0.parquet', 'warehouse/features-old'), // sibling root sharing a prefix
    ],
    ROOT,
    'dt',
    ALL,
  );
  assert.deepEqual(shape(plan), [['dt=2026-11-01', ['part-0.parquet']]]);
});

test('a range selection is inclusive at both ends and compares the date part of the value', () => {
  const listed = ['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03', '2026-11-01T06'].map((d) =>
    obj(`dt=${d}/part-0.parquet`),
  );
  const plan = planPartitions(listed, ROOT, 'dt', { kind: 'range', from: '2026-10-31', to: '2026-11-02' });
  assert.deepEqual(plan.map((p) => p.value), ['2026-10-31', '2026-11-01', '2026-11-01T06', '2026-11-02']);
  // A single-day range.
  assert.deepEqual(
    planPartitions(listed, ROOT, 'dt', { kind: 'range', from: '2026-11-03', to: '2026-11-03' }).map((p) => p.value),
    ['2026-11-03'],
  );
  // A range that matches nothing plans nothing (the caller decides whether that is an error).
  assert.deepEqual(planPartitions(listed, ROOT, 'dt', { kind: 'range', from: '2027-01-01', to: '2027-01-31' }), []);
});

test('a values selection keeps exactly those partitions', () => {
  const listed = ['2026-10-31', '2026-11-01', '2026-11-02'].map((d) => obj(`dt=${d}/part-0.parquet`));
  const plan = planPartitions(listed, ROOT, 'dt', { kind: 'values', values: ['2026-11-02', '2026-10-31'] });
  assert.deepEqual(plan.map((p) => p.value), ['2026-10-31', '2026-11-02']);
});

test('a values selection with a value that has no files is a PlanError naming it', () => {
  const listed = [
    obj('dt=2026-10-31/part-0.parquet'),
    obj('dt=2026-11-01/_SUCCESS'), // a folder without Parquet files does not count
    obj('dt=2026-11-01/_temporary/part-0.parquet'),
  ];
  const err = planError(() =>
    planPartitions(listed, ROOT, 'dt', { kind: 'values', values: ['2026-10-31', '2026-11-01', '2026-12-25'] }),
  );
  assert.match(err.message, /2026-11-01/);
  assert.match(err.message, /2026-12-25/);
  assert.doesNotMatch(err.message, /2026-10-31/);
  assert.ok(err.message.includes(ROOT), err.message);
});

test('URL-encoded partition values are decoded; the folder name is kept as listed', () => {
  const listed = [obj('dt=2026-11-01%2006%3A00%3A00/part-0.parquet'), obj('region=eu%2Fwest/part-0.parquet')];
  const plan = planPartitions(listed, ROOT, 'dt', ALL);
  assert.equal(plan.length, 1);
  assert.equal(plan[0]!.value, '2026-11-01 06:00:00');
  assert.equal(plan[0]!.dir, 'dt=2026-11-01%2006%3A00%3A00');

  const regions = planPartitions(listed, ROOT, 'region', { kind: 'values', values: ['eu/west'] });
  assert.deepEqual(regions.map((p) => [p.value, p.dir]), [['eu/west', 'region=eu%2Fwest']]);
});

test('files in nested folders get unique output names that keep the folder', () => {
  const plan = planPartitions(
    [
      obj('dt=2026-11-01/hour=01/part-0.parquet'),
      obj('dt=2026-11-01/hour=02/part-0.parquet'),
      obj('dt=2026-11-01/part-0.parquet'),
      obj('dt=2026-11-01/a/b/c.parquet'),
    ],
    ROOT,
    'dt',
    ALL,
  );
  const names = plan[0]!.files.map((f) => f.outputName);
  assert.equal(new Set(names).size, 4);
  assert.deepEqual([...names].sort(), ['part-0.parquet', 'part-a-b-c.parquet', 'part-hour=01-part-0.parquet', 'part-hour=02-part-0.parquet']);
});

test('two input files mapping to the same output name are a PlanError naming the name', () => {
  const nested = planError(() =>
    planPartitions([obj('dt=2026-11-01/a/b.parquet'), obj('dt=2026-11-01/a-b.parquet')], ROOT, 'dt', ALL),
  );
  assert.match(nested.message, /dt=2026-11-01\/part-a-b\.parquet/);
  // `0.parquet` becomes part-0.parquet, as does an existing part-0.parquet.
  const prefixed = planError(() =>
    planPartitions([obj('dt=2026-11-01/0.parquet'), obj('dt=2026-11-01/part-0.parquet')], ROOT, 'dt', ALL),
  );
  assert.match(prefixed.message, /part-0\.parquet/);
  // The same names in different partitions do not collide.
  assert.equal(planPartitions([obj('dt=2026-11-01/a/b.parquet'), obj('dt=2026-11-02/a-b.parquet')], ROOT, 'dt', ALL).length, 2);
});

test('an unpartitioned dataset is one partition with a null value and an empty dir', () => {
  const plan = planPartitions(
    [obj('b.parquet'), obj('a.parquet'), obj('sub/c.parquet'), obj('_SUCCESS'), obj('notes.txt'), obj('dt=2026-11-01/d.parquet')],
    ROOT,
    undefined,
    ALL,
  );
  assert.equal(plan.length, 1);
  assert.equal(plan[0]!.value, null);
  assert.equal(plan[0]!.dir, '');
  assert.deepEqual(plan[0]!.files.map((f) => f.key), [
    `${ROOT}/a.parquet`,
    `${ROOT}/b.parquet`,
    `${ROOT}/dt=2026-11-01/d.parquet`,
    `${ROOT}/sub/c.parquet`,
  ]);
  assert.deepEqual(plan[0]!.files.map((f) => f.outputName), [
    'part-a.parquet',
    'part-b.parquet',
    'part-dt=2026-11-01-d.parquet',
    'part-sub-c.parquet',
  ]);
});

test('a dataset at the root of its store (root key "") plans every file', () => {
  // `s3://bucket` and `s3://bucket/` resolve to the key ''; '' is a prefix of every key.
  const listed = [obj('dt=2026-11-01/part-0.parquet', ''), obj('dt=2026-11-02/part-0.parquet', '')];
  assert.deepEqual(listed.map((o) => o.key), ['dt=2026-11-01/part-0.parquet', 'dt=2026-11-02/part-0.parquet']);
  const plan = planPartitions(listed, '', 'dt', ALL);
  assert.deepEqual(plan.map((p) => p.value), ['2026-11-01', '2026-11-02']);
});

test('an empty listing plans no partitions', () => {
  assert.deepEqual(planPartitions([], ROOT, 'dt', ALL), []);
  assert.deepEqual(planPartitions([], ROOT, undefined, ALL), []);
});

test('checkDate accepts real calendar days and returns them', () => {
  for (const d of ['2026-01-01', '2026-12-31', '2024-02-29', '2000-02-29']) assert.equal(checkDate(d, '--from'), d);
});

test('checkDate rejects impossible days and non-canonical forms, naming the option and the value', () => {
  for (const bad of ['2026-02-30', '2026-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-1-1', '2026-01-1', '26-01-01', '2026/01/01', '2026-01-01T00:00', ' 2026-01-01', '']) {
    const err = planError(() => checkDate(bad, '--to'));
    assert.match(err.message, /--to/);
    assert.ok(err.message.includes(JSON.stringify(bad)), err.message);
  }
});

test('selecting partitions of a dataset without a partition key is a PlanError saying so, not the whole input', () => {
  const listed = [obj('a.parquet'), obj('dt=2026-12-03/b.parquet')];
  const values = planError(() => planPartitions(listed, ROOT, undefined, { kind: 'values', values: ['2026-12-03'] }));
  assert.match(values.message, /^plan: the job has no input\.partitionKey, so --partition\/--from\/--to cannot select partitions/);
  assert.ok(values.message.includes('--partition "2026-12-03"'), values.message);
  assert.ok(values.message.includes(ROOT), values.message);
  assert.doesNotMatch(values.message, /undefined/);
  // A range used to be ignored: every file was planned.
  const range = planError(() => planPartitions(listed, ROOT, undefined, { kind: 'range', from: '2026-12-01', to: '2026-12-03' }));
  assert.match(range.message, /no input\.partitionKey/);
  assert.ok(range.message.includes('--from 2026-12-01 --to 2026-12-03'), range.message);
  assert.doesNotMatch(range.message, /undefined/);
  // Also on an empty listing: the selection is wrong whatever the input holds.
  assert.throws(() => planPartitions([], ROOT, undefined, { kind: 'range', from: '2026-12-01', to: '2026-12-03' }), PlanError);
  // Without a selection the unpartitioned dataset still plans.
  assert.equal(planPartitions(listed, ROOT, undefined, ALL)[0]!.files.length, 2);
});

test('a missing partition value is named with its key', () => {
  const err = planError(() => planPartitions([obj('dt=2026-12-02/part-0.parquet')], ROOT, 'dt', { kind: 'values', values: ['2026-12-03'] }));
  assert.equal(err.message, `plan: no Parquet files for dt=2026-12-03 under ${ROOT}`);
});
