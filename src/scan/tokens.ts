/**
 * Token shapes the redactor has no detector for (npm, SendGrid, Twilio, GitLab, Shopify, OpenAI,
 * Anthropic, DigitalOcean, Hugging Face, PyPI, Docker Hub, Linear). The scanner's byte loop finds
 * each run of word characters (`[A-Za-z0-9_-]`) and hands the runs long enough to be a token to
 * {@link tokenAt}, which looks at the first byte and then at the exact shape: no regular
 * expression runs over the text.
 *
 * Prefixes are written apart from any body, so this file does not trip scanners itself.
 *
 * @module
 */
import { mixedCase } from './entropy.js';
import type { RuleId } from './rules.js';

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
const isWord = (c: number): boolean => isAlnum(c) || c === 95 || c === 45;

/** `bytes` has the ASCII `prefix` at `at`. */
function startsWith(bytes: Uint8Array, at: number, prefix: string): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[at + k] !== prefix.charCodeAt(k)) return false;
  return true;
}

/** Every byte of `[from, to)` satisfies `ok`. */
function all(bytes: Uint8Array, from: number, to: number, ok: (c: number) => boolean): boolean {
  for (let i = from; i < to; i++) if (!ok(bytes[i]!)) return false;
  return true;
}

/** `[from, to)` holds at least one digit and one letter (a random body, not a word). */
function mixed(bytes: Uint8Array, from: number, to: number): boolean {
  let digit = false;
  let letter = false;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) digit = true;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letter = true;
    if (digit && letter) return true;
  }
  return false;
}


/** A prefix, then a body of `min`–`max` bytes satisfying `body`, ending the run. */
interface Shape {
  readonly prefix: string;
  readonly rule: RuleId;
  readonly min: number;
  readonly max: number;
  readonly body: (c: number) => boolean;
  /** The body must mix digits and letters (most do); Hugging Face tokens are letters only and mix cases instead. */
  readonly letters?: boolean;
}

const P = (a: string, b: string): string => a + b;

/** Shapes by the first byte of their prefix. */
const SHAPES: ReadonlyMap<number, readonly Shape[]> = group([
  { prefix: P('npm', '_'), rule: 'npm-token', min: 36, max: 36, body: isAlnum },
  { prefix: P('glpat', '-'), rule: 'gitlab-token', min: 20, max: 64, body: isWord },
  { prefix: P('gldt', '-'), rule: 'gitlab-token', min: 20, max: 64, body: isWord },
  { prefix: P('glptt', '-'), rule: 'gitlab-token', min: 40, max: 40, body: isHex },
  { prefix: P('shpat', '_'), rule: 'shopify-token', min: 32, max: 32, body: isHex },
  { prefix: P('shpca', '_'), rule: 'shopify-token', min: 32, max: 32, body: isHex },
  { prefix: P('shppa', '_'), rule: 'shopify-token', min: 32, max: 32, body: isHex },
  { prefix: P('shpss', '_'), rule: 'shopify-token', min: 32, max: 32, body: isHex },
  { prefix: P('sk-ant-', 'api03-'), rule: 'anthropic-api-key', min: 80, max: 120, body: isWord },
  { prefix: P('sk-ant-', 'admin01-'), rule: 'anthropic-api-key', min: 80, max: 120, body: isWord },
  { prefix: P('sk-', 'proj-'), rule: 'openai-api-key', min: 40, max: 200, body: isWord },
  { prefix: P('sk-', 'svcacct-'), rule: 'openai-api-key', min: 40, max: 200, body: isWord },
  { prefix: P('sk-', 'admin-'), rule: 'openai-api-key', min: 40, max: 200, body: isWord },
  { prefix: P('dop', '_v1_'), rule: 'digitalocean-token', min: 64, max: 64, body: isHex },
  { prefix: P('doo', '_v1_'), rule: 'digitalocean-token', min: 64, max: 64, body: isHex },
  { prefix: P('dor', '_v1_'), rule: 'digitalocean-token', min: 64, max: 64, body: isHex },
  { prefix: P('hf', '_'), rule: 'huggingface-token', min: 30, max: 40, body: isAlnum, letters: true },
  { prefix: P('pypi-', 'AgEIcHlwaS5vcmc'), rule: 'pypi-token', min: 50, max: 400, body: isWord },
  { prefix: P('dckr', '_pat_'), rule: 'docker-hub-token', min: 20, max: 40, body: isWord },
  { prefix: P('lin', '_api_'), rule: 'linear-api-key', min: 40, max: 40, body: isAlnum },
]);

function group(shapes: readonly Shape[]): Map<number, Shape[]> {
  const out = new Map<number, Shape[]>();
  for (const s of shapes) {
    const k = s.prefix.charCodeAt(0);
    out.set(k, [...(out.get(k) ?? []), s]);
  }
  return out;
}

/** The shortest run a token of {@link SHAPES} (or a Twilio key) can be; shorter runs are not looked at. */
export const MIN_TOKEN_RUN = 20;

/** A token found at the start of a run: its rule and end. */
export interface TokenHit {
  readonly rule: RuleId;
  readonly end: number;
}

/**
 * The token that the word run `bytes[from, to)` (a whole run: no word byte on either side) is,
 * if any. SendGrid keys span three runs joined by dots; see {@link sendgridAt}.
 */
export function tokenAt(bytes: Uint8Array, from: number, to: number): TokenHit | undefined {
  const first = bytes[from]!;
  const shapes = SHAPES.get(first);
  if (shapes !== undefined) {
    for (const s of shapes) {
      if (!startsWith(bytes, from, s.prefix)) continue;
      const len = to - from - s.prefix.length;
      if (len < s.min || len > s.max) continue;
      const bodyFrom = from + s.prefix.length;
      if (!all(bytes, bodyFrom, to, s.body) || !(s.letters === true ? mixedCase(bytes, bodyFrom, to) : mixed(bytes, bodyFrom, to))) continue;
      return { rule: s.rule, end: to };
    }
  }
  // Twilio API key: SK and 32 lower-case hex, the whole run.
  if (first === 83 && bytes[from + 1] === 75 && to - from === 34 && all(bytes, from + 2, to, isHex) && mixed(bytes, from + 2, to)) {
    return { rule: 'twilio-api-key', end: to };
  }
  return undefined;
}

/**
 * SendGrid: `SG.` + 22 + `.` + 43 base64url bytes, starting at the run `SG` (`bytes[from]` is `S`,
 * the run is two long and a dot follows). Returns the end, or -1.
 */
export function sendgridAt(bytes: Uint8Array, from: number): number {
  if (bytes[from] !== 83 || bytes[from + 1] !== 71 || bytes[from + 2] !== 46) return -1;
  let i = from + 3;
  const a = i;
  while (i < bytes.length && isWord(bytes[i]!)) i++;
  if (i - a !== 22 || bytes[i] !== 46) return -1;
  const b = ++i;
  while (i < bytes.length && isWord(bytes[i]!)) i++;
  if (i - b !== 43 || !mixed(bytes, b, i)) return -1;
  return i;
}
