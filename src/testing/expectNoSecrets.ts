import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import { basicAuthForms, deriveBinaryForms, deriveForms, type DerivedForm } from '../redact/derive.js';
import { DEFAULT_ALLOWLIST } from '../redact/options.js';
import { Secret } from '../secret.js';

/** A secret to look for: its value, its bytes, or the `Secret` holding it. */
export type SecretLike = string | Uint8Array | Secret<unknown>;

/**
 * Options of {@link expectNoSecrets}. The defaults are the redactor's own rules, so a value the
 * redactor deliberately leaves visible (too short, a common word) is not reported; lower
 * `minLength`, shrink `allowlist` or set `includeUnmasked` to be stricter than the redactor.
 *
 * @example
 * ```ts
 * expectNoSecrets(logs, [password], { minLength: secrets.redactor.minLength });
 * expectNoSecrets(logs, [pin], { includeUnmasked: true }); // report even what the redactor leaves visible
 * ```
 */
export interface ExpectNoSecretsOptions {
  /**
   * A value, line or JSON field shorter than this (trimmed) is not looked for, as the redactor
   * does not mask it. Pass the client's `redaction.minLength` if you changed it.
   * @default 5 (the redactor's default)
   */
  readonly minLength?: number;
  /**
   * Words the redactor never masks (compared trimmed, case-insensitively); a value, line or
   * field equal to one is not looked for. Pass the client's `redaction.allowlist` if you changed it.
   * @default DEFAULT_ALLOWLIST (the redactor's default)
   */
  readonly allowlist?: readonly string[];
  /**
   * Also report values the redactor leaves visible (shorter than `minLength`, on the
   * allowlist): for a test that must prove such a value never shows up at all.
   * @default false
   */
  readonly includeUnmasked?: boolean;
}

/** What the redactor would mask, by the same rules. */
interface Rules {
  readonly minLength: number;
  /** True for a text the redactor leaves visible (and the check was not asked to include). */
  readonly skip: (text: string) => boolean;
}

function rulesOf(options: ExpectNoSecretsOptions): Rules {
  const minLength = options.minLength ?? 5;
  const allow = new Set((options.allowlist ?? DEFAULT_ALLOWLIST).map((w) => w.trim().toLowerCase()));
  if (options.includeUnmasked === true) return { minLength: 1, skip: (text) => text.trim() === '' };
  return { minLength, skip: (text) => { const t = text.trim(); return t.length < minLength || allow.has(t.toLowerCase()); } };
}

/** Output in any shape a test captures: text, bytes, a list of them, or any value (inspected and JSON-serialized). */
export type CapturedOutput = string | Uint8Array | readonly (string | Uint8Array)[] | unknown;

/**
 * Asserts that none of `secrets` appears in `output` in any of the spellings a leak takes: the
 * value itself, base64 and base64url (also inside a longer base64 blob), URL-encoded,
 * JSON-escaped, each line of a multi-line secret, each string field of a JSON secret. Works
 * with any test runner: it throws an `AssertionError` that names which secret leaked (by index
 * and ref) and in which form — never the secret itself.
 *
 * @param output - what the code under test wrote: a string, bytes, a list of chunks, or any value.
 * @param secrets - the values, bytes or `Secret`s that must not appear.
 * @throws AssertionError when a secret appears; `SecretDisposedError` when a `Secret` was
 *   disposed (its value can no longer be looked for).
 * @example
 * ```ts
 * const out = await captureOutput(() => runConnector(secrets));
 * expectNoSecrets(out.text, [await secrets.get('env://API_TOKEN')]);
 * ```
 */
export function expectNoSecrets(output: CapturedOutput, secrets: Iterable<SecretLike>, options: ExpectNoSecretsOptions = {}): void {
  const leaks = findLeaks(output, secrets, options);
  if (leaks.length === 0) return;
  const lines = leaks.map((l) => `- secret #${l.index}${l.ref === undefined ? '' : ` (${l.ref})`}${l.part === undefined ? '' : `, ${l.part}`}: ${l.kind} form at offset ${l.offset}`);
  throw new AssertionError({
    message: `${leaks.length === 1 ? 'a secret' : `${leaks.length} secrets`} leaked into the output:\n${lines.join('\n')}`,
    stackStartFn: expectNoSecrets,
  });
}

/** One leak found by {@link findLeaks}: which secret, which part and form, where. Never the value. */
export interface Leak {
  /** Index of the secret in the list given. */
  readonly index: number;
  /** Its ref, when it was a `Secret` with one. */
  readonly ref: string | undefined;
  /** `line 3` or `field password` when only a part of it was found. */
  readonly part: string | undefined;
  /** The form found: `raw`, `base64`, `url-encoded` … */
  readonly kind: string;
  /** Where in the output (in characters of its text, or bytes read as Latin-1). */
  readonly offset: number;
}

/**
 * Every leak of `secrets` in `output` (what {@link expectNoSecrets} asserts is empty).
 *
 * @example
 * ```ts
 * const leaks = findLeaks(output, [token]);
 * ```
 */
