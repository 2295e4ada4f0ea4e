import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type Hmac, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import type { AuditEvent, AuditHitSummary } from './event.js';
import { parseStrictJson } from './strictJson.js';

/** The `prev` of the first line of a log. */
export const GENESIS = '0'.repeat(64);

/**
 * The record format the writers emit. Version 3 signs each write (a batch of lines) with one MAC:
 * only the batch's last line carries `prev` and `mac`, and its MAC covers the exact bytes of the
 * lines before it in the batch (each with its newline) and its own up to `,"mac":`. A batch of
 * one line is a version 2 line with `"v":3`. Version 2 (still read, and continued by a version 3
 * writer) had a MAC on every line: an HMAC per line was most of an audited cache hit's cost.
 * Version 1 (no `v`) MACed a re-serialisation, so forged bytes could verify, and is not accepted.
 * A new kind of record is one more member of {@link AuditLineBody}, handled by `bodyText` and
 * `parseBody` (as cache-hit summaries are); the envelope and the MAC stay as they are.
 */
export const RECORD_VERSION = 3;

/** The format version before batches were sealed: a MAC on every line. */
const LINE_SEALED_VERSION = 2;

/** The signed closing record a file sink writes on close; its absence at the end of a log shows truncation. */
export interface AuditCheckpoint {
  /** When the sink closed (ISO 8601). */
  readonly ts: string;
  /** How many records (event and summary lines) were written since the previous checkpoint (or the start of the file). */
  readonly count: number;
  /** The identity of the log's writer (every event of the log names the same). */
  readonly identity: string | null;
  /** The environment of the log's writer (every event of the log names the same). */
  readonly environment: string;
}

/**
 * The body of a line: an event, a cache-hit summary, a checkpoint, or a `resumed` marker. A sink
 * that continues a log whose last session never closed (its writer was killed or crashed) writes
 * the marker first, in place of the checkpoint that session lacks: same fields, `count` being that
 * session's records and `ts` when the new session began. Unlike a checkpoint it does not close.
 */
export type AuditLineBody =
  | { readonly event: AuditEvent }
  | { readonly summary: AuditHitSummary }
  | { readonly checkpoint: AuditCheckpoint }
  | { readonly resumed: AuditCheckpoint };

/** The kinds of line body, as their key in the line. */
const KINDS = ['event', 'summary', 'checkpoint', 'resumed'] as const;
type Kind = (typeof KINDS)[number];

/** The kind and value of a line body. */
function kindOf(body: AuditLineBody): [Kind, unknown] {
  if ('event' in body) return ['event', body.event];
  if ('summary' in body) return ['summary', body.summary];
  return 'checkpoint' in body ? ['checkpoint', body.checkpoint] : ['resumed', body.resumed];
}

/** Whether a line body ends a session's count: a checkpoint, or the marker of one that never closed. */
export function endsSession(body: AuditLineBody): body is { readonly checkpoint: AuditCheckpoint } | { readonly resumed: AuditCheckpoint } {
  return 'checkpoint' in body || 'resumed' in body;
}

/** The record of a line (event, summary or checkpoint), for what they all carry: identity and environment. */
export function recordOf(line: AuditLineBody): { readonly identity: string | null; readonly environment: string } {
  return kindOf(line)[1] as AuditEvent;
}

/**
 * One line of an audit log file, bound to its log by `log` (a random id the log's first writer
 * chose; every line of the log carries it). The last line of each write is sealed: it carries
 * `mac`, which covers the write's lines, and `prev`, the MAC of the write before, which chains
 * them; the other lines of the write carry neither.
 */
export type AuditLine = {
  readonly v: 2 | 3;
  readonly log: string;
  readonly seq: number;
  /** The MAC of the previous sealed line (64 zeros for the log's first); on sealed lines only. */
  readonly prev?: string;
  /** On sealed lines only. */
  readonly mac?: string;
} & AuditLineBody;

