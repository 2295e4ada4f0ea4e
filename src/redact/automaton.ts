/**
 * An Aho-Corasick automaton that grows one pattern at a time.
 *
 * - **Incremental.** {@link Automaton.add} walks and extends the trie: its cost is proportional
 *   to the pattern's length (plus amortised array growth). Nothing is rebuilt. Failure links and
 *   output links are computed *on demand* during a scan and cached per node, stamped with a
 *   generation number; adding a pattern bumps the generation, so a link is recomputed lazily,
 *   the next time a scan visits that node, instead of eagerly for the whole trie.
 * - **Typed arrays, cache-friendly.** Nodes live in an `Int32Array`, four fields per node, and
 *   their lazily computed links in a second one, written only for nodes a scan visits.
 *   A pattern's new suffix is created as consecutive nodes, so the common edge "node → node + 1"
 *   is found next door in memory; only branching edges go to an open-addressing hash table keyed
 *   by (node, UTF-16 code unit). The root has a dense 65,536-entry transition table.
 * - **A sampling pre-filter in front of it.** With `m` the shortest pattern length (capped at
 *   `maxWindow`) and q-grams of `q = 4` code units (fewer when `m < 4`), every pattern puts the
 *   hashes of its first `S = m − q + 1` q-grams into a bitmap. The scan then reads one q-gram
 *   every `S` positions: any occurrence of any pattern covers one of those samples at an offset
 *   below `S`, so when the sample's bit is clear, no pattern starts in the `S` positions before
 *   it and the scan jumps `S` positions on. On a set bit, a second bitmap of every pattern's
 *   first q-gram says which of the `S` candidate positions can start a pattern; only from the
 *   first of those does the automaton run, and only until the match in progress (if any)
 *   started after that sample's candidates and is at most `S` deep; sampling resumes at its
 *   start. A line with no secret costs one hash and one bit test per `S` characters and
 *   allocates nothing. The bitmap is sized for a fill of about 1/32 (at most 2 MiB; beyond
 *   that `S` shrinks), so false hits are rare; it works for any minimum length, down to one
 *   code unit (then `S = 1`: every position is tested).
 * - **Output.** At each text position the scan reports the longest pattern ending there (the
 *   output link), which is enough to compute the exact union of all occurrences of all
 *   patterns: every shorter pattern ending at the same position lies inside it.
 *
 * Internal to the redactor; not exported from the package.
 *
 * @module
 */

const ROOT = 0;
/** Multiplicative hashing constants (0x9e3779b1 | 0, 0x85ebca6b | 0), written as literals where hot. */
const HASH_MUL = -1640531535;
/** The pre-filter bitmap has at most 2^24 bits (2 MiB). */
const MAX_FILTER_BITS = 24;
const MIN_FILTER_BITS = 12;

// Nodes: four Int32 per node in each of two arrays. The trie (`#n`) is written as patterns are
// added; the links (`#links`) only for nodes a scan visits, so the pages holding the links of
// the trie's unvisited tails (most of a large trie) are never touched.
const STRIDE = 4;
// In #n:
const PARENT = 0;
/** The code unit of the edge from the parent (low 16 bits) and, in the bits above, the number of children capped at 2 (none, one, more). */
const EDGE = 1;
const DEPTH = 2;
/** Pattern id + 1 on terminal nodes, else 0. */
const TERM = 3;
const ONE_KID = 1 << 16;
// In #links:
const FAIL = 0;
/** The terminal node of the longest pattern that is a suffix of this node's string (0: none). */
const OUT = 1;
/** The generation FAIL and OUT were computed in; stale when it differs from the current one. */
const STAMP = 2;

/** Receives each match: `[start, end)` and the terminal node of the longest pattern ending at `end`. */
export type MatchSink = (start: number, end: number, node: number) => void;

/** Options of an {@link Automaton}. */
export interface AutomatonOptions {
  /** The longest window the pre-filter uses; longer windows skip further but fill the bitmap faster. */
  readonly maxWindow?: number;
}

/**
 * `n` with twice the length, its contents copied. Registering is bound by fresh memory (a page
 * fault per 4 KiB touched, about 12 µs each on the VMs we measure on; 10,000 secrets make about
 * 1.5 M nodes), hence 16-byte nodes and links kept apart. A resizable buffer growing in place
 * would touch less, but the scan reads typed arrays over one about 10% more slowly.
 */
function doubled(n: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(n.length * 2);
  bigger.set(n);
  return bigger;
}

