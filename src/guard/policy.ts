import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { peerLoadError } from '../peer.js';
import { ConfigError } from '../errors.js';
import type { Sensitivity } from '../provider.js';
import { compileRefGlob, foldTarget, type RefGlob } from './glob.js';
import { assertTimeZone, inDailyWindow, minuteOfDay, parseDailyWindow, type DailyWindow } from './timeWindow.js';
import { describeIssues } from '../issues.js';

const POLICY_BRAND = Symbol.for('connector-secrets.policy');
const MAX_POLICY_BYTES = 1024 * 1024;
const SENSITIVITIES = ['low', 'medium', 'high', 'critical'] as const;
const sensitivity = z.enum(SENSITIVITIES);

/**
 * One rule of an access policy. A rule applies to the identities it names; its `deny` globs
 * deny, its `allow` globs allow when every condition of the rule holds.
 *
 * @example
 * ```ts
 * const nightly: PolicyRule = {
 *   name: 'orders-nightly', identity: 'orders-sync',
 *   allow: ['secret://orders-db/**'], deny: ['secret://orders-db/admin'],
 *   windows: ['01:00-05:00'], timeZone: 'Europe/Berlin',
 *   maxSensitivity: 'critical', requireApproval: 'critical',
 * };
 * ```
 */
export interface PolicyRule {
  /** A unique name; denials and audit records name the rule that decided. */
  readonly name: string;
  /** The connector identities it applies to (`createSecrets({ identity })`); `*` matches any run of characters, `'*'` every identity. */
  readonly identity: string | readonly string[];
  /**
   * Ref globs this rule allows (`*` within a segment, `**` across segments, `*://` any scheme).
   * Matched against the canonical `scheme://path`, exactly.
   * @default []
   */
  readonly allow?: readonly string[];
  /**
   * Ref globs this rule denies. A deny of any applicable rule wins over every allow. Matched
   * against the canonical `scheme://path`, ignoring letter case; a `secret://` (or `*://`) deny
   * glob also denies every logical ref that reads an environment variable name it covers
   * (`secret://orders-db/admin` denies `secret://orders_db/ADMIN` and `secret://orders/db-admin`,
   * which `fromEnv` reads as the same `ORDERS_DB_ADMIN`).
   * @default []
   */
  readonly deny?: readonly string[];
  /** The rule allows nothing before this instant (ISO 8601 with offset, inclusive). */
  readonly notBefore?: string;
  /** The rule allows nothing after this instant (ISO 8601 with offset, inclusive). */
  readonly notAfter?: string;
  /** Daily windows (`'HH:MM-HH:MM'`, end exclusive, may wrap past midnight) in {@link PolicyRule.timeZone}; outside every window the rule allows nothing. */
  readonly windows?: readonly string[];
  /**
   * The IANA time zone of `windows`.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /** The most sensitive secret the rule allows. */
  readonly maxSensitivity?: Sensitivity;
  /** Secrets of this sensitivity or above need the client's `approve` hook to say yes. */
  readonly requireApproval?: Sensitivity;
}

/**
 * A least-privilege access policy, as written inline or in a JSON or YAML file. When a policy is
 * given, anything it does not allow is denied.
 *
 * @example
 * ```ts
 * const policy: PolicyDocument = {
 *   version: 1,
 *   rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*'] }],
 * };
 * ```
 */
export interface PolicyDocument {
  /** The format version. */
  readonly version: 1;
  /**
   * The sensitivity assumed for a secret whose manifest and metadata give none.
   * @default 'high'
   */
  readonly defaultSensitivity?: Sensitivity;
  /** The rules. */
  readonly rules: readonly PolicyRule[];
}

