import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJobSpec, SpecError } from '../../src/spec/job-spec.js';

/** The smallest valid spec; every test starts from a fresh copy. */
function minimal(): Record<string, unknown> {
  return {
    name: 'nightly-churn',
    input: { uri: 's3://bucket/features' },
    model: { uri: 's3://bucket/models/churn.onnx' },
    output: { uri: 's3://bucket/scores' },
  };
}

/** Parse `raw`, expect a SpecError, and return it for further checks. */
function specError(raw: unknown): SpecError {
  try {
    parseJobSpec(raw);
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    assert.equal(err.name, 'SpecError');
    return err;
  }
  assert.fail(`parseJobSpec accepted ${JSON.stringify(raw)}`);
}

/** The error names `field` (both as property and in the message) and the message contains every `quoted` text. */
function expectSpecError(raw: unknown, field: string, ...quoted: string[]): SpecError {
  const err = specError(raw);
  assert.equal(err.field, field, `field of: ${err.message}`);
  assert.ok(err.message.includes(field), `message should name ${field}: ${err.message}`);
  for (const q of quoted) assert.ok(err.message.includes(q), `message should contain ${q}: ${err.message}`);
  return err;
}

test('a minimal spec gets every default', () => {
  const raw = minimal();
  const spec = parseJobSpec(raw);
  assert.deepEqual(spec, {
    name: 'nightly-churn',
    namespace: 'batchscore',
    input: { uri: 's3://bucket/features' },
    model: { uri: 's3://bucket/models/churn.onnx' },
    passthrough: [],
    nulls: 'error',
    nonFinite: 'error',
    output: { uri: 's3://bucket/scores', compression: 'snappy' },
    batchSize: 8192,
    maxFailedPartitions: 0,
  });
  // Optional fields that were not given stay absent (not present as undefined).
  assert.equal('features' in spec, false);
  assert.equal('partitionKey' in spec.input, false);
  assert.equal('sha256' in spec.model, false);
  assert.equal('schedule' in spec, false);
});

test('explicit values are kept as given', () => {
  const sha = 'ab'.repeat(32);
  const spec = parseJobSpec({
    ...minimal(),
    namespace: 'risk',
    description: 'free text is allowed and dropped',
    input: { uri: 'data/in', partitionKey: 'dt', format: 'parquet' },
    model: { uri: 'm.onnx', sha256: sha },
    features: ['f0', 'f1', 'f 2'],
    passthrough: ['id'],
    nulls: { impute: { f0: -1, f1: 0.5 } },
    nonFinite: 'as-null',
    output: { uri: 'data/out', compression: 'zstd' },
    batchSize: 1,
    maxFailedPartitions: 2,
  });
  assert.equal(spec.namespace, 'risk');
  assert.deepEqual(spec.input, { uri: 'data/in', partitionKey: 'dt' });
  assert.deepEqual(spec.model, { uri: 'm.onnx', sha256: sha });
  assert.deepEqual(spec.features, ['f0', 'f1', 'f 2']);
  assert.deepEqual(spec.passthrough, ['id']);
  assert.deepEqual(spec.nulls, { impute: { f0: -1, f1: 0.5 } });
  assert.equal(spec.nonFinite, 'as-null');
  assert.deepEqual(spec.output, { uri: 'data/out', compression: 'zstd' });
  assert.equal(spec.batchSize, 1);
  assert.equal(spec.maxFailedPartitions, 2);
  assert.equal('description' in spec, false);
});

test('every compression codec and null/nonFinite policy word is accepted', () => {
  for (const compression of ['snappy', 'zstd', 'lz4', 'gzip', 'none']) {
    assert.equal(parseJobSpec({ ...minimal(), output: { uri: 'o', compression } }).output.compression, compression);
  }
  for (const nulls of ['error', 'nan']) assert.equal(parseJobSpec({ ...minimal(), nulls }).nulls, nulls);
  for (const nonFinite of ['error', 'keep', 'as-null']) {
    assert.equal(parseJobSpec({ ...minimal(), nonFinite }).nonFinite, nonFinite);
  }
});