/** The q-gram of `q` code units at `at` of `text`, packed as the scan packs it (low bytes, big end first). */
function gramAt(text: string, at: number, q: number): number {
  let pack = 0;
  for (let k = at; k < at + q; k++) pack = (pack << 8) | (text.charCodeAt(k) & 0xff);
  return pack;
}

/** The q-gram length for a window of `m` code units. */
function gramLength(m: number): number {
  return m >= 4 ? 4 : m;
}

export class Automaton {
  readonly #maxWindow: number;

  /** Nodes, STRIDE fields each; node 0 is the root. Always at least one spare node at the end. */
  #n = new Int32Array(1024 * STRIDE);
  /** Their failure and output links, STRIDE fields each (the same length as #n). */
  #links = new Int32Array(1024 * STRIDE);
  #count = 1;
  #gen = 1;

  // Branching edges: open addressing, linear probing; key = (node + 1, code unit).
  // One slot is four Int32 side by side (node + 1, code unit, child, unused), so a probe reads
  // one cache line, not one per field.
  #hTable = new Int32Array(1024 * 4);
  #hShift = 32 - 10;
  #hUsed = 0;
  readonly #rootNext = new Int32Array(65536);

  // Pre-filter: window length m, q-gram length q, sample step S = m − q + 1, a bitmap of
  // 2^bits bits holding the hashes of every pattern's first S q-grams.
  #m = 0;
  #q = 1;
  #bitmap = new Int32Array(1 << (MIN_FILTER_BITS - 5));
  #bits = MIN_FILTER_BITS;
  /** A second bitmap: the hash of every pattern's first q-gram (where it starts); one q-gram per pattern, so smaller. */
  #starts = new Int32Array(1 << (MIN_FILTER_BITS - 5));
  #startBits = MIN_FILTER_BITS;
  /** The window the start bitmap was filled for (it holds q-grams of length gramLength(m)). */
  #startM = 0;
  #minLength = Infinity;
  /** The first `maxWindow` code units of every pattern, to rebuild the bitmap. */
  readonly #prefixes: string[] = [];

  #patterns = 0;
  #longest = 0;
  #stack = new Int32Array(64);

  constructor(options: AutomatonOptions = {}) {
    this.#maxWindow = options.maxWindow ?? 16;
  }

  /** Number of distinct patterns. */
  get size(): number {
    return this.#patterns;
  }
  /** Length of the longest pattern, in UTF-16 code units. */
  get longest(): number {
    return this.#longest;
  }
  /** Number of trie nodes, root included. */
  get nodes(): number {
    return this.#count;
  }

  /** The depth (pattern length) of a terminal node reported to a {@link MatchSink}. */
  depthOf(node: number): number {
    return this.#n[node * STRIDE + DEPTH]!;
  }
  /** The id given to {@link Automaton.add} for the pattern ending at a terminal node. */
  idOf(node: number): number {
    return this.#n[node * STRIDE + TERM]! - 1;
  }

  /**
   * Adds a pattern; `id` is reported back through {@link Automaton.idOf}. Cost: O(pattern length).
   * Returns false when the pattern was already there (or is empty).
   */
  add(pattern: string, id = 0): boolean {
    const len = pattern.length;
    if (len === 0) return false;
    let s = ROOT;
    for (let i = 0; i < len; i++) {
      const c = pattern.charCodeAt(i);
      let next = this.#child(s, c);
      if (next === 0) next = this.#newNode(s, c);
      s = next;
    }
    const n = this.#n;
    if (n[s * STRIDE + TERM] !== 0) return false;
    n[s * STRIDE + TERM] = id + 1;
    this.#patterns += 1;
    if (len > this.#longest) this.#longest = len;
    // Links computed before this pattern existed may now be too short: recompute lazily.
    this.#gen += 1;
    this.#addPrefix(pattern.slice(0, this.#maxWindow));
    return true;
  }

  /**
   * Where the longest pattern prefix that ends the text starts, walking the automaton from `pos`
   * (no whole pattern fits there, so nothing is reported). Saying `pos` instead would make a
   * stream hold back a short line (`ready\n`) until more output comes, however unlike any
   * pattern it is.
   */
  #openFrom(text: string, pos: number): number {
    // At most one window's worth of text, once per stream chunk: the plain transition will do.
    const n = this.#n;
    const links = this.#links;
    const gen = this.#gen;
    let s = ROOT;
    for (let i = pos; i < text.length; i++) {
      const c = text.charCodeAt(i);
      for (;;) {
        const g = this.#child(s, c);
        if (g !== 0 || s === ROOT) {
          s = g;
          break;
        }
        const b = s * STRIDE;
        s = links[b + STAMP] === gen ? links[b + FAIL]! : this.#link(s);
      }
    }
    return text.length - (s === ROOT ? 0 : n[s * STRIDE + DEPTH]!);
  }