/** The HMAC key, at least 16 bytes (a string is taken as its UTF-8 bytes), as a key object made once (not per line). */
export function macKey(hmacKey: string | Uint8Array): KeyObject {
  const key = typeof hmacKey === 'string' ? Buffer.from(hmacKey, 'utf8') : Buffer.from(hmacKey);
  if (key.length < 16) throw new ConfigError('the audit hmacKey must be at least 16 bytes (e.g. 32 random bytes, hex-encoded)');
  return createSecretKey(key);
}

/** A fresh log id: 16 random bytes, hex. */
export function newLogId(): string {
  return randomBytes(16).toString('hex');
}

/** `HMAC-SHA256(key, bytes)`, hex. */
export function macOf(key: KeyObject, signed: string | Uint8Array): string {
  return createHmac('sha256', key).update(signed).digest('hex');
}

/** Constant-time comparison of two hex MACs. */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The body member of a line's signed part: `"event":<canonical JSON>` (or `"summary"`, `"checkpoint"`). */
export function bodyText(body: AuditLineBody): string {
  const [kind, value] = kindOf(body);
  return `"${kind}":${kind === 'event' ? eventJson(value as AuditEvent) : canonicalJson(value)}`;
}

/**
 * Seals the lines of one batch (one write, at least one body): each body (from {@link bodyText}) gets the next `seq`;
 * the last line also gets `prev` (the MAC of the write before) and the batch's MAC. Returns their
 * text (newline-terminated, in order) and the new head. A line is `{"v":3,"log":…,"seq":N,<body>}`,
 * the last `{"v":3,"log":…,"seq":N,"prev":…,<body>,"mac":"<hex>"}`, and the MAC covers every byte
 * of the batch before `,"mac":` (one HMAC per write, not per line). The reader checks a line by
 * rebuilding it with {@link lineText}, which a test holds to this byte for byte. Self-contained
 * (no reference outside its parameters), because the audit worker runs it from its source text.
 */
export function signLines(mac: (signed: string) => string, log: string, seq: number, prev: string, bodies: readonly string[]): { text: string; seq: number; mac: string } {
  let text = '';
  const head = '{"v":3,"log":"' + log + '","seq":';
  const last = bodies.length - 1;
  for (let i = 0; i < last; i++) text += head + (seq + i + 1) + ',' + bodies[i] + '}\n';
  seq += bodies.length;
  text += head + seq + ',"prev":"' + prev + '",' + bodies[last];
  prev = mac(text);
  return { text: text + ',"mac":"' + prev + '"}\n', seq, mac: prev };
}

/**
 * The one text of a line (with its newline) of format `v`: sealed when `prev` and `mac` are given.
 * What the reader holds each line to.
 */
export function lineText(v: 2 | 3, log: string, seq: number, body: string, seal?: { readonly prev: string; readonly mac: string }): string {
  const head = `{"v":${v},"log":"${log}","seq":${seq},`;
  return seal === undefined ? `${head}${body}}\n` : `${head}"prev":"${seal.prev}",${body},"mac":"${seal.mac}"}\n`;
}

const str = JSON.stringify;

/**
 * `canonicalJson(event)` for an event of exactly the {@link AuditEvent} fields (as
 * {@link checkAuditEvent} returns it), without sorting keys at run time: the same bytes, written
 * for every record of a busy log. A test holds it to canonicalJson.
 */
export function eventJson(e: AuditEvent): string {
  return (
    `{"action":${lastAction.of(e.action)},"code":${lastCode.of(e.code)},"environment":${lastEnvironment.of(e.environment)},"identity":${lastIdentity.of(e.identity)},` +
    `"latencyMs":${num(e.latencyMs)},"outcome":${lastOutcome.of(e.outcome)},"provider":${lastProvider.of(e.provider)},` +
    (e.reason === undefined ? '' : `"reason":${str(e.reason)},`) +
    `"ref":${lastRef.of(e.ref)},` +
    (e.rule === undefined ? '' : `"rule":${str(e.rule)},`) +
    `"seq":${num(e.seq)},"ts":${lastTs.of(e.ts)},"version":${lastVersion.of(e.version)}}`
  );
}