export function findLeaks(output: CapturedOutput, secrets: Iterable<SecretLike>, options: ExpectNoSecretsOptions = {}): Leak[] {
  const rules = rulesOf(options);
  const haystacks = texts(output);
  const leaks: Leak[] = [];
  let index = 0;
  for (const secret of secrets) {
    const ref = secret instanceof Secret ? secret.ref : undefined;
    for (const { part, forms } of formsOf(secret, rules)) {
      for (const form of forms) {
        for (const hay of haystacks) {
          const offset = hay.indexOf(form.text);
          if (offset !== -1) {
            leaks.push({ index, ref, part, kind: form.kind, offset });
            break;
          }
        }
      }
    }
    index += 1;
  }
  return dedupe(leaks);
}

/** The searchable texts of an output: strings as they are, bytes as Latin-1 (plus UTF-8 when valid). */
function texts(output: CapturedOutput): string[] {
  if (typeof output === 'string') return [output];
  if (output instanceof Uint8Array) return bytesTexts(output);
  if (Array.isArray(output) && output.every((c) => typeof c === 'string' || c instanceof Uint8Array)) {
    const chunks = output as readonly (string | Uint8Array)[];
    if (chunks.every((c) => typeof c === 'string')) return [chunks.join('')];
    return bytesTexts(Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))));
  }
  const out = [inspect(output, { depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity, breakLength: Infinity })];
  try {
    const json = JSON.stringify(output);
    if (json !== undefined) out.push(json);
  } catch {
    // Cycles, BigInt: the inspected text is enough.
  }
  return out;
}

function bytesTexts(bytes: Uint8Array): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [buf.toString('latin1'), buf.toString('utf8')];
}

interface PartForms {
  readonly part: string | undefined;
  readonly forms: readonly DerivedForm[];
}

/** The forms to look for, as the redactor registers them: the whole secret, its lines, its JSON string fields, Basic-auth pairs. */
function formsOf(secret: SecretLike, rules: Rules): PartForms[] {
  const { minLength, skip } = rules;
  // A disposed Secret throws SecretDisposedError here: a check that looks for nothing must not
  // pass as if the output were clean.
  const value: unknown = secret instanceof Secret ? secret.reveal() : secret;
  if (value instanceof Uint8Array) return value.byteLength === 0 || value.byteLength < minLength ? [] : [{ part: undefined, forms: deriveBinaryForms(value, minLength) }];
  if (typeof value === 'object' && value !== null) return fieldForms(value, '', rules);
  // A number (an account number, a PIN) leaks as its decimal form, which the redactor registers.
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return skip(String(value)) ? [] : [{ part: undefined, forms: deriveForms(String(value), minLength) }];
  if (typeof value !== 'string' || skip(value)) return [];
  const out: PartForms[] = [{ part: undefined, forms: deriveForms(value, minLength) }];
  if (value.trim() !== value) out.push({ part: 'trimmed', forms: deriveForms(value.trim(), minLength) });
  if (/[\r\n]/.test(value)) {
    value.split(/\r?\n|\r/).forEach((line, i) => {
      const t = line.trim();
      if (!skip(t) && !/^-{5}(BEGIN|END) /.test(t)) out.push({ part: `line ${i + 1}`, forms: deriveForms(t, minLength) });
    });
  }
  const first = value.trimStart().charAt(0);
  if (first === '{' || first === '[') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'object' && parsed !== null) out.push(...fieldForms(parsed, '', rules));
    } catch {
      // Not JSON: the whole value and its lines are looked for.
    }
  }
  return out;
}

const USERNAME_KEYS = ['username', 'user', 'login', 'userName', 'user_name'];
const PASSWORD_KEYS = ['password', 'pass', 'passwd', 'pwd'];

function fieldForms(node: object, path: string, rules: Rules): PartForms[] {
  const out: PartForms[] = [];
  for (const [key, v] of Object.entries(node)) {
    const p = path === '' ? key : `${path}.${key}`;
    if (typeof v === 'string' && !rules.skip(v)) out.push({ part: `field ${p}`, forms: deriveForms(v, rules.minLength) });
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') {
      if (!rules.skip(String(v))) out.push({ part: `field ${p}`, forms: deriveForms(String(v), rules.minLength) });
    } else if (typeof v === 'object' && v !== null) out.push(...fieldForms(v, p, rules));
  }
  // The redactor also masks the Basic-auth token of a username/password pair.
  if (!Array.isArray(node)) {
    const record = node as Record<string, unknown>;
    const user = USERNAME_KEYS.map((k) => record[k]).find((v): v is string => typeof v === 'string');
    const pass = PASSWORD_KEYS.map((k) => record[k]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
    if (user !== undefined && pass !== undefined && pass.trim().length >= rules.minLength) {
      out.push({ part: path === '' ? 'basic-auth' : `basic-auth ${path}`, forms: basicAuthForms(user, pass).map((text) => ({ kind: 'basic-auth', text })) });
    }
  }
  return out;
}

/** One leak per secret and part (the first form found). */
function dedupe(leaks: Leak[]): Leak[] {
  const seen = new Set<string>();
  return leaks.filter((l) => {
    const key = `${l.index}\0${l.part ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