test('the spec must be an object', () => {
  for (const raw of [null, [], 'spec', 42]) expectSpecError(raw, '(root)', JSON.stringify(raw));
});

test('an unknown field is named with its full path', () => {
  expectSpecError({ ...minimal(), bachSize: 10 }, 'bachSize', 'unknown field');
  expectSpecError({ ...minimal(), input: { uri: 'i', partition: 'dt' } }, 'input.partition', 'unknown field');
  expectSpecError({ ...minimal(), model: { uri: 'm', sha: 'x' } }, 'model.sha', 'unknown field');
  expectSpecError({ ...minimal(), output: { uri: 'o', codec: 'zstd' } }, 'output.codec', 'unknown field');
});

test('a bad job name is refused and quoted', () => {
  expectSpecError({ ...minimal(), name: 'my job' }, 'name', '"my job"');
  expectSpecError({ ...minimal(), name: '-leading-dash' }, 'name', '"-leading-dash"');
  expectSpecError({ ...minimal(), name: 'a/b' }, 'name', '"a/b"');
  expectSpecError({ ...minimal(), name: 'x'.repeat(129) }, 'name');
  expectSpecError({ ...minimal(), name: '' }, 'name', '""');
  expectSpecError({ ...minimal(), name: 7 }, 'name', '7');
  const { name: _name, ...noName } = minimal();
  expectSpecError(noName, 'name', 'undefined');
  // The edges of the allowed alphabet and length are accepted.
  assert.equal(parseJobSpec({ ...minimal(), name: 'A.b_c-9' }).name, 'A.b_c-9');
  assert.equal(parseJobSpec({ ...minimal(), name: 'x'.repeat(128) }).name.length, 128);
});

test('a missing or empty input.uri is named', () => {
  expectSpecError({ ...minimal(), input: {} }, 'input.uri', 'undefined');
  expectSpecError({ ...minimal(), input: { uri: '' } }, 'input.uri', '""');
  expectSpecError({ ...minimal(), input: { uri: 5 } }, 'input.uri', '5');
  const { input: _input, ...noInput } = minimal();
  expectSpecError(noInput, 'input', 'undefined');
  expectSpecError({ ...minimal(), input: 'data/in' }, 'input', '"data/in"');
  expectSpecError({ ...minimal(), model: {} }, 'model', 'exactly one of "uri" and "ref"');
  expectSpecError({ ...minimal(), model: { uri: 'm.onnx', ref: 'churn@production' } }, 'model', 'exactly one of "uri" and "ref"');
  expectSpecError({ ...minimal(), model: { uri: '' } }, 'model.uri', '""');
  expectSpecError({ ...minimal(), model: { ref: 'Churn@@x' } }, 'model.ref', 'Churn@@x');
  assert.deepEqual(parseJobSpec({ ...minimal(), model: { ref: 'churn@production', registry: 's3://models' } }).model, { ref: 'churn@production', registry: 's3://models' });
  expectSpecError({ ...minimal(), output: {} }, 'output.uri');
});

test('a bad input.format or partitionKey is named and quoted', () => {
  expectSpecError({ ...minimal(), input: { uri: 'i', format: 'csv' } }, 'input.format', '"csv"');
  expectSpecError({ ...minimal(), input: { uri: 'i', partitionKey: 'd-t' } }, 'input.partitionKey', '"d-t"');
  expectSpecError({ ...minimal(), input: { uri: 'i', partitionKey: '1dt' } }, 'input.partitionKey', '"1dt"');
});