/**
 * `JSON.stringify` of one field, remembering its last input: a busy log repeats the same
 * action, environment, identity, ref, provider and millisecond record after record.
 */
class LastJson {
  #input: string | null | undefined = undefined;
  #json = '';
  of(value: string | null): string {
    if (value !== this.#input) {
      this.#json = str(value);
      this.#input = value;
    }
    return this.#json;
  }
}
const lastAction = new LastJson();
const lastCode = new LastJson();
const lastEnvironment = new LastJson();
const lastIdentity = new LastJson();
const lastOutcome = new LastJson();
const lastProvider = new LastJson();
const lastRef = new LastJson();
const lastTs = new LastJson();
const lastVersion = new LastJson();

function num(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError('canonical JSON has no non-finite numbers');
  // For a finite number JSON.stringify is its ToString (-0 included): the same text, cheaper.
  return `${n}`;
}

/** The length of `,"mac":"<64 hex>"}`: the bytes after the signed part. */
const SUFFIX_LENGTH = `,"mac":"${GENESIS}"}`.length;

/** The one text of a line sealed alone (with its newline) and its MAC. */
export function formatLine(key: KeyObject, log: string, seq: number, prev: string, body: AuditLineBody): { text: string; mac: string } {
  const signed = signLines((text) => macOf(key, text), log, seq - 1, prev, [bodyText(body)]);
  return { text: signed.text, mac: signed.mac };
}

/** A line that parsed, with the exact bytes of it that its batch's MAC covers. */
export interface ParsedLine {
  readonly line: AuditLine;
  /** Whether the line carries the MAC of its batch (it ends a write). */
  readonly sealed: boolean;
  /** A sealed line's bytes before `,"mac":`; an unsealed line's bytes (its newline follows them under the MAC). */
  readonly signed: Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses one line (without its newline) and checks that its bytes are exactly the one form the
 * writer emits: valid UTF-8, no duplicate key at any depth, no unknown field, and byte for byte
 * the canonical serialisation of what it holds (so no changed whitespace, key order, escapes,
 * number forms, CRLF, BOM or trailing data). It does not check the MAC ({@link BatchMac}).
 * Returns why the line is refused, in words that never quote it.
 */
export function parseLine(bytes: Uint8Array): ParsedLine | string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'not UTF-8 text';
  }
  if (text.startsWith('\uFEFF')) return 'starts with a byte order mark: not the form the writer emits';
  if (text.endsWith('\r')) return 'ends with a carriage return (CRLF line ending): not the form the writer emits';
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return parsed.reason.startsWith('duplicate key') ? `${parsed.reason}: not the form the writer emits` : 'not a JSON record';
  const rec = parsed.value;
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return 'not an audit record';
  const r = rec as Record<string, unknown>;
  const keys = Object.keys(r);
  if (!keys.includes('v')) {
    return keys.includes('mac') && keys.includes('seq')
      ? 'an unversioned (format 1) record, whose MAC does not cover its bytes: not accepted'
      : 'not an audit record (unexpected fields)';
  }
  const v = r['v'];
  if (v !== RECORD_VERSION && v !== LINE_SEALED_VERSION) return 'not an audit record of a supported format version';
  const kind = KINDS.find((k) => keys.includes(k));
  // Sealed: v, log, seq, prev, body, mac. Unsealed (format 3 only): v, log, seq, body.
  const sealed = keys.length === 6 && keys.includes('prev') && keys.includes('mac');
  const unsealed = v === RECORD_VERSION && keys.length === 4;
  if (kind === undefined || !(sealed || unsealed) || !keys.includes('log') || !keys.includes('seq')) return 'not an audit record (unexpected fields)';
  if (!Number.isSafeInteger(r['seq']) || (r['seq'] as number) < 1) return 'not an audit record (bad seq)';
  if (typeof r['log'] !== 'string' || !HEX32.test(r['log'])) return 'not an audit record (bad log id)';
  if (sealed && (typeof r['prev'] !== 'string' || !HEX64.test(r['prev']))) return 'not an audit record (bad prev)';
  if (sealed && (typeof r['mac'] !== 'string' || !HEX64.test(r['mac']))) return 'not an audit record (bad mac)';
  const body = parseBody(kind, r[kind]);
  if (typeof body === 'string') return body;
  const seal = sealed ? { prev: r['prev'] as string, mac: r['mac'] as string } : undefined;
  const line = { v, log: r['log'], seq: r['seq'] as number, ...seal, ...body } as AuditLine;
  // The one form: what the writer makes of this body at this place (with this seal).
  if (lineText(v, line.log, line.seq, bodyText(body), seal) !== `${text}\n`) {
    return 'not in the canonical form the writer emits (whitespace, key order, escapes or number forms differ)';
  }
  return { line, sealed, signed: sealed ? bytes.subarray(0, bytes.length - SUFFIX_LENGTH) : bytes };
}

