/**
 * Inline allow comments: `connector-secrets-allow` on a finding's line or the line above it
 * silences every rule there; `connector-secrets:allow <rule>[,<rule>…]` only the rules named.
 * Works in any comment syntax (`//`, `#`, `<!-- -->`, `--`): only the marker is looked for.
 *
 * @module
 */

const ANY = 'connector-secrets-allow';
const SOME = 'connector-secrets:allow';

/** Whether `line` (the text of one line) allows `rule`. */
export function lineAllows(line: string, rule: string): boolean {
  if (line.includes(ANY)) return true;
  let at = line.indexOf(SOME);
  while (at !== -1) {
    const rest = line.slice(at + SOME.length).match(/^[ \t]+([a-z0-9-]+(?:[ \t]*,[ \t]*[a-z0-9-]+)*)/);
    if (rest !== null && rest[1]!.split(',').some((r) => r.trim() === rule)) return true;
    at = line.indexOf(SOME, at + SOME.length);
  }
  return false;
}
