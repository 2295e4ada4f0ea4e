import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// The overlap timer before `retire` is awaited (through `result.retired`): a script whose only
// pending work is that timer must run `retire` and print, not exit 0 silently. The 200 ms is a
// behaviour (the timer fires), not a speed assertion.
const CHILD = (esm: boolean) => `
${esm ? "const { createSecrets } = await import('./src/index.ts');" : "const { createSecrets } = require('./src/index.ts');"}
let current = 'a'.repeat(16);
const writable = {
  name: 'writable', schemes: ['test'], logical: true,
  resolve: async () => ({ value: current, version: '1' }),
  rotate: async (_ref, value) => { current = value; return { value, version: '2' }; },
};
const secrets = createSecrets({ environment: 'dev', providers: [writable] });
${esm ? '' : '(async () => {'}
const result = await secrets.rotate('test://a', { generate: { length: 16 } }, { overlapMs: 200, retire: () => console.log('retired') });
console.log('done ' + (await result.retired));
process.exitCode = 3;
${esm ? '' : '})();'}
`;

describe('the overlap timer keeps the process alive while retired is awaited', () => {
  it.each([
    ['ESM', ['--input-type=module']],
    ['CommonJS', ['--input-type=commonjs']],
  ])('%s', async (kind, flags) => {
    const result = await run(process.execPath, ['--import', 'tsx', ...flags, '-e', CHILD(kind === 'ESM')], { cwd: ROOT, timeout: 60_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(result).toEqual({ code: 3, stdout: 'retired\ndone true\n' });
  });
});
