#!/usr/bin/env node
// Type-checks every ```ts block of README.md and docs/*.md against the BUILT package, under the
// project's own strict compiler settings. Run after `npm run build`:
//
//   npm run build && npm run check:docs
//
// Each block is its own ES module (top-level await allowed) that imports `connector-secrets`
// by name, which resolves through package.json "exports" to dist/*.d.ts, as for a user.
//
// A block may declare the context it assumes in a hidden preamble: an HTML comment directly
// before its fence (blank lines allowed), which does not show on GitHub or the registry page:
//
//   <!-- ts-preamble
//   import { createSecrets, fromEnv } from 'connector-secrets';
//   declare const secrets: ReturnType<typeof createSecrets>;
//   -->
//   ```ts
//   const token = await secrets.get('secret://orders-api/token');
//   ```
//
// A block that is deliberately not TypeScript-checkable (a sketch of a shape) is marked
// `<!-- ts-skip: why -->` the same way; use that sparingly.
//
// Errors are reported as `docs/file.md:LINE:COL` (the line inside the markdown file; errors in
// a preamble point at the preamble). Exit code 1 on any error.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, '.tmp', 'docs-check');

/** The markdown files whose blocks are checked: README.md and every docs/*.md present now. */
function markdownFiles() {
  const docs = existsSync(path.join(ROOT, 'docs'))
    ? readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)
    : [];
  return ['README.md', ...docs];
}

/**
 * The ```ts blocks of one file: their code (indentation of the fence removed), the markdown line
 * of their first code line, and their hidden preamble (or skip marker) if any.
 */
function blocksOf(file) {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(lines[i]);
    if (open === null) {
      // Skip other fenced blocks whole, so a ```ts inside a ```md sample is not taken.
      const other = /^(\s*)(`{3,}|~{3,})/.exec(lines[i]);
      if (other !== null) {
        const close = new RegExp(`^\\s*${other[2][0]}{${other[2].length},}\\s*$`);
        while (++i < lines.length && !close.test(lines[i]));
      }
      continue;
    }
    const [, indent, fence] = open;
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    const start = i + 1;
    let end = start;
    while (end < lines.length && !close.test(lines[end])) end++;
    const code = lines.slice(start, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    blocks.push({ file, fenceLine: i + 1, firstLine: start + 1, code, ...hiddenBefore(lines, i) });
    i = end;
  }
  return blocks;
}

/** The HTML comment right before a fence (only blank lines between): a preamble or a skip marker. */
function hiddenBefore(lines, fenceIndex) {
  let j = fenceIndex - 1;
  while (j >= 0 && lines[j].trim() === '') j--;
  if (j < 0 || !lines[j].trim().endsWith('-->')) return {};
  let k = j;
  while (k >= 0 && !lines[k].includes('<!--')) k--;
  if (k < 0) return {};
  const text = lines.slice(k, j + 1).join('\n').trim();
  const skip = /^<!--\s*ts-skip:?\s*([\s\S]*?)\s*-->$/.exec(text);
  if (skip !== null) return { skip: skip[1] || 'no reason given' };
  const pre = /^<!--\s*ts-preamble\s*\n([\s\S]*?)\n\s*-->$/.exec(text);
  if (pre !== null) return { preamble: pre[1].split('\n').map((l) => l.trim()), preambleLine: k + 2 };
  return {};
}

/** The project's compiler options (strict, NodeNext…), for files that are not part of its program. */
function compilerOptions() {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent({ ...config, include: [] }, ts.sys, ROOT);
  // Unused locals are normal in a snippet that shows one call.
  return { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
}

if (!existsSync(path.join(ROOT, 'dist', 'index.d.ts'))) {
  console.error('check-docs: dist/index.d.ts does not exist. Run `npm run build` first.');
  process.exit(1);
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const generated = new Map();
let skipped = 0;
for (const file of markdownFiles()) {
  for (const block of blocksOf(file)) {
    if (block.skip !== undefined) {
      skipped += 1;
      console.log(`  skip ${file}:${block.fenceLine} (${block.skip})`);
      continue;
    }
    const name = `${file.replaceAll('/', '__').replace(/\.md$/, '')}__L${block.fenceLine}.ts`;
    const preamble = block.preamble ?? [];
    // Preamble, then the block; `export {}` makes it a module even when it imports nothing.
    const text = [...preamble, ...block.code, 'export {};', ''].join('\n');
    const target = path.join(OUT, name);
    writeFileSync(target, text);
    generated.set(path.normalize(target), { ...block, preambleLength: preamble.length });
  }
}

const program = ts.createProgram([...generated.keys()], compilerOptions());
const diagnostics = ts.getPreEmitDiagnostics(program);
const errors = [];
for (const d of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  const block = d.file === undefined ? undefined : generated.get(path.normalize(d.file.fileName));
  if (d.file === undefined || block === undefined) {
    errors.push(`${d.file ? path.relative(ROOT, d.file.fileName) : '(config)'}: TS${d.code}: ${message}`);
    continue;
  }
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
  const where =
    line < block.preambleLength
      ? `${block.file}:${block.preambleLine + line}:${character + 1} (in the ts-preamble of the block at line ${block.fenceLine})`
      : `${block.file}:${block.firstLine + line - block.preambleLength}:${character + 1}`;
  errors.push(`${where}: TS${d.code}: ${message}`);
}

// In file order, then line order, so a report reads top to bottom.
const position = (e) => {
  const m = /^(.+?\.md):(\d+):/.exec(e);
  return m === null ? ['', 0] : [m[1], Number(m[2])];
};
errors.sort((a, b) => {
  const [fa, la] = position(a);
  const [fb, lb] = position(b);
  return fa === fb ? la - lb : fa < fb ? -1 : 1;
});
const checked = generated.size;
if (errors.length > 0) {
  console.error(errors.join('\n'));
  console.error(`\ncheck-docs: ${errors.length} error(s) in ${checked} ts blocks (${skipped} skipped) of ${markdownFiles().join(', ')}`);
  process.exit(1);
}
console.log(`check-docs: ${checked} ts blocks type-check against the built package (${skipped} skipped) in ${markdownFiles().join(', ')}`);
