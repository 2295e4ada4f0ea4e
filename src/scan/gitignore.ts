/**
 * A `.gitignore` matcher, written here rather than taken from a dependency (the `ignore`
 * package would do; this is ~120 lines with no transitive surprises, and the scanner needs only
 * what git documents in gitignore(5)):
 *
 * - blank lines and `#` comments are skipped; `\#` and `\!` escape; trailing spaces are trimmed
 *   unless escaped with a backslash;
 * - `!pattern` re-includes; the last matching line wins, and a deeper `.gitignore` is consulted
 *   before the one above it;
 * - a trailing `/` matches directories only;
 * - a pattern with a `/` at its start or in its middle is relative to its `.gitignore`'s
 *   directory; otherwise it matches a name at any depth below it;
 * - `*` and `?` do not cross `/`; `[…]` classes (with `!`/`^` negation); `**` in `a/**`,
 *   `**\/b` and `a/**\/b` crosses directories.
 *
 * As in git, a file under an ignored directory cannot be re-included: the walker never enters
 * an ignored directory.
 *
 * @module
 */

interface Rule {
  readonly negate: boolean;
  readonly dirOnly: boolean;
  /** The pattern matches the path itself. */
  readonly exact: RegExp;
  /** The pattern matches a directory the path is inside. */
  readonly under: RegExp;
}

/** The rules of one `.gitignore`, for paths relative to its directory. */
export class IgnoreFile {
  readonly #rules: Rule[];

  constructor(text: string) {
    this.#rules = [];
    for (const raw of text.split(/\r?\n/)) {
      const rule = parseLine(raw);
      if (rule !== undefined) this.#rules.push(rule);
    }
  }

  /** Number of rules. */
  get size(): number {
    return this.#rules.length;
  }

  /**
   * `true` ignored, `false` re-included (a negation matched last), `undefined` no rule matched.
   * `path` is relative to this file's directory, with `/` separators.
   */
  decide(path: string, isDir: boolean): boolean | undefined {
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const r = this.#rules[i]!;
      // A directory-only rule matches a file only through a directory above it.
      if (((!r.dirOnly || isDir) && r.exact.test(path)) || r.under.test(path)) return !r.negate;
    }
    return undefined;
  }
}

function parseLine(raw: string): Rule | undefined {
  let line = raw;
  // Trailing spaces are trimmed unless the last one is escaped.
  while (line.endsWith(' ') && !line.endsWith('\\ ')) line = line.slice(0, -1);
  if (line === '' || line.startsWith('#')) return undefined;
  let negate = false;
  if (line.startsWith('!')) {
    negate = true;
    line = line.slice(1);
  } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
  let dirOnly = false;
  if (line.endsWith('/')) {
    dirOnly = true;
    line = line.slice(0, -1);
  }
  if (line === '') return undefined;
  // Anchored when a slash is at the start or in the middle.
  const anchored = line.includes('/');
  if (line.startsWith('/')) line = line.slice(1);
  const body = globToRegex(line);
  const head = `^${anchored ? '' : '(?:.*/)?'}${body}`;
  return { negate, dirOnly, exact: new RegExp(`${head}$`), under: new RegExp(`${head}/.+$`) };
}

/** A glob of gitignore(5) as a regular-expression body. */
function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const before = i === 0 || glob[i - 1] === '/';
        const after = i + 2 === glob.length || glob[i + 2] === '/';
        if (before && after) {
          if (i + 2 === glob.length) {
            out += '.*'; // `a/**`: everything inside
          } else {
            out += '(?:.*/)?'; // `**/` or `a/**/b`: zero or more directories
            i += 1; // the slash is consumed with the stars
          }
          i += 1;
          continue;
        }
      }
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) out += '\\[';
      else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRe(glob[++i]!);
    } else out += escapeRe(c);
  }
  return out;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** The `.gitignore` files that apply at a directory: each with the directory it sits in (relative to the root, '' for the root). */
export class IgnoreStack {
  readonly #files: readonly { readonly dir: string; readonly file: IgnoreFile }[];

  constructor(files: readonly { readonly dir: string; readonly file: IgnoreFile }[] = []) {
    this.#files = files;
  }

  /** The stack for a subdirectory `dir` that has its own `.gitignore` (or the same stack when `file` is undefined). */
  with(dir: string, file: IgnoreFile | undefined): IgnoreStack {
    return file === undefined || file.size === 0 ? this : new IgnoreStack([...this.#files, { dir, file }]);
  }

  /** Whether `path` (relative to the root, `/` separators) is ignored: the deepest file with a matching rule decides. */
  ignores(path: string, isDir: boolean): boolean {
    for (let i = this.#files.length - 1; i >= 0; i--) {
      const { dir, file } = this.#files[i]!;
      const rel = dir === '' ? path : path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : undefined;
      if (rel === undefined) continue;
      const d = file.decide(rel, isDir);
      if (d !== undefined) return d;
    }
    return false;
  }
}
