/**
 * The files a scan reads: every regular file under the given paths, minus `.git`, what the
 * `.gitignore` files say (those of the repository above a path too, from its top down) and the
 * repository's `info/exclude` (below every `.gitignore`, as in git), and symbolic links.
 * **Symbolic links are never followed**, neither out of the tree nor inside it:
 * following one inside the tree would scan its target twice, and deciding "inside" needs the
 * link resolved, which is the race a hostile tree would play with. A link named on the command
 * line is skipped the same way. Size and binary checks happen when the file is read.
 *
 * @module
 */
import { lstatSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { IgnoreFile, IgnoreStack } from './gitignore.js';

/** A file to scan. */
export interface WalkedFile {
  /** Absolute path. */
  readonly path: string;
  /** Path shown in reports: relative to the working directory, `/` separators. */
  readonly display: string;
  /** Size from lstat, in bytes. */
  readonly size: number;
}

/** What the walk skipped, counted by reason. */
export interface WalkSkips {
  ignored: number;
  symlinks: number;
  special: number;
  unreadable: number;
}

/** Options of {@link walk}. */
export interface WalkOptions {
  /** The directory relative paths are shown from. */
  readonly cwd: string;
  /** Honour `.gitignore` files. @default true */
  readonly gitignore?: boolean;
}

const posix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'));

/** Every file to scan under `paths` (files or directories), sorted within each directory. */
export function walk(paths: readonly string[], options: WalkOptions): { files: WalkedFile[]; skipped: WalkSkips } {
  const files: WalkedFile[] = [];
  const skipped: WalkSkips = { ignored: 0, symlinks: 0, special: 0, unreadable: 0 };
  const useIgnore = options.gitignore !== false;
  const seen = new Set<string>();
  const add = (path: string, size: number) => {
    if (seen.has(path)) return;
    seen.add(path);
    let display = posix(relative(options.cwd, path));
    if (display === '') display = '.';
    files.push({ path, display, size });
  };
  for (const given of paths) {
    const root = resolve(options.cwd, given);
    let st;
    try {
      st = lstatSync(root);
    } catch (err) {
      throw Object.assign(new Error(`cannot read ${given} (${(err as NodeJS.ErrnoException).code ?? 'error'}): name an existing file or directory`), { code: 'USAGE' });
    }
    if (st.isSymbolicLink()) {
      skipped.symlinks++;
      continue;
    }
    if (st.isFile()) {
      // A file named on the command line is scanned even when a .gitignore lists it.
      add(root, st.size);
      continue;
    }
    if (!st.isDirectory()) {
      skipped.special++;
      continue;
    }
    const top = useIgnore ? gitTop(root) : undefined;
    const base = top ?? root;
    // The repository's info/exclude first: every .gitignore decides before it, as in git.
    let stack = top === undefined ? new IgnoreStack() : new IgnoreStack().with('', readExclude(top));
    if (useIgnore && top !== undefined && top !== root) {
      // The .gitignore files between the repository's top and this path (exclusive) apply here too.
      const parts = posix(relative(top, root)).split('/');
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        stack = stack.with(dir, readIgnore(join(top, ...parts.slice(0, i))));
      }
      // A directory named on the command line is scanned even when ignored (as a named file is);
      // the .gitignore files above it, which ignore it whole, then do not apply inside it.
      if (stack.ignores(posix(relative(top, root)), true)) stack = new IgnoreStack();
    }
    visit(root, posix(relative(base, root)), stack);
  }
  return { files, skipped };

  function visit(dir: string, rel: string, parent: IgnoreStack): void {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      skipped.unreadable++;
      return;
    }
    const stack = useIgnore ? parent.with(rel, entries.some((e) => e.name === '.gitignore' && e.isFile()) ? readIgnore(dir) : undefined) : parent;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name === '.git') continue;
      const path = join(dir, e.name);
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isSymbolicLink()) {
        skipped.symlinks++;
        continue;
      }
      const isDir = e.isDirectory();
      if (useIgnore && stack.ignores(childRel, isDir)) {
        skipped.ignored++;
        continue;
      }
      if (isDir) visit(path, childRel, stack);
      else if (e.isFile()) {
        try {
          add(path, lstatSync(path).size);
        } catch {
          skipped.unreadable++;
        }
      } else skipped.special++;
    }
  }
}

/** The directory holding `.git` at or above `dir`, if any. */
function gitTop(dir: string): string | undefined {
  let d = dir;
  for (;;) {
    try {
      lstatSync(join(d, '.git'));
      return d;
    } catch {
      // not here
    }
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

function readIgnore(dir: string): IgnoreFile | undefined {
  return readRules(join(dir, '.gitignore'));
}

/**
 * `$GIT_DIR/info/exclude` of the repository whose top is `top`. A `.git` file (a linked worktree
 * or a submodule) names the git directory, and a worktree's `commondir` the shared one, which
 * holds `info/`.
 */
function readExclude(top: string): IgnoreFile | undefined {
  const gitDir = gitDirOf(top);
  if (gitDir === undefined) return undefined;
  let common = gitDir;
  try {
    common = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked worktree: the git directory is the common one
  }
  return readRules(join(common, 'info', 'exclude'));
}

function gitDirOf(top: string): string | undefined {
  const dotGit = join(top, '.git');
  try {
    const st = lstatSync(dotGit);
    if (st.isDirectory()) return dotGit;
    if (!st.isFile()) return undefined;
    const named = /^gitdir:[ \t]*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
    return named === undefined ? undefined : resolve(top, named);
  } catch {
    return undefined;
  }
}

/** The rules of an ignore file; none when it is missing or not a regular file (a symlink is not followed either). */
function readRules(file: string): IgnoreFile | undefined {
  try {
    if (!lstatSync(file).isFile()) return undefined;
    return new IgnoreFile(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
