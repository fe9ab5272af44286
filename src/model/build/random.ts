/**
 * A small seeded PRNG so that demo models, their parameters and test inputs are the same on
 * every machine and every run: a fixture is "model built from seed 42", never a stored file.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: 32-bit state, passes the usual statistical batteries well enough for test
 * fixtures, and is trivially portable (other languages can reproduce a fixture from its seed).
 * Not for anything security-related.
 */
export function seededRandom(seed: number): Rng {
  // Truncate to 32 bits up front so that seeds like 1.5 or 2**40 behave deterministically.
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform number in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * Standard normal sample (Box–Muller). Consumes two uniforms per call and discards the
 * second normal: simpler to reason about when reproducing a sequence from a seed.
 */
export function gaussian(rng: Rng): number {
  // 1 - u keeps the argument of log in (0, 1], so it never returns -Infinity.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A row-major float32 matrix `rows × cols` of uniform values in [lo, hi): the shape the
 * models take as input (`[N, F]`), ready for an ORT tensor.
 */
export function randomMatrix(rng: Rng, rows: number, cols: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = uniform(rng, lo, hi);
  return out;
}