const ruleSchema = z
  .object({
    name: z.string().min(1).max(128),
    identity: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    allow: z.array(z.string().min(1)).optional(),
    deny: z.array(z.string().min(1)).optional(),
    notBefore: z.iso.datetime({ offset: true }).optional(),
    notAfter: z.iso.datetime({ offset: true }).optional(),
    windows: z.array(z.string()).min(1).optional(),
    timeZone: z.string().min(1).optional(),
    maxSensitivity: sensitivity.optional(),
    requireApproval: sensitivity.optional(),
  })
  .strict();

const documentSchema = z
  .object({
    version: z.literal(1),
    defaultSensitivity: sensitivity.optional(),
    rules: z.array(ruleSchema).max(10_000),
  })
  .strict();

interface CompiledRule {
  readonly name: string;
  readonly identities: readonly RegExp[];
  readonly allow: readonly RefGlob[];
  readonly deny: readonly RefGlob[];
  readonly notBefore: number | undefined;
  readonly notAfter: number | undefined;
  readonly windows: readonly DailyWindow[] | undefined;
  readonly timeZone: string;
  readonly maxSensitivity: Sensitivity | undefined;
  readonly requireApproval: Sensitivity | undefined;
}

/** What a policy says about one access. */
export type PolicyVerdict =
  | {
      /** The access is allowed. */
      readonly allowed: true;
      /** The rule that allowed it. */
      readonly rule: string;
      /** Set when the rule requires approval for this sensitivity. */
      readonly approval: Sensitivity | undefined;
      /** True when the sensitivity was unknown and the rule limits it: check again once it is known. */
      readonly deferred: boolean;
    }
  | {
      /** The access is denied. */
      readonly allowed: false;
      /** The rule that decided, or `(default)` when no rule allows the ref. */
      readonly rule: string;
      /** Why, in words (never a value). */
      readonly reason: string;
      /** True when the access was denied only for being outside the rule's time windows. */
      readonly outsideWindow: boolean;
    };

/** One access a policy is asked about. */
export interface PolicyQuery {
  /** The canonical `scheme://path` of the ref (see `globTarget`). */
  readonly target: string;
  /**
   * Other spellings (canonical `scheme://path`) the providers read as the same secret (see
   * `SecretProvider.aliases`). Deny globs cover them too; allow globs match `target` only.
   * @default []
   */
  readonly aliases?: readonly string[];
  /** The connector identity. */
  readonly identity: string | undefined;
  /** The instant, in epoch milliseconds. */
  readonly now: number;
  /** The secret's sensitivity, when known. */
  readonly sensitivity?: Sensitivity | undefined;
}

/**
 * A validated, compiled access policy, made by {@link definePolicy} or {@link loadPolicy}.
 *
 * @example
 * ```ts
 * const policy = definePolicy({ version: 1, rules: [{ name: 'all-dev', identity: '*', allow: ['secret://dev/**'] }] });
 * policy.evaluate({ target: 'secret://dev/x', identity: 'orders-sync', now: Date.now() }).allowed; // true
 * ```
 */
export class AccessPolicy {
  /** The sensitivity assumed for a secret whose manifest and metadata give none. */
  readonly defaultSensitivity: Sensitivity;
  /** The rule names, in order. */
  readonly ruleNames: readonly string[];
  /** Every daily window of every rule, with its time zone. */
  readonly windows: readonly {
    /** The rule's name. */
    readonly rule: string;
    /** The parsed window. */
    readonly window: DailyWindow;
    /** Its IANA time zone. */
    readonly timeZone: string;
  }[];
  readonly #rules: readonly CompiledRule[];
  readonly #byIdentity = new Map<string, readonly CompiledRule[]>();
  readonly #foldedTargets = new Map<string, string | undefined>();