test('a bad compression is named and quoted', () => {
  expectSpecError({ ...minimal(), output: { uri: 'o', compression: 'brotli' } }, 'output.compression', '"brotli"');
  expectSpecError({ ...minimal(), output: { uri: 'o', compression: 'SNAPPY' } }, 'output.compression', '"SNAPPY"');
  expectSpecError({ ...minimal(), output: { uri: 'o', compression: 1 } }, 'output.compression', 'got 1');
});

test('a bad model.sha256 is named and quoted', () => {
  expectSpecError({ ...minimal(), model: { uri: 'm', sha256: 'AB'.repeat(32) } }, 'model.sha256', `"${'AB'.repeat(32)}"`);
  expectSpecError({ ...minimal(), model: { uri: 'm', sha256: 'abc' } }, 'model.sha256', '"abc"');
});

test('bad nulls and nonFinite policies are named and quoted', () => {
  expectSpecError({ ...minimal(), nulls: 'zero' }, 'nulls', '"zero"');
  expectSpecError({ ...minimal(), nulls: { impute: { f0: 1 }, extra: true } }, 'nulls');
  expectSpecError({ ...minimal(), nulls: { impute: [1] } }, 'nulls', '[1]');
  expectSpecError({ ...minimal(), nonFinite: 'drop' }, 'nonFinite', '"drop"');
});

test('an impute value that is not a finite number is named by column and quoted', () => {
  expectSpecError({ ...minimal(), nulls: { impute: { f0: 1, f1: 'NaN' } } }, 'nulls.impute.f1', '"NaN"');
  expectSpecError({ ...minimal(), nulls: { impute: { f0: null } } }, 'nulls.impute.f0', 'null');
  expectSpecError({ ...minimal(), nulls: { impute: { f0: '0' } } }, 'nulls.impute.f0', '"0"');
  expectSpecError({ ...minimal(), nulls: { impute: { f0: Number.NaN } } }, 'nulls.impute.f0');
  expectSpecError({ ...minimal(), nulls: { impute: { f0: -Infinity } } }, 'nulls.impute.f0');
});

test('an impute column that is not among the features is named', () => {
  expectSpecError(
    { ...minimal(), features: ['f0', 'f1'], nulls: { impute: { f0: 0, f9: 1 } } },
    'nulls.impute.f9',
    'not one of the features',
  );
  // Without `features` (model input names are used) the impute columns cannot be checked here.
  assert.deepEqual(parseJobSpec({ ...minimal(), nulls: { impute: { f9: 1 } } }).nulls, { impute: { f9: 1 } });
});

test('batchSize must be an integer from 1 to 1048576', () => {
  expectSpecError({ ...minimal(), batchSize: 0 }, 'batchSize', 'got 0');
  expectSpecError({ ...minimal(), batchSize: 1.5 }, 'batchSize', 'got 1.5');
  expectSpecError({ ...minimal(), batchSize: '8' }, 'batchSize', 'got "8"');
  expectSpecError({ ...minimal(), batchSize: -3 }, 'batchSize', 'got -3');
  expectSpecError({ ...minimal(), batchSize: 1_048_577 }, 'batchSize', 'got 1048577');
  expectSpecError({ ...minimal(), batchSize: null }, 'batchSize', 'got null');
  assert.equal(parseJobSpec({ ...minimal(), batchSize: 1_048_576 }).batchSize, 1_048_576);
  expectSpecError({ ...minimal(), maxFailedPartitions: -1 }, 'maxFailedPartitions', 'got -1');
  expectSpecError({ ...minimal(), maxFailedPartitions: 0.5 }, 'maxFailedPartitions', 'got 0.5');
});

test('maxBadRowsFraction must be a number from 0 up to (not including) 1; 0 is the same as absent', () => {
  assert.equal(parseJobSpec({ ...minimal(), maxBadRowsFraction: 0.01 }).maxBadRowsFraction, 0.01);
  assert.equal('maxBadRowsFraction' in parseJobSpec({ ...minimal(), maxBadRowsFraction: 0 }), false);
  assert.equal('maxBadRowsFraction' in parseJobSpec(minimal()), false);
  expectSpecError({ ...minimal(), maxBadRowsFraction: 1 }, 'maxBadRowsFraction', 'got 1');
  expectSpecError({ ...minimal(), maxBadRowsFraction: -0.1 }, 'maxBadRowsFraction', 'got -0.1');
  expectSpecError({ ...minimal(), maxBadRowsFraction: '1%' }, 'maxBadRowsFraction', 'got "1%"');
});

