import { describe, expect, it } from 'vitest';
import { IgnoreFile, IgnoreStack } from '../../src/scan/gitignore.js';

describe('gitignore matcher (gitignore(5))', () => {
  const f = (text: string) => new IgnoreFile(text);

  it('names match at any depth; a slash anchors; a trailing slash means directories only', () => {
    const g = f('*.log\n/build\ndist/\ndocs/*.tmp\n# comment\n\n');
    expect(g.decide('a.log', false)).toBe(true);
    expect(g.decide('deep/er/a.log', false)).toBe(true);
    expect(g.decide('build', true)).toBe(true);
    expect(g.decide('sub/build', true)).toBeUndefined(); // anchored to the file's directory
    expect(g.decide('dist', true)).toBe(true);
    expect(g.decide('dist', false)).toBeUndefined(); // a file named dist is not a directory
    expect(g.decide('dist/x.js', false)).toBe(true); // inside an ignored directory
    expect(g.decide('docs/a.tmp', false)).toBe(true);
    expect(g.decide('docs/sub/a.tmp', false)).toBeUndefined(); // * does not cross /
    expect(g.decide('# comment', false)).toBeUndefined();
  });

  it('negation: the last matching line wins', () => {
    const g = f('*.env\n!example.env\n');
    expect(g.decide('prod.env', false)).toBe(true);
    expect(g.decide('example.env', false)).toBe(false);
    expect(f('!keep.txt\n*.txt\n').decide('keep.txt', false)).toBe(true);
  });

  it('** crosses directories; ? and [] classes; escapes', () => {
    const g = f('**/secrets/**\na/**/b.txt\nfile?.c\n[!x]y.md\n\\#hash\n\\!bang\ntrailing\\ \n');
    expect(g.decide('secrets/x', false)).toBe(true);
    expect(g.decide('p/q/secrets/deep/x', false)).toBe(true);
    expect(g.decide('a/b.txt', false)).toBe(true);
    expect(g.decide('a/x/y/b.txt', false)).toBe(true);
    expect(g.decide('file1.c', false)).toBe(true);
    expect(g.decide('file12.c', false)).toBeUndefined();
    expect(g.decide('ay.md', false)).toBe(true);
    expect(g.decide('xy.md', false)).toBeUndefined();
    expect(g.decide('#hash', false)).toBe(true);
    expect(g.decide('!bang', false)).toBe(true);
    expect(g.decide('trailing ', false)).toBe(true);
  });

  it('a deeper .gitignore decides before the one above it', () => {
    const stack = new IgnoreStack().with('', f('*.json\n')).with('pkg', f('!config.json\n'));
    expect(stack.ignores('a.json', false)).toBe(true);
    expect(stack.ignores('pkg/config.json', false)).toBe(false);
    expect(stack.ignores('pkg/other.json', false)).toBe(true);
    expect(stack.ignores('other/config.json', false)).toBe(true);
  });
});
