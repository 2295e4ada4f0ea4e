// parseFlags names an unknown option only when it was typed as one: a pasted secret that starts
// with '-' is read by Node as options, and its characters must not reach the message.
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/cli/subcommands.js';

const options = { env: { type: 'string' as const } };

function message(args: string[]): string {
  try {
    parseFlags(args, options);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('parseFlags: unknown options', () => {
  it('names an option typed as one (alone, with =value, or a single letter), never its value', () => {
    expect(message(['--fomat'])).toBe("Unknown option '--fomat'");
    expect(message(['--audit-fle=x'])).toBe("Unknown option '--audit-fle'");
    expect(message(['--token=s3cr3t-value'])).toBe("Unknown option '--token'");
    expect(message(['-q'])).toBe("Unknown option '-q'");
  });

  it('does not name what only reads as options: a short-option group, or a long one not shaped like a name', () => {
    for (const pasted of ['-Yx7Hk2pQ9', '--x7Hk2pQ9_a', '--ABCDEFGHIJ', '--a-b-c-d-e-f-g', `--${'a'.repeat(60)}`]) {
      const text = message([pasted]);
      expect(text).toMatch(/^an unknown option \(not shown/);
      expect(text).not.toContain(pasted.slice(0, 2));
    }
  });
});