const NEWLINE = Buffer.from('\n');

/**
 * The MAC of one batch, fed its lines in order: unsealed lines, then the sealed one that ends it.
 * A format 2 line is a batch of one.
 */
export class BatchMac {
  readonly #key: KeyObject;
  #hmac: Hmac | undefined;

  constructor(key: KeyObject) {
    this.#key = key;
  }

  /** Adds a line; for a sealed one, returns whether its MAC covers the batch, and starts the next. */
  add(parsed: ParsedLine): boolean | undefined {
    this.#hmac ??= createHmac('sha256', this.#key);
    this.#hmac.update(parsed.signed);
    if (!parsed.sealed) {
      // The newline between the lines of a write is under its MAC too (fed here, not copied onto each line).
      this.#hmac.update(NEWLINE);
      return undefined;
    }
    const mac = this.#hmac.digest('hex');
    this.#hmac = undefined;
    return sameMac(parsed.line.mac!, mac);
  }
}

/** Validates a line's body by kind; returns a fresh object holding only the known fields. */
function parseBody(kind: Kind, value: unknown): AuditLineBody | string {
  if (kind === 'event') {
    const event = checkAuditEvent(value);
    return typeof event === 'string' ? `not an audit record (${event})` : { event };
  }
  if (kind === 'summary') {
    const summary = checkHitSummary(value);
    return typeof summary === 'string' ? `not an audit record (${summary})` : { summary };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `not an audit record (bad ${kind})`;
  const c = value as Record<string, unknown>;
  if (Object.keys(c).length !== 4) return `not an audit record (unexpected ${kind} fields)`;
  if (typeof c['ts'] !== 'string' || !Number.isSafeInteger(c['count']) || (c['count'] as number) < 0) return `not an audit record (bad ${kind})`;
  if (!stringOrNull(c['identity']) || typeof c['environment'] !== 'string') return `not an audit record (bad ${kind})`;
  const fields = { ts: c['ts'], count: c['count'] as number, identity: c['identity'] as string | null, environment: c['environment'] };
  return kind === 'checkpoint' ? { checkpoint: fields } : { resumed: fields };
}

const REQUIRED_EVENT_FIELDS = ['ts', 'seq', 'identity', 'environment', 'action', 'ref', 'provider', 'outcome', 'code', 'latencyMs', 'version'] as const;
const EVENT_FIELDS = new Set<string>([...REQUIRED_EVENT_FIELDS, 'rule', 'reason']);

function stringOrNull(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

/**
 * The event as a fresh object of exactly the {@link AuditEvent} fields, or what is wrong with it
 * (naming our field, never quoting a value). The writer checks what it is given with this, and
 * the reader what it reads, so both agree on what a log may hold.
 */
export function checkAuditEvent(value: unknown): AuditEvent | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the event is not an object';
  const e = value as Record<string, unknown>;
  // Straight-line checks: this runs for every record a busy log writes.
  const keys = Object.keys(e);
  for (let i = 0; i < keys.length; i++) if (!EVENT_FIELDS.has(keys[i]!)) return 'the event has an unexpected field';
  // Every key is a known field, once: all the required ones are there when the count says so.
  const optional = (Object.hasOwn(e, 'rule') ? 1 : 0) + (Object.hasOwn(e, 'reason') ? 1 : 0);
  if (keys.length - optional !== REQUIRED_EVENT_FIELDS.length) {
    for (const k of REQUIRED_EVENT_FIELDS) if (!Object.hasOwn(e, k)) return `the event lacks "${k}"`;
  }
  const { ts, seq, identity, environment, action, ref, provider, outcome, code, latencyMs, version, rule, reason } = e;
  if (typeof ts !== 'string') return `the event's "ts" is not a string`;
  if (typeof environment !== 'string') return `the event's "environment" is not a string`;
  if (typeof action !== 'string') return `the event's "action" is not a string`;
  if (typeof outcome !== 'string') return `the event's "outcome" is not a string`;
  if (!stringOrNull(identity)) return `the event's "identity" is not a string or null`;
  if (!stringOrNull(ref)) return `the event's "ref" is not a string or null`;
  if (!stringOrNull(provider)) return `the event's "provider" is not a string or null`;
  if (!stringOrNull(code)) return `the event's "code" is not a string or null`;
  if (!stringOrNull(version)) return `the event's "version" is not a string or null`;
  if (rule !== undefined && typeof rule !== 'string') return `the event's "rule" is not a string`;
  if (reason !== undefined && typeof reason !== 'string') return `the event's "reason" is not a string`;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return `the event's "seq" is not a positive integer`;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) return `the event's "latencyMs" is not a finite number >= 0`;
  const event: Record<string, unknown> = { ts, seq, identity, environment, action, ref, provider, outcome, code, latencyMs, version };
  if (rule !== undefined) event['rule'] = rule;
  if (reason !== undefined) event['reason'] = reason;
  return event as unknown as AuditEvent;
}