  /**
   * Finds every occurrence of every pattern in `text` and reports, for each end position with a
   * match, the longest pattern ending there.
   *
   * The skip loop only needs the low byte of each code unit: `bytes` is the text written as
   * Latin-1 (`buf.write(text, 0, len, 'latin1')` keeps exactly that byte), read from a byte
   * array because that is faster than `charCodeAt`.
   *
   * @param open - whether the caller needs the returned position (a stream does; a whole text
   *   does not, and skips the walk over its tail that finds it).
   * @returns the smallest position at which a match might start that could only complete after
   *   the end of `text` (a stream holds back from there); `text.length` when none can or when
   *   `open` is false.
   */
  scan(text: string, sink: MatchSink, bytes: Uint8Array, open = true): number {
    // The hot loops use literal numbers, not the module constants: bundlers turn top-level
    // `const` into `var`, which the JIT then reloads on every iteration.
    // Node fields: n[s*4 + 0] PARENT, +1 EDGE (code unit | children << 16), +2 DEPTH;
    // links[s*4 + 0] FAIL, +1 OUT, +2 STAMP.
    const len = text.length;
    if (this.#patterns === 0) return len;
    const m = this.#m;
    const q = this.#q;
    const step = m - q + 1;
    const bitmap = this.#bitmap;
    const starts = this.#starts;
    const hashShift = 32 - this.#bits;
    const startShift = 32 - this.#startBits;
    const rootNext = this.#rootNext;
    const n = this.#n;
    const links = this.#links;
    const gen = this.#gen;

    let pos = 0;
    for (;;) {
      // Sample: the q-gram ending the window [pos, pos + m).
      for (;;) {
        const end = pos + m;
        // No whole pattern fits any more: only a prefix of one may still be open at the end.
        if (end > len) return open ? this.#openFrom(text, pos) : len;
        let pack = 0;
        // q is 4 whenever the shortest pattern has four code units or more: one unrolled read.
        if (q === 4) pack = (bytes[end - 4]! << 24) | (bytes[end - 3]! << 16) | (bytes[end - 2]! << 8) | bytes[end - 1]!;
        else for (let k = end - q; k < end; k++) pack = (pack << 8) | bytes[k]!;
        const h = Math.imul(pack, -1640531535) >>> hashShift;
        if ((bitmap[h >>> 5]! & (1 << (h & 31))) !== 0) break;
        pos += step;
      }
      // A set bit: a match may start in [pos, pos + step). Keep the candidates whose first q-gram
      // starts a pattern (the second bitmap); with none, the hit was false: move on.
      const last = pos + step - 1;
      let from = -1;
      // The q-gram at each candidate, rolled along one byte at a time (q ≤ 4: it fits 32 bits).
      let pack = 0;
      for (let k = pos; k < pos + q - 1; k++) pack = (pack << 8) | bytes[k]!;
      const keep = q === 4 ? -1 : (1 << (8 * q)) - 1;
      for (let c = pos; c <= last; c++) {
        pack = ((pack << 8) | bytes[c + q - 1]!) & keep;
        const h = Math.imul(pack, -1640531535) >>> startShift;
        if ((starts[h >>> 5]! & (1 << (h & 31))) !== 0) {
          from = c;
          break;
        }
      }
      if (from < 0) {
        pos += step;
        continue;
      }
      // Run the automaton from the first candidate until it falls back to the root, or until the
      // match in progress started after the candidates and is at most `step` deep (then sampling
      // resumes at its start: a bounded re-read, so the whole scan stays linear).
      let s = 0;
      let i = from;
      let resume = -1;
      for (; i < len; i++) {
        const c = text.charCodeAt(i);
        // The usual step, along a chain: node s + 1 is the child when its parent is s and its code
        // unit is c (the root included: node 1 is a child of the root). Only a miss looks further.
        const b0 = s << 2;
        if (n[b0 + 4] === s && (n[b0 + 5]! & 0xffff) === c) s += 1;
        else {
          for (;;) {
            if (s === 0) {
              s = rootNext[c]!;
              break;
            }
            // The child: next door (a chain), or in the hash (a branch), or none.
            const b = s << 2;
            const kids = n[b + 1]! >>> 16;
            let g = 0;
            if (kids !== 0) {
              if (n[b + 4] === s) {
                if ((n[b + 5]! & 0xffff) === c) g = s + 1;
                else if (kids > 1) g = this.#hashed(s, c);
              } else {
                g = this.#hashed(s, c);
              }
            }
            if (g !== 0) {
              s = g;
              break;
            }
            // No child. Rather than follow failure links (scattered memory), hand the text back to
            // the filter from one past the current match's start when that is close by: the filter
            // finds every later start, and every match ending here was reported. Within 64 code
            // units, so a crafted text re-reads at most that much per start.
            const d = n[b + 2]!;
            if (d <= 64) {
              resume = i - d + 1;
              break;
            }
            s = links[b + 2] === gen ? links[b]! : this.#link(s);
          }
          if (resume >= 0 || s === 0) break;
        }
        const b = s << 2;
        if (links[b + 2] !== gen) this.#link(s);
        const o = links[b + 1]!;
        if (o !== 0) sink(i + 1 - n[(o << 2) + 2]!, i + 1, o);
        const depth = n[b + 2]!;
        if (depth <= step && i + 1 - depth > last) {
          resume = i + 1 - depth;
          break;
        }
      }
      if (resume >= 0) {
        pos = resume;
        continue;
      }
      if (i >= len) return len - n[(s << 2) + 2]!;
      pos = i + 1;
    }
  }

  /** The child of `s` on code unit `c`, or 0. */
  #child(s: number, c: number): number {
    if (s === ROOT) return this.#rootNext[c]!;
    const n = this.#n;
    const b = s * STRIDE;
    const kids = n[b + EDGE]! >>> 16;
    if (kids === 0) return 0;
    if (n[b + STRIDE + PARENT] === s) {
      if ((n[b + STRIDE + EDGE]! & 0xffff) === c) return s + 1;
      if (kids === 1) return 0;
    }
    return this.#hashed(s, c);
  }