  /** @internal Use {@link definePolicy}. */
  constructor(doc: z.output<typeof documentSchema>) {
    const names = new Set<string>();
    this.#rules = doc.rules.map((rule, i) => {
      const where = `policy rule ${i} ("${rule.name}")`;
      if (names.has(rule.name)) throw new ConfigError(`${where}: the name is used twice; rule names must be unique`);
      names.add(rule.name);
      if ((rule.allow?.length ?? 0) === 0 && (rule.deny?.length ?? 0) === 0) {
        throw new ConfigError(`${where}: give at least one allow or deny glob`);
      }
      // Our messages below never quote the value, so they can be passed on with the field named.
      const at = <T>(what: string, fn: () => T): T => {
        try {
          return fn();
        } catch (err) {
          throw new ConfigError(`${where}: ${what}: ${(err as Error).message}`, { cause: err });
        }
      };
      const timeZone = rule.timeZone ?? 'UTC';
      at('timeZone', () => assertTimeZone(timeZone, 'the value'));
      const notBefore = rule.notBefore === undefined ? undefined : Date.parse(rule.notBefore);
      const notAfter = rule.notAfter === undefined ? undefined : Date.parse(rule.notAfter);
      if (notBefore !== undefined && notAfter !== undefined && notAfter < notBefore) {
        throw new ConfigError(`${where}: notAfter is before notBefore`);
      }
      const identities = typeof rule.identity === 'string' ? [rule.identity] : rule.identity;
      return {
        name: rule.name,
        identities: identities.map(identityPattern),
        allow: (rule.allow ?? []).map((g, j) => at(`allow[${j}]`, () => compileRefGlob(g))),
        deny: (rule.deny ?? []).map((g, j) => at(`deny[${j}]`, () => compileRefGlob(g, true))),
        notBefore,
        notAfter,
        windows: rule.windows?.map((w, j) => at(`windows[${j}]`, () => parseDailyWindow(w))),
        timeZone,
        maxSensitivity: rule.maxSensitivity,
        requireApproval: rule.requireApproval,
      };
    });
    this.defaultSensitivity = doc.defaultSensitivity ?? 'high';
    this.ruleNames = this.#rules.map((r) => r.name);
    this.windows = this.#rules.flatMap((r) => (r.windows ?? []).map((window) => ({ rule: r.name, window, timeZone: r.timeZone })));
    Object.defineProperty(this, POLICY_BRAND, { value: true });
    Object.freeze(this);
  }

  /**
   * Decides one access. Deny globs of every rule that applies to the identity are checked first
   * (deny wins); then the first allowing rule whose conditions all hold allows. When rules allow
   * the ref but their conditions fail, the first such rule is named; when none allows it, the
   * rule is `(default)`.
   */
  evaluate(query: PolicyQuery): PolicyVerdict {
    const rules = this.#applicable(query.identity);
    for (const rule of rules) {
      if (rule.deny.length === 0) continue;
      let hit = this.#denied(rule, query.target);
      let viaAlias = false;
      for (const alias of query.aliases ?? []) {
        if (hit !== undefined) break;
        hit = this.#denied(rule, alias);
        viaAlias = true;
      }
      if (hit !== undefined) {
        const as = viaAlias ? ' under another spelling a provider reads as the same secret' : '';
        return { allowed: false, rule: rule.name, reason: `the ref matches deny glob "${hit.source}"${as}`, outsideWindow: false };
      }
    }
    let failed: { rule: string; reason: string; outsideWindow: boolean } | undefined;
    for (const rule of rules) {
      if (!rule.allow.some((g) => g.test(query.target))) continue;
      const why = conditions(rule, query);
      if (why === undefined) {
        const s = query.sensitivity;
        const approval = s !== undefined && rule.requireApproval !== undefined && rank(s) >= rank(rule.requireApproval) ? s : undefined;
        const deferred = s === undefined && (rule.maxSensitivity !== undefined || rule.requireApproval !== undefined);
        return { allowed: true, rule: rule.name, approval, deferred };
      }
      failed ??= { rule: rule.name, ...why };
    }
    if (failed !== undefined) return { allowed: false, ...failed };
    const who = query.identity === undefined ? 'a client without identity' : `identity "${query.identity}"`;
    return { allowed: false, rule: '(default)', reason: `no policy rule allows this ref for ${who}`, outsideWindow: false };
  }

  /** The deny glob of `rule` covering `target`, directly or as a name-mapping provider reads it. */
  #denied(rule: CompiledRule, target: string): RefGlob | undefined {
    const folded = this.#folded(target);
    return rule.deny.find((g) => g.test(target) || (folded !== undefined && g.testFolded(folded)));
  }

  #folded(target: string): string | undefined {
    let folded = this.#foldedTargets.get(target);
    if (folded === undefined && !this.#foldedTargets.has(target)) {
      folded = foldTarget(target);
      if (this.#foldedTargets.size >= 4096) this.#foldedTargets.clear();
      this.#foldedTargets.set(target, folded);
    }
    return folded;
  }

  #applicable(identity: string | undefined): readonly CompiledRule[] {
    const key = identity ?? '';
    let rules = this.#byIdentity.get(key);
    if (rules === undefined) {
      rules = this.#rules.filter((r) => r.identities.some((p) => (identity === undefined ? p.source === '^.*$' : p.test(identity))));
      if (this.#byIdentity.size < 1024) this.#byIdentity.set(key, rules);
    }
    return rules;
  }
}