const SUMMARY_FIELDS = ['identity', 'environment', 'ref', 'provider', 'version', 'count', 'first', 'last'] as const;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The summary as a fresh object of exactly the {@link AuditHitSummary} fields, or what is wrong
 * with it (naming our field, never quoting a value). Writer and reader both check with it.
 */
export function checkHitSummary(value: unknown): AuditHitSummary | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the summary is not an object';
  const e = value as Record<string, unknown>;
  if (Object.keys(e).length !== SUMMARY_FIELDS.length || !SUMMARY_FIELDS.every((k) => Object.hasOwn(e, k))) return 'the summary has missing or unexpected fields';
  if (typeof e['environment'] !== 'string' || typeof e['ref'] !== 'string') return `the summary's "environment" or "ref" is not a string`;
  for (const k of ['identity', 'provider', 'version'] as const) if (!stringOrNull(e[k])) return `the summary's "${k}" is not a string or null`;
  if (!Number.isSafeInteger(e['count']) || (e['count'] as number) < 1) return `the summary's "count" is not a positive integer`;
  for (const k of ['first', 'last'] as const) if (typeof e[k] !== 'string' || !ISO.test(e[k])) return `the summary's "${k}" is not an ISO 8601 UTC time`;
  if ((e['first'] as string) > (e['last'] as string)) return `the summary's "first" is after its "last"`;
  const summary: Record<string, unknown> = {};
  for (const k of SUMMARY_FIELDS) summary[k] = e[k];
  return summary as unknown as AuditHitSummary;
}
