/**
 * The store file format (version 1): one canonical, indented JSON document per environment.
 *
 * ```json
 * {
 *   "createdAt": "2025-01-01T00:00:00.000Z",
 *   "entries": {
 *     "orders-db/password": {
 *       "createdAt": "…", "updatedAt": "…",
 *       "metadata": { "owner": "data-platform", "sensitivity": "critical" },
 *       "versions": [
 *         { "ciphertext": "<base64 AES-256-GCM ciphertext + 16-byte tag>", "createdAt": "…",
 *           "encoding": "utf8", "nonce": "<base64 12 bytes>", "version": 1 }
 *       ]
 *     }
 *   },
 *   "environment": "prod",
 *   "format": "connector-secrets.local-store",
 *   "formatVersion": 1,
 *   "kdf": { "name": "none" },
 *   "keyId": "<hex 16 bytes>",
 *   "mac": "<hex HMAC-SHA256 of the canonical compact JSON of every other field>",
 *   "updatedAt": "…"
 * }
 * ```
 *
 * The file must be byte-for-byte the canonical form, so that no byte can change undetected.
 *
 * @internal
 * @module
 */
import { SecretFormatError } from '../../errors.js';
import { canonicalJson } from './canonical.js';
import { KEY_ID_BYTES, NONCE_BYTES, TAG_BYTES, scryptParamsProblem, type ScryptParams } from './crypto.js';
import { entryNameProblem, isEnvironmentTag, metadataProblem } from './names.js';

/** The `format` field of every store file. */
export const FORMAT = 'connector-secrets.local-store';
/** The only format version this code reads and writes. */
export const FORMAT_VERSION = 1;

/** How a value's bytes are to be returned: `utf8` as a string, `bytes` as a Uint8Array. */
export type ValueEncoding = 'utf8' | 'bytes';

/** How the master key is obtained: given directly (`none`) or derived from a passphrase. */
export type Kdf = { readonly name: 'none' } | ({ readonly name: 'scrypt'; readonly salt: string } & ScryptParams);

/** One encrypted version of an entry. */
export interface StoredVersion {
  readonly version: number;
  readonly createdAt: string;
  readonly encoding: ValueEncoding;
  /** Base64 of the 12-byte nonce. */
  readonly nonce: string;
  /** Base64 of the ciphertext followed by the 16-byte GCM tag. */
  readonly ciphertext: string;
}

/** One entry: its metadata and every version, oldest first; the last is current. */
export interface StoredEntry {
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly versions: readonly StoredVersion[];
}

/** The store document without its MAC. */
export interface StoreDocument {
  readonly environment: string;
  readonly kdf: Kdf;
  readonly keyId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly entries: ReadonlyMap<string, StoredEntry>;
}

/** A parsed store file: the document, its MAC, and the exact text the MAC covers. */
export interface ParsedStore {
  readonly doc: StoreDocument;
  readonly mac: string;
  readonly macInput: string;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^[0-9a-f]+$/;

/** The JSON object of `doc` without the MAC, ready for {@link canonicalJson}. */
export function documentBody(doc: StoreDocument): Record<string, unknown> {
  const entries = Object.fromEntries(
    [...doc.entries].map(([name, entry]) => [
      name,
      {
        metadata: Object.fromEntries(Object.entries(entry.metadata)),
        createdAt: entry.createdAt,
        updatedAt: entry.updatedAt,
        versions: entry.versions.map((v) => ({ ...v })),
      },
    ]),
  );
  return {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    environment: doc.environment,
    kdf: { ...doc.kdf },
    keyId: doc.keyId,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    entries,
  };
}

/** The text the MAC is computed over: the canonical compact JSON of everything but the MAC. */
export function macInput(doc: StoreDocument): string {
  return canonicalJson(documentBody(doc));
}

/** The file text: canonical JSON indented by two spaces, with a final newline. */
export function serializeStore(doc: StoreDocument, mac: string): string {
  return canonicalJson({ ...documentBody(doc), mac }, 2) + '\n';
}

/** The error for a file that is not what this store writes. Never includes file content. */
export function formatError(file: string, what: string, cause?: unknown): SecretFormatError {
  return new SecretFormatError(`store file ${file} ${what}; the store file was modified or is corrupt`, cause === undefined ? {} : { cause });
}

/**
 * Parses and strictly validates store file text (shape, canonical form, bounds). It does not
 * check the MAC; the caller does, once it has the key.
 *
 * @throws {@link SecretFormatError} naming the file and the problem, never a value.
 */
export function parseStore(text: string, file: string): ParsedStore {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The SyntaxError's message quotes the text around the problem: never pass it on.
    throw formatError(file, 'is not valid JSON');
  }
  let canonical: string | undefined;
  try {
    canonical = canonicalJson(parsed, 2) + '\n';
  } catch {
    canonical = undefined;
  }
  if (canonical !== text) throw formatError(file, 'is not in the canonical form the store writes');

