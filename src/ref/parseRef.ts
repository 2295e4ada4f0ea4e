import { InvalidSecretRefError } from '../errors.js';
import { LOGICAL_SCHEME, type SecretRef } from './types.js';
import { formatRef } from './formatRef.js';

const REF_BRAND = Symbol.for('connector-secrets.ref');
const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const MAX_LENGTH = 4096;

/**
 * Parses a secret reference of the form `scheme://path[?param=value&…][#field]`.
 *
 * The path is percent-decoded; empty segments, `.` and `..` segments (also percent-encoded),
 * encoded `/`, NUL and control characters are rejected; NUL and control characters are
 * rejected in param values and the field too, raw or percent-encoded. Params are accepted by
 * name here; the client rejects a param that neither is reserved (`version`, `env`, `stage`) nor is
 * declared by a provider serving the ref.
 *
 * A raw `@` anywhere is rejected (write `%40`): it is how a connection URL marks credentials
 * (`postgres://user:p/ss@host`), and a password may contain `/`, `?` or `#`, so no other part of
 * the input can be trusted to say where the credentials end.
 *
 * Path segments must read the same to every layer: a segment that is not in Unicode NFC, or that
 * holds a character whose upper- or lower-case form changes length or becomes ASCII (`ß`, `ı`,
 * `ſ`, the Kelvin sign, ligatures such as `ﬀ`), is rejected, because a provider that maps case
 * (environment variable names) would read it as another, plain-ASCII name.
 *
 * @throws {@link InvalidSecretRefError} (code `INVALID_REF`) saying what is wrong and where. No
 * message, property or cause ever contains a part of the input: it may be a secret pasted by
 * mistake.
 *
 * @example
 * ```ts
 * const ref = parseRef('local://orders-db/password?version=2');
 * String(ref); // 'local://orders-db/password?version=2'
 * ```
 */
export function parseRef(input: string): SecretRef {
  if (typeof input !== 'string') {
    throw new InvalidSecretRefError(`a secret reference must be a string, got ${typeof input}`);
  }
  const sep = input.indexOf('://');
  const scheme = sep > 0 ? input.slice(0, sep) : '';
  if (!SCHEME.test(scheme)) {
    // Without a recognisable scheme the input may be a pasted secret: never echo it.
    throw new InvalidSecretRefError(
      `input of length ${input.length} is not a secret reference (expected scheme://path); it is not shown in case it is a secret`,
    );
  }
  if (input.length > MAX_LENGTH) {
    throw new InvalidSecretRefError(`the reference is ${input.length} characters long; the limit is ${MAX_LENGTH}`);
  }
  const lone = firstLoneSurrogate(input);
  if (lone !== -1) throw fail('lone surrogate (not well-formed unicode)', lone);
  const bad = firstControl(input);
  if (bad !== -1) throw fail('control or NUL character', bad);
  const envToken = input.indexOf('{env}');
  if (envToken !== -1) {
    // A manifest entry's ref used as it is declared: say so, rather than "invalid character".
    throw new InvalidSecretRefError(
      `invalid reference: an unreplaced {env} at position ${envToken}; secrets.load(manifest) and secrets.handle(manifest.specs.<name>) fill it in with the environment`,
      { position: envToken },
    );
  }

  const atSign = input.indexOf('@', sep + 3);
  if (atSign !== -1) {
    // `user:password@host` is a connection URL with credentials, not a reference: never echo it.
    throw new InvalidSecretRefError(
      `input of length ${input.length} has a raw "@" at position ${atSign}, as a connection URL with credentials has; it is not shown (write "@" in a reference as %40)`,
      { position: atSign },
    );
  }

  let rest = input.slice(sep + 3);
  let offset = sep + 3;
  let fieldPath: string[] | undefined;
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    fieldPath = parseField(rest.slice(hash + 1), offset + hash + 1);
    rest = rest.slice(0, hash);
  }
  let params: Record<string, string> = {};
  const question = rest.indexOf('?');
  if (question !== -1) {
    params = parseParams(rest.slice(question + 1), offset + question + 1);
    rest = rest.slice(0, question);
  }

  const absolute = rest.startsWith('/');
  if (absolute) {
    rest = rest.slice(1);
    offset += 1;
  }
  if (rest === '') throw fail('empty path', offset);
  const segments: string[] = [];
  let at = offset;
  for (const raw of rest.split('/')) {
    if (raw === '') throw fail('empty path segment', at);
    const seg = decode(raw, at, 'path segment');
    if (seg.includes('/')) throw fail('encoded "/" in a path segment', at);
    if (seg === '.' || seg === '..') throw fail(`"${seg}" path segment`, at);
    const unstable = caseUnstable(seg);
    if (unstable !== undefined) throw fail(`path segment ${unstable}, so layers that map case would read another name`, at);
    segments.push(seg);
    at += raw.length + 1;
  }
  return makeRef(scheme, absolute, segments, params, fieldPath);
}