  /** A branching edge from the hash table, or 0. */
  #hashed(s: number, c: number): number {
    const t = this.#hTable;
    const hMask = (t.length >> 2) - 1;
    let h = Math.imul(s ^ Math.imul(c, -2048144789), -1640531535) >>> this.#hShift;
    for (;;) {
      const k = t[h << 2]!;
      if (k === 0) return 0;
      if (k === s + 1 && t[(h << 2) + 1] === c) return t[(h << 2) + 2]!;
      h = (h + 1) & hMask;
    }
  }

  #newNode(parent: number, c: number): number {
    // Keep one spare (zeroed) node past the end: the scan reads node s + 1 of any node s.
    if ((this.#count + 2) * STRIDE > this.#n.length) {
      this.#n = doubled(this.#n);
      // The links are a cache: a zeroed array marks every one stale (stamp 0, never a generation),
      // and scans recompute the ones they visit. Copying them would touch every page of it.
      this.#links = new Int32Array(this.#n.length);
    }
    const n = this.#n;
    const v = this.#count++;
    const b = v * STRIDE;
    n[b + PARENT] = parent;
    n[b + EDGE] = c;
    n[b + DEPTH] = n[parent * STRIDE + DEPTH]! + 1;
    const edge = parent * STRIDE + EDGE;
    if (n[edge]! >>> 16 < 2) n[edge]! += ONE_KID;
    if (parent === ROOT) this.#rootNext[c] = v;
    else if (v !== parent + 1) this.#insertEdge(parent, c, v);
    return v;
  }

  #insertEdge(parent: number, c: number, v: number): void {
    if ((this.#hUsed + 1) * 2 > this.#hTable.length >> 2) this.#growHash();
    const t = this.#hTable;
    const hMask = (t.length >> 2) - 1;
    let h = Math.imul(parent ^ Math.imul(c, -2048144789), -1640531535) >>> this.#hShift;
    while (t[h << 2] !== 0) h = (h + 1) & hMask;
    t[h << 2] = parent + 1;
    t[(h << 2) + 1] = c;
    t[(h << 2) + 2] = v;
    this.#hUsed += 1;
  }

  #growHash(): void {
    const old = this.#hTable;
    this.#hTable = new Int32Array(old.length * 2);
    this.#hShift -= 1;
    this.#hUsed = 0;
    for (let h = 0; h < old.length; h += 4) {
      const k = old[h]!;
      if (k !== 0) this.#insertEdge(k - 1, old[h + 1]!, old[h + 2]!);
    }
  }

  /**
   * Records a pattern's first code units in the pre-filter. The window m is the shortest pattern
   * length, at most `maxWindow`; the bitmap has about 32 bits per q-gram (2^12 to 2^24 bits).
   * When even the largest bitmap would be fuller than 1/16, m shrinks (fewer q-grams per
   * pattern). Both change monotonically and the bitmap doubles, so rebuilds cost amortised O(m)
   * per pattern.
   */
  #addPrefix(prefix: string): void {
    this.#prefixes.push(prefix);
    this.#minLength = Math.min(this.#minLength, prefix.length);
    const count = this.#prefixes.length;
    let m = Math.max(1, Math.min(this.#minLength, this.#maxWindow));
    // At the largest bitmap, keep the fill at most 1/16: fewer samples per pattern.
    const maxGrams = Math.floor((1 << MAX_FILTER_BITS) / 16 / count);
    if (m - gramLength(m) + 1 > maxGrams) m = Math.max(Math.min(m, 4), maxGrams + 3);
    let bits = this.#bits;
    while (bits < MAX_FILTER_BITS && count * (m - gramLength(m) + 1) * 32 > 1 << bits) bits++;
    let startBits = this.#startBits;
    while (startBits < MAX_FILTER_BITS && count * 32 > 1 << startBits) startBits++;
    if (m !== this.#m || bits !== this.#bits) {
      this.#m = m;
      this.#q = gramLength(m);
      this.#bits = bits;
      this.#bitmap = new Int32Array(1 << (bits - 5));
      for (const p of this.#prefixes) this.#fillSamples(p);
    } else this.#fillSamples(prefix);
    // The start bitmap resizes on its own schedule; rebuilt alone, it reads one q-gram per prefix.
    if (m !== this.#startM || startBits !== this.#startBits) {
      this.#startM = m;
      this.#startBits = startBits;
      this.#starts = new Int32Array(1 << (startBits - 5));
      for (const p of this.#prefixes) this.#fillStart(p);
    } else this.#fillStart(prefix);
  }

  /** Sets the bits of the first `S = m − q + 1` q-grams of one prefix. */
  #fillSamples(prefix: string): void {
    const m = this.#m;
    const q = this.#q;
    const shift = 32 - this.#bits;
    const bitmap = this.#bitmap;
    for (let j = q - 1; j < m; j++) {
      const h = Math.imul(gramAt(prefix, j - q + 1, q), HASH_MUL) >>> shift;
      bitmap[h >>> 5]! |= 1 << (h & 31);
    }
  }

  /** Sets the bit of a prefix's first q-gram in #starts. */
  #fillStart(prefix: string): void {
    const g = Math.imul(gramAt(prefix, 0, this.#q), HASH_MUL) >>> (32 - this.#startBits);
    this.#starts[g >>> 5]! |= 1 << (g & 31);
  }

  /**
   * Computes (and caches for this generation) the failure and output links of `v` and of
   * whatever nodes they depend on, with an explicit stack: no recursion, however long the
   * patterns. Every node pushed is strictly shallower than the one that needed it.
   * Returns the failure link of `v`.
   */
  #link(v: number): number {
    const gen = this.#gen;
    const n = this.#n;
    const links = this.#links;
    if (this.#stack.length < this.#longest + 2) this.#stack = new Int32Array(this.#longest * 2 + 2);
    const stack = this.#stack;
    let sp = 0;
    stack[sp++] = v;
    while (sp > 0) {
      const x = stack[sp - 1]!;
      const xb = x * STRIDE;
      if (links[xb + STAMP] === gen) {
        sp -= 1;
        continue;
      }
      const p = n[xb + PARENT]!;
      const terminal = n[xb + TERM] !== 0;
      if (p === ROOT) {
        links[xb + FAIL] = ROOT;
        links[xb + OUT] = terminal ? x : 0;
        links[xb + STAMP] = gen;
        sp -= 1;
        continue;
      }
      if (links[p * STRIDE + STAMP] !== gen) {
        stack[sp++] = p;
        continue;
      }
      const c = n[xb + EDGE]! & 0xffff;
      let s = links[p * STRIDE + FAIL]!;
      let f = -1;
      for (;;) {
        const g = this.#child(s, c);
        if (g !== 0) {
          f = g;
          break;
        }
        if (s === ROOT) {
          f = ROOT;
          break;
        }
        if (links[s * STRIDE + STAMP] !== gen) {
          stack[sp++] = s;
          f = -2;
          break;
        }
        s = links[s * STRIDE + FAIL]!;
      }
      if (f === -2) continue;
      if (f !== ROOT && links[f * STRIDE + STAMP] !== gen && !terminal) {
        stack[sp++] = f;
        continue;
      }
      links[xb + FAIL] = f;
      links[xb + OUT] = terminal ? x : f === ROOT ? 0 : links[f * STRIDE + OUT]!;
      links[xb + STAMP] = gen;
      sp -= 1;
    }
    return links[v * STRIDE + FAIL]!;
  }
}