  const root = object(parsed, file, 'the document');
  exactKeys(root, ['createdAt', 'entries', 'environment', 'format', 'formatVersion', 'kdf', 'keyId', 'mac', 'updatedAt'], file, 'the document');
  if (root['format'] !== FORMAT) throw formatError(file, 'is not a connector-secrets local store (field "format")');
  if (root['formatVersion'] !== FORMAT_VERSION) {
    throw new SecretFormatError(
      `store file ${file} has format version ${typeof root['formatVersion'] === 'number' ? root['formatVersion'] : '?'}; this version of connector-secrets reads version ${FORMAT_VERSION}`,
    );
  }
  if (!isEnvironmentTag(root['environment'])) throw formatError(file, 'has an invalid "environment" tag');
  const keyId = hex(root['keyId'], KEY_ID_BYTES, file, '"keyId"');
  const mac = hex(root['mac'], 32, file, '"mac"');
  const kdf = parseKdf(root['kdf'], file);
  const entriesObject = object(root['entries'], file, '"entries"');
  const entries = new Map<string, StoredEntry>();
  for (const name of Object.keys(entriesObject).sort()) {
    if (entryNameProblem(name) !== undefined) throw formatError(file, 'has an invalid entry name');
    entries.set(name, parseEntry(entriesObject[name], file, `entry "${name}"`));
  }
  const doc: StoreDocument = {
    environment: root['environment'],
    kdf,
    keyId,
    createdAt: time(root['createdAt'], file, '"createdAt"'),
    updatedAt: time(root['updatedAt'], file, '"updatedAt"'),
    entries,
  };
  const { mac: _omit, ...body } = root;
  return { doc, mac, macInput: canonicalJson(body) };
}

function parseKdf(value: unknown, file: string): Kdf {
  const kdf = object(value, file, '"kdf"');
  if (kdf['name'] === 'none') {
    exactKeys(kdf, ['name'], file, '"kdf"');
    return { name: 'none' };
  }
  if (kdf['name'] !== 'scrypt') throw formatError(file, 'has an unknown key derivation in "kdf"');
  exactKeys(kdf, ['N', 'name', 'p', 'r', 'salt'], file, '"kdf"');
  const salt = base64(kdf['salt'], file, '"kdf.salt"');
  const saltBytes = Buffer.from(salt, 'base64').length;
  if (saltBytes < 16 || saltBytes > 64) throw formatError(file, 'has a scrypt salt that is not 16-64 bytes');
  const params = { N: kdf['N'], r: kdf['r'], p: kdf['p'] } as ScryptParams;
  const problem = scryptParamsProblem(params);
  if (problem !== undefined) throw formatError(file, `has scrypt parameters out of bounds (${problem})`);
  return { name: 'scrypt', salt, ...params };
}

function parseEntry(value: unknown, file: string, where: string): StoredEntry {
  const entry = object(value, file, where);
  exactKeys(entry, ['createdAt', 'metadata', 'updatedAt', 'versions'], file, where);
  const metadata = object(entry['metadata'], file, `${where} metadata`);
  if (metadataProblem(metadata) !== undefined) throw formatError(file, `has invalid metadata in ${where}`);
  const versionsValue = entry['versions'];
  if (!Array.isArray(versionsValue) || versionsValue.length === 0) throw formatError(file, `has no versions in ${where}`);
  const versions: StoredVersion[] = [];
  let previous = 0;
  for (const item of versionsValue as unknown[]) {
    const v = parseVersion(item, file, where);
    if (v.version <= previous) throw formatError(file, `has versions out of order in ${where}`);
    previous = v.version;
    versions.push(v);
  }
  return {
    metadata: Object.fromEntries(Object.entries(metadata as Record<string, string>)),
    createdAt: time(entry['createdAt'], file, `${where} "createdAt"`),
    updatedAt: time(entry['updatedAt'], file, `${where} "updatedAt"`),
    versions,
  };
}

function parseVersion(value: unknown, file: string, where: string): StoredVersion {
  const v = object(value, file, `a version of ${where}`);
  exactKeys(v, ['ciphertext', 'createdAt', 'encoding', 'nonce', 'version'], file, `a version of ${where}`);
  const version = v['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw formatError(file, `has an invalid version number in ${where}`);
  }
  const at = `${where} version ${version}`;
  const encoding = v['encoding'];
  if (encoding !== 'utf8' && encoding !== 'bytes') throw formatError(file, `has an unknown encoding in ${at}`);
  const nonce = base64(v['nonce'], file, `${at} nonce`);
  if (Buffer.from(nonce, 'base64').length !== NONCE_BYTES) throw formatError(file, `has a nonce that is not ${NONCE_BYTES} bytes in ${at}`);
  const ciphertext = base64(v['ciphertext'], file, `${at} ciphertext`);
  if (Buffer.from(ciphertext, 'base64').length < TAG_BYTES) throw formatError(file, `has a truncated ciphertext in ${at}`);
  return { version, createdAt: time(v['createdAt'], file, `${at} "createdAt"`), encoding, nonce, ciphertext };
}

function object(value: unknown, file: string, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw formatError(file, `has a non-object ${where}`);
  return value as Record<string, unknown>;
}

function exactKeys(value: Record<string, unknown>, keys: readonly string[], file: string, where: string): void {
  const actual = Object.keys(value).sort();
  if (actual.length !== keys.length || actual.some((k, i) => k !== keys[i])) {
    throw formatError(file, `has unexpected or missing fields in ${where}`);
  }
}

function time(value: unknown, file: string, where: string): string {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) throw formatError(file, `has an invalid time in ${where}`);
  return value;
}

function base64(value: unknown, file: string, where: string): string {
  if (typeof value !== 'string' || !BASE64.test(value)) throw formatError(file, `has invalid base64 in ${where}`);
  return value;
}

function hex(value: unknown, bytes: number, file: string, where: string): string {
  if (typeof value !== 'string' || value.length !== bytes * 2 || !HEX.test(value)) throw formatError(file, `has an invalid ${where}`);
  return value;
}