/**
 * True when `value` is a {@link SecretRef} made by {@link parseRef} (from any installed copy).
 *
 * @example
 * ```ts
 * isSecretRef(parseRef('env://API_TOKEN')); // true
 * isSecretRef('env://API_TOKEN');           // false: a string, not a parsed ref
 * ```
 */
export function isSecretRef(value: unknown): value is SecretRef {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REF_BRAND] === true;
}

/** Builds a frozen ref; `toString` is computed once, so refs are cheap to use as keys. */
function makeRef(
  scheme: string,
  absolute: boolean,
  segments: string[],
  params: Record<string, string>,
  fieldPath: string[] | undefined,
): SecretRef {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(params).sort()) sorted[name] = params[name]!;
  const base = {
    scheme,
    path: (absolute ? '/' : '') + segments.join('/'),
    segments: Object.freeze(segments),
    params: Object.freeze(sorted),
    logical: scheme === LOGICAL_SCHEME,
    ...(fieldPath === undefined ? {} : { field: fieldPath.join('.'), fieldPath: Object.freeze(fieldPath) }),
  };
  const canonical = formatRef(base);
  const ref = Object.defineProperties(base, {
    toString: { value: () => canonical },
    [REF_BRAND]: { value: true },
  });
  return Object.freeze(ref) as SecretRef;
}

function parseParams(query: string, offset: number): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  if (query === '') throw fail('empty query', offset);
  let at = offset;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    // Param names are not quoted: `https://host/x?<token>` puts a secret where a name would be.
    if (!PARAM_NAME.test(name)) throw fail('invalid param name', at);
    if (eq === -1 || eq === pair.length - 1) throw fail('param has no value', at);
    if (name in params) throw fail('param given twice', at);
    params[name] = decode(pair.slice(eq + 1), at + eq + 1, 'param value');
    at += pair.length + 1;
  }
  return { ...params };
}

function parseField(raw: string, offset: number): string[] {
  if (raw === '') throw fail('empty field after "#"', offset);
  let at = offset;
  const parts: string[] = [];
  for (const part of raw.split('.')) {
    if (part === '') throw fail('empty field segment', at);
    parts.push(decode(part, at, 'field'));
    at += part.length + 1;
  }
  return parts;
}

/** Percent-decodes one component; an encoded control or NUL character is rejected like a raw one. */
function decode(raw: string, at: number, what: string): string {
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    throw fail(`invalid percent-encoding in ${what}`, at);
  }
  if (firstControl(text) !== -1) throw fail(`encoded control or NUL character in ${what}`, at);
  return text;
}

/** Index of the first unpaired UTF-16 surrogate, or -1 when `text` is well-formed. */
function firstLoneSurrogate(text: string): number {
  if (text.isWellFormed()) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * Why a path segment would be read differently by a layer that maps case or normalizes, or
 * `undefined` when it reads the same everywhere. ASCII is stable; a non-ASCII character is
 * unstable when its upper- or lower-case form has another length or contains ASCII (so
 * `toUpperCase` turns `admın` into `ADMIN` and `paßword` into `PASSWORD`).
 */
export function caseUnstable(segment: string): string | undefined {
  if (/^[\x00-\x7f]*$/.test(segment)) return undefined;
  if (segment.normalize('NFC') !== segment) return 'is not in Unicode NFC';
  for (const ch of segment) {
    if (ch.charCodeAt(0) < 0x80) continue;
    const upper = ch.toUpperCase();
    const lower = ch.toLowerCase();
    if (upper.length !== ch.length || lower.length !== ch.length || /[\x00-\x7f]/.test(upper + lower)) {
      return 'has a character whose case mapping changes its length or makes it ASCII';
    }
  }
  return undefined;
}

function firstControl(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
}

function fail(what: string, position: number): InvalidSecretRefError {
  return new InvalidSecretRefError(`invalid reference: ${what} at position ${position}`, { position });
}