/**
 * Validates and compiles a policy given inline.
 *
 * @throws {@link ConfigError} naming the rule and what is wrong (unknown keys are errors too, so a
 * misspelt or injected field never passes silently).
 * @example
 * ```ts
 * const policy = definePolicy({
 *   version: 1,
 *   rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/**'], windows: ['01:00-05:00'], timeZone: 'Europe/Berlin' }],
 * });
 * createSecrets({ environment: 'prod', identity: 'orders-sync', policy, providers, audit: fileAuditSink(path, { hmacKey }) });
 * ```
 */
export function definePolicy(doc: PolicyDocument): AccessPolicy {
  const checked = documentSchema.safeParse(doc);
  if (!checked.success) {
    const why = describeIssues(checked.error.issues, '(policy)');
    throw new ConfigError(`invalid policy: ${why}`);
  }
  return new AccessPolicy(checked.data);
}

/** True for policies made by {@link definePolicy} or {@link loadPolicy} (from any installed copy). */
export function isAccessPolicy(value: unknown): value is AccessPolicy {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[POLICY_BRAND] === true;
}

/**
 * Options of {@link loadPolicy}.
 *
 * @example
 * ```ts
 * await loadPolicy('policy.yaml', { sha256: process.env.POLICY_SHA256 });
 * ```
 */
export interface LoadPolicyOptions {
  /** The expected SHA-256 (hex) of the file; a file that differs is refused as edited or forged. */
  readonly sha256?: string;
}

/**
 * Loads a policy from a JSON file, or a YAML file (`.yaml`/`.yml`, which needs the optional
 * `yaml` package). The file is refused when it is writable by group or others (POSIX), larger
 * than 1 MiB, differs from a pinned `sha256`, or fails validation.
 *
 * @throws {@link ConfigError} saying why.
 * @example
 * ```ts
 * const policy = await loadPolicy('/etc/connector/policy.yaml');
 * ```
 */