test('a value that JSON.parse turns into Infinity is quoted as written, not as null', () => {
  // `1e999` is valid JSON and parses to Infinity; the message must not claim the value was null.
  const raw = JSON.parse('{"name":"j","input":{"uri":"i"},"model":{"uri":"m"},"output":{"uri":"o"},"batchSize":1e999}') as unknown;
  const err = expectSpecError(raw, 'batchSize');
  assert.doesNotMatch(err.message, /got null/);
  assert.match(err.message, /Infinity/);
});

test('duplicate and bad column names are named by index', () => {
  expectSpecError({ ...minimal(), features: ['a', 'b', 'a'] }, 'features[2]', 'duplicate', '"a"');
  expectSpecError({ ...minimal(), passthrough: ['id', 'id'] }, 'passthrough[1]', 'duplicate', '"id"');
  expectSpecError({ ...minimal(), features: ['a', ''] }, 'features[1]', '""');
  expectSpecError({ ...minimal(), features: ['a', 3] }, 'features[1]', '3');
  expectSpecError({ ...minimal(), features: ['a/b'] }, 'features[0]', '"a/b"');
  expectSpecError({ ...minimal(), features: 'a' }, 'features', '"a"');
  expectSpecError({ ...minimal(), features: [] }, 'features', '[]');
});

test('output.uri equal to input.uri (also up to trailing slashes) is refused and quoted', () => {
  expectSpecError({ ...minimal(), output: { uri: 's3://bucket/features' } }, 'output.uri', '"s3://bucket/features"');
  expectSpecError({ ...minimal(), output: { uri: 's3://bucket/features//' } }, 'output.uri', '"s3://bucket/features//"');
  expectSpecError(
    { ...minimal(), input: { uri: 'data/in/' }, output: { uri: 'data/in' } },
    'output.uri',
    '"data/in"',
  );
  // A sibling whose name merely starts with the input's is fine.
  assert.equal(parseJobSpec({ ...minimal(), output: { uri: 's3://bucket/features-scored' } }).output.uri, 's3://bucket/features-scored');
});

test('the partition key may not be a passthrough column', () => {
  expectSpecError(
    { ...minimal(), input: { uri: 'i', partitionKey: 'dt' }, passthrough: ['id', 'dt'] },
    'passthrough',
    '"dt"',
  );
  // Without a partition key the same column is an ordinary passthrough column.
  assert.deepEqual(parseJobSpec({ ...minimal(), passthrough: ['id', 'dt'] }).passthrough, ['id', 'dt']);
});

/** `minimal()` with a partition key and `schedule`. */
function scheduled(schedule: Record<string, unknown>): Record<string, unknown> {
  return { ...minimal(), input: { uri: 's3://bucket/features', partitionKey: 'dt' }, schedule };
}

test('a schedule gets its defaults; 5- and 6-field patterns and IANA zones are accepted', () => {
  assert.deepEqual(parseJobSpec(scheduled({ cron: '0 2 * * *' })).schedule, { cron: '0 2 * * *', tz: 'UTC', offsetDays: -1, catchUp: 3 });
  assert.deepEqual(
    parseJobSpec(scheduled({ cron: '0 30 2 * * *', tz: 'Europe/Paris', offsetDays: 0, catchUp: 0 })).schedule,
    { cron: '0 30 2 * * *', tz: 'Europe/Paris', offsetDays: 0, catchUp: 0 },
  );
  for (const cron of ['*/15 * * * *', '0 6 * * MON-FRI', '0 0 29 2 *', '0 0 L * *']) {
    assert.equal(parseJobSpec(scheduled({ cron, tz: 'America/New_York' })).schedule?.cron, cron);
  }
});

