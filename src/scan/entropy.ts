/**
 * How random a byte range looks: Shannon entropy in bits per byte, computed without allocating
 * (the counts live in one reused table and only the bytes seen are reset), and its letter cases.
 *
 * @module
 */

const counts = new Int32Array(256);

/** Entropy of `bytes[from, to)` in bits per symbol (0 for an empty range). */
export function shannonEntropy(bytes: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n <= 0) return 0;
  for (let i = from; i < to; i++) counts[bytes[i]!]!++;
  let h = 0;
  for (let i = from; i < to; i++) {
    const c = counts[bytes[i]!]!;
    if (c === 0) continue; // already summed
    const p = c / n;
    h -= p * Math.log2(p);
    counts[bytes[i]!] = 0;
  }
  return h;
}

/**
 * The entropy a random string over a large alphabet reaches at `length` symbols, scaled: short
 * strings cannot reach log2(alphabet), so the bar is relative to log2 of the length (capped at
 * 64 symbols, where base64 tops out at 6 bits).
 */
export function entropyBar(length: number, fraction: number): number {
  return fraction * Math.log2(Math.min(Math.max(length, 2), 64));
}

/**
 * True for an alphabet or a counting sequence (`ABCDEFGHIJ…`, `0123456789abcdef`): more than a
 * third of neighbouring bytes step by one. Such strings have high entropy and are never secrets.
 */
export function isSequence(bytes: Uint8Array, from: number, to: number): boolean {
  let steps = 0;
  for (let i = from + 1; i < to; i++) if (bytes[i]! - bytes[i - 1]! === 1) steps++;
  return steps * 3 > to - from;
}

/** `bytes[from, to)` holds both upper- and lower-case ASCII letters (a generated token, not a word or a constant). */
export function mixedCase(bytes: Uint8Array, from: number, to: number): boolean {
  let upper = false;
  let lower = false;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 97 && c <= 122) lower = true;
  }
  return upper && lower;
}