export async function loadPolicy(path: string, options: LoadPolicyOptions = {}): Promise<AccessPolicy> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(`policy file ${path} is not a regular file`);
    if (process.platform !== 'win32' && (info.mode & 0o022) !== 0) {
      throw new ConfigError(`policy file ${path} is writable by group or others; run chmod go-w on it`);
    }
    if (info.size > MAX_POLICY_BYTES) throw new ConfigError(`policy file ${path} is larger than 1 MiB`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`policy file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (options.sha256 !== undefined) {
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== options.sha256.toLowerCase()) {
      throw new ConfigError(`policy file ${path} does not match its pinned sha256: it was edited or replaced`);
    }
  }
  const text = bytes.toString('utf8');
  let doc: unknown;
  if (/\.ya?ml$/i.test(path)) {
    const yaml = await loadYaml();
    try {
      doc = yaml.parse(text, { schema: 'core', maxAliasCount: 100, uniqueKeys: true });
    } catch (err) {
      // The parser's message quotes the file (which may be a pasted secret): only where and which
      // rule, and no cause that would carry the quote.
      throw new ConfigError(`policy file ${path} is not valid YAML (${yamlWhere(err)}; the content is not shown)`);
    }
  } else {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`policy file ${path} is not valid JSON (${jsonWhere(err, text)}; the content is not shown)`);
    }
  }
  try {
    return definePolicy(doc as PolicyDocument);
  } catch (err) {
    throw new ConfigError(`policy file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Where a `JSON.parse` error is, as line and column, from the position V8 reports (never its quote). */
function jsonWhere(err: unknown, text: string): string {
  const m = /at position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (m === null) return /Unexpected end/.test(err instanceof Error ? err.message : '') ? 'it ends too early' : 'a syntax error';
  const position = Number(m[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return `a syntax error at line ${line}, column ${position - before.lastIndexOf('\n')}`;
}

/** Where a `yaml` parse error is, from its `linePos` and `code` (never its message, which quotes the line). */
function yamlWhere(err: unknown): string {
  const e = err as { code?: unknown; linePos?: readonly { line: number; col: number }[] } | null;
  const pos = e?.linePos?.[0];
  const code = typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? ` ${e.code}` : '';
  return pos === undefined ? `a syntax error${code}` : `a syntax error${code} at line ${pos.line}, column ${pos.col}`;
}

interface YamlModule {
  parse(text: string, options: Record<string, unknown>): unknown;
}

async function loadYaml(): Promise<YamlModule> {
  try {
    // A literal specifier, so that bundlers include yaml when the consumer has it.
    return (await import('yaml')) as YamlModule;
  } catch (err) {
    throw peerLoadError('yaml', 'YAML policy files', err, '(or use a .json policy)');
  }
}

/** 0 for `low` … 3 for `critical`; an unknown label counts as `critical`. */
export function rank(s: string): number {
  const i = (SENSITIVITIES as readonly string[]).indexOf(s);
  return i === -1 ? SENSITIVITIES.length - 1 : i;
}

/** The more sensitive of two labels; an unknown label counts as `critical`. */
export function moreSensitive(a: string | undefined, b: string | undefined): Sensitivity | undefined {
  if (a === undefined && b === undefined) return undefined;
  const r = Math.max(a === undefined ? -1 : rank(a), b === undefined ? -1 : rank(b));
  return SENSITIVITIES[r];
}

function conditions(rule: CompiledRule, q: PolicyQuery): { reason: string; outsideWindow: boolean } | undefined {
  if (rule.notBefore !== undefined && q.now < rule.notBefore) {
    return { reason: `the rule allows access from ${new Date(rule.notBefore).toISOString()} only`, outsideWindow: false };
  }
  if (rule.notAfter !== undefined && q.now > rule.notAfter) {
    return { reason: `the rule allowed access until ${new Date(rule.notAfter).toISOString()} only`, outsideWindow: false };
  }
  if (rule.windows !== undefined) {
    const minute = minuteOfDay(q.now, rule.timeZone);
    if (!rule.windows.some((w) => inDailyWindow(w, minute))) {
      const list = rule.windows.map((w) => w.source).join(', ');
      return { reason: `outside the rule's daily windows (${list} ${rule.timeZone})`, outsideWindow: true };
    }
  }
  if (q.sensitivity !== undefined && rule.maxSensitivity !== undefined && rank(q.sensitivity) > rank(rule.maxSensitivity)) {
    return { reason: `sensitivity ${q.sensitivity} is above the rule's maximum ${rule.maxSensitivity}`, outsideWindow: false };
  }
  return undefined;
}

function identityPattern(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[\\^$.+?()[\]{}|/]/g, '\\$&')).join('.*')}$`);
}