test("a cron pattern cron-parser refuses is named with cron-parser's reason and quoted", () => {
  // The exact text: what `batchscore scheduler` prints before exiting 2.
  const err = expectSpecError(scheduled({ cron: '99 99 * * *' }), 'schedule.cron');
  assert.equal(err.message, 'spec: schedule.cron: Constraint error, got value 99 expected range 0-59, got "99 99 * * *"');
  expectSpecError(scheduled({ cron: 'not a real cron x' }), 'schedule.cron', 'Invalid characters', '"not a real cron x"');
  expectSpecError(scheduled({ cron: '61 0 2 * * *' }), 'schedule.cron', 'got value 61', '"61 0 2 * * *"');
  expectSpecError(scheduled({ cron: '0 2 * * 8' }), 'schedule.cron', 'expected range 0-7', '"0 2 * * 8"');
  expectSpecError(scheduled({ cron: '0 0 30 2 *' }), 'schedule.cron', 'day of month', '"0 0 30 2 *"');
  // Parses, but no day matches: the scheduler could never arm it.
  expectSpecError(scheduled({ cron: '0 0 31 2,4 *' }), 'schedule.cron', 'never fires', '"0 0 31 2,4 *"');
  // Field counts outside the documented 5 or 6 (cron-parser would take @daily and years).
  expectSpecError(scheduled({ cron: '@daily' }), 'schedule.cron', 'expected 5 or 6 cron fields', '"@daily"');
  expectSpecError(scheduled({ cron: '0 0 2 * * * 2026' }), 'schedule.cron', 'expected 5 or 6 cron fields', '"0 0 2 * * * 2026"');
  expectSpecError(scheduled({ cron: '' }), 'schedule.cron', '""');
  expectSpecError(scheduled({ cron: 2 }), 'schedule.cron', '2');
});

test('an unknown schedule.tz is named and quoted, also zones cron-parser alone would take', () => {
  expectSpecError(scheduled({ cron: '0 2 * * *', tz: 'Mars/Olympus' }), 'schedule.tz', 'IANA time zone', '"Mars/Olympus"');
  // A zone is checked before the pattern, whose check would only say "unhandled timestamp".
  const err = expectSpecError(scheduled({ cron: '0 2 * * *', tz: 'Europe/Berlin ' }), 'schedule.tz', '"Europe/Berlin "');
  assert.doesNotMatch(err.message, /unhandled timestamp/);
  // cron-parser reads "UTC+3" as a fixed offset, but partition dates are computed with Intl, which refuses it.
  expectSpecError(scheduled({ cron: '0 2 * * *', tz: 'UTC+3' }), 'schedule.tz', '"UTC+3"');
  expectSpecError(scheduled({ cron: '0 2 * * *', tz: '' }), 'schedule.tz', '""');
});

test('a schedule without input.partitionKey is refused: a firing scores one partition', () => {
  const err = expectSpecError({ ...minimal(), schedule: { cron: '0 2 * * *' } }, 'schedule', 'needs input.partitionKey', '"s3://bucket/features"');
  assert.match(err.message, /^spec: schedule: /);
});

test('other schedule fields are checked and named', () => {
  expectSpecError(scheduled({ cron: '0 2 * * *', offsetDays: 1.5 }), 'schedule.offsetDays', '1.5');
  expectSpecError(scheduled({ cron: '0 2 * * *', catchUp: -1 }), 'schedule.catchUp', '-1');
  expectSpecError(scheduled({ cron: '0 2 * * *', every: 'day' }), 'schedule.every', 'unknown field');
  expectSpecError({ ...scheduled({}), schedule: '0 2 * * *' }, 'schedule', '"0 2 * * *"');
});
