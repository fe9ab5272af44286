/**
 * Counts for people: `2,000,000`, as `n.toLocaleString('en-US')` writes them.
 *
 * Why not call toLocaleString: its first call in a process loads ICU's number formatting,
 * ~12 ms, and `batchscore run` makes that call only when printing its summary, after the
 * run is over: a cold one-shot run's wall time paid it in full. Integers (every count this
 * is used for) are grouped here, with the same output; anything else goes to toLocaleString.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) {
    const part = digits.slice(Math.max(0, end - 3), end);
    out = out === '' ? part : `${part},${out}`;
  }
  return n < 0 ? `-${out}` : out;
}
