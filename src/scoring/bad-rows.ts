/**
 * Rows whose features the job's `nulls`/`nonFinite` policy refuses, tolerated up to the
 * spec's `maxBadRowsFraction` of a file's rows. A tolerated row keeps its passthrough
 * columns and gets null predictions; past the limit the whole file fails, as it does on
 * the first refused row when nothing is tolerated.
 */
import { FeatureValueError, type BadValueKind } from './feature-matrix.js';

/** One refused row, located in its file. */
export interface BadRowSample {
  /** Row number in the file, from 0. */
  row: number;
  column: string;
  kind: BadValueKind;
}

/** The refused rows of (part of) one file. */
export interface BadRowCount {
  count: number;
  /** The first few, in the order found. */
  samples: BadRowSample[];
}

/** Samples kept per file: enough to find the problem, small enough for a manifest. */
export const BAD_ROW_SAMPLES = 5;

/** How many refused rows a file of `fileRows` rows may have under `maxFraction`. */
export function badRowLimit(maxFraction: number, fileRows: number): number {
  return Math.floor(maxFraction * fileRows);
}

/** Counts refused rows of one file against its limit. */
export class BadRowTally implements BadRowCount {
  count = 0;
  readonly samples: BadRowSample[] = [];
  readonly limit: number;

  constructor(readonly maxFraction: number, readonly fileRows: number) {
    this.limit = badRowLimit(maxFraction, fileRows);
  }

  /** Record a refused row; returns false once the file has more than the limit. */
  add(fileRow: number, err: FeatureValueError): boolean {
    this.count++;
    if (this.samples.length < BAD_ROW_SAMPLES) this.samples.push({ row: fileRow, column: err.column, kind: err.kind });
    return this.count <= this.limit;
  }
}

/** Sum the counts of the parts of one file (samples in row order, the first few kept). */
export function mergeBadRows(parts: readonly BadRowCount[]): BadRowCount {
  const samples = parts.flatMap((p) => p.samples).sort((a, b) => a.row - b.row).slice(0, BAD_ROW_SAMPLES);
  return { count: parts.reduce((n, p) => n + p.count, 0), samples };
}

/**
 * Fill a batch row by row with `fill(offset, 1)`, calling `onRefused` for each row the policy
 * refuses (it may throw to stop). The slow path, taken only for a batch that has a refused
 * row. Returns the offsets of the refused rows.
 */
export function fillTolerating(fill: (offset: number, count: number) => void, rows: number, onRefused: (offset: number, err: FeatureValueError) => void): number[] {
  const refused: number[] = [];
  for (let i = 0; i < rows; i++) {
    try {
      fill(i, 1);
    } catch (err) {
      if (!(err instanceof FeatureValueError)) throw err;
      refused.push(i);
      onRefused(i, err);
    }
  }
  return refused;
}

/** "column "f3" is null at row 17" for messages. */
export function describeBadRow(s: BadRowSample): string {
  return `column "${s.column}" is ${s.kind} at row ${s.row}`;
}
