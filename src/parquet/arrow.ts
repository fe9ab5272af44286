/**
 * The apache-arrow module this project's Parquet and scoring code uses.
 *
 * In a process's main thread it is the package's ESM entry (what every other module and the
 * tests import, so Arrow objects pass freely between them). Scoring threads opt in to the
 * package's single-file bundle instead (`scoring-thread-mode.ts`, imported first): it loads in
 * ~45 ms where the ESM tree took ~350 ms per thread when two threads start at once
 * (measured on 2 cores), and a thread only ever hands Arrow objects to this code and to
 * static type checks (`arrow.DataType.isFloat`…), which work across the two copies.
 * Never mix the copies otherwise: `instanceof Table` fails across them.
 */
import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';

import { isScoringThread } from './thread-mode.js';

export const arrow: typeof Arrow = isScoringThread()
  ? (createRequire(import.meta.url)('apache-arrow/Arrow.esnext.min') as typeof Arrow)
  : await import('apache-arrow');
