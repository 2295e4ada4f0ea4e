import { z } from 'zod';

/**
 * The pattern detectors and text rules of a redactor. Each finds credentials that were never
 * registered; each can be switched off through {@link RedactorOptions.detectors}.
 *
 * - `awsAccessKeyId`: AWS access key ids (`AKIA…`, `ASIA…`, 20 characters).
 * - `githubToken`: GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
 * - `slackToken`: Slack tokens (`xoxb-`, `xoxp-` …, `xapp-`) and webhook URL paths.
 * - `googleApiKey`: Google API keys (`AIza…`, 39 characters).
 * - `stripeLiveKey`: Stripe live secret and restricted keys (`sk_live_`, `rk_live_`).
 * - `jwt`: JSON Web Tokens (`eyJ….….…`).
 * - `pemPrivateKey`: the body of PEM private-key blocks (the BEGIN/END lines stay).
 * - `azureStorageConnectionString`: `AccountKey=` and `SharedAccessSignature=` values.
 * - `databaseUri`: the password of database URIs (`postgres://user:…@host`).
 * - `urlUserinfo`: the password of any URL with userinfo (`https://user:…@host`).
 * - `urlQueryParams`: sensitive query and form parameters (`?token=…`, `&sig=…`, `password=…`).
 * - `keyValue`: `key: value` and `key=value` in free text, and `"key":"value"` in serialized
 *   JSON, when the key is sensitive (see {@link RedactorOptions.sensitiveKeys}).
 * - `authorizationHeader`: `Bearer …` tokens and `Basic …` credentials.
 */
export type DetectorName =
  | 'awsAccessKeyId'
  | 'githubToken'
  | 'slackToken'
  | 'googleApiKey'
  | 'stripeLiveKey'
  | 'jwt'
  | 'pemPrivateKey'
  | 'azureStorageConnectionString'
  | 'databaseUri'
  | 'urlUserinfo'
  | 'urlQueryParams'
  | 'keyValue'
  | 'authorizationHeader';

/** Every detector, in the order they are documented. */
export const DETECTOR_NAMES: readonly DetectorName[] = [
  'awsAccessKeyId',
  'githubToken',
  'slackToken',
  'googleApiKey',
  'stripeLiveKey',
  'jwt',
  'pemPrivateKey',
  'azureStorageConnectionString',
  'databaseUri',
  'urlUserinfo',
  'urlQueryParams',
  'keyValue',
  'authorizationHeader',
];

/**
 * Common words that are never masked even when registered: masking every `admin` or `postgres`
 * in a log would destroy the log and protect nothing. A registered value that is one of them
 * (compared case-insensitively, ignoring surrounding whitespace) is skipped with a warning.
 */
export const DEFAULT_ALLOWLIST: readonly string[] = [
  'admin', 'administrator', 'root', 'user', 'username', 'guest', 'default', 'public', 'private',
  'test', 'testing', 'example', 'sample', 'demo', 'local', 'localhost', 'hello', 'world',
  'true', 'false', 'null', 'none', 'undefined', 'empty', 'secret', 'password', 'changeme',
  'token', 'value', 'string', 'number', 'object', 'error', 'warning', 'debug', 'info',
  'enabled', 'disabled', 'production', 'staging', 'development',
  'postgres', 'postgresql', 'mysql', 'mariadb', 'mongodb', 'redis', 'sqlserver', 'oracle',
  'snowflake', 'bigquery', 'redshift', 'https', 'http', 'utf-8', 'utf8', 'application/json',
];

/** A warning about a value that was not registered. It names the ref, never the value. */
export interface RedactorWarning {
  /**
   * Why: `SHORT_VALUE` (shorter than `minLength`), `COMMON_WORD` (on the allowlist),
   * `LONG_VALUE` (longer than `maxLength`; only its lines were registered).
   */
  readonly code: 'SHORT_VALUE' | 'COMMON_WORD' | 'LONG_VALUE';
  /** The ref (with `#field` for a field of a JSON secret), when known. */
  readonly ref: string | undefined;
  /** A readable sentence, without the value. */
  readonly message: string;
}

/**
 * Options of {@link createRedactor} (and of `createSecrets({ redaction })`).
 *
 * @example
 * ```ts
 * const redactor = createRedactor({
 *   minLength: 8,
 *   sensitiveKeys: ['ssn', /^x-internal-/i],
 *   detectors: { jwt: false },
 * });
 * ```
 */
export interface RedactorOptions {
  /**
   * What a masked run of text becomes.
   * @default '[REDACTED]' (or the client's `placeholder`)
   */
  readonly placeholder?: string;
  /**
   * Values shorter than this (in UTF-16 code units) are not registered: masking every `abc` in
   * a log would destroy it. A warning names the ref.
   * @default 5
   */
  readonly minLength?: number;
  /**
   * Whole values longer than this are not registered as one pattern; their lines still are
   * (each up to this length), and a warning names the ref.
   * @default 16384
   */
  readonly maxLength?: number;
  /**
   * Words never masked even when registered. Replaces the built-in list; pass `[]` to mask
   * every registered value.
   * @default DEFAULT_ALLOWLIST (admin, root, postgres, localhost, true, …)
   */
  readonly allowlist?: readonly string[];
  /**
   * More sensitive key names (matched style-insensitively, like the built-in ones) or
   * RegExps (tested against the key as written). Added to the built-in list.
   * @default []
   */
  readonly sensitiveKeys?: readonly (string | RegExp)[];
  /**
   * Whether the built-in sensitive key names apply.
   * @default true
   */
  readonly defaultSensitiveKeys?: boolean;
  /**
   * More sensitive query-parameter names (exact, case-insensitive), added to the built-in ones.
   * @default []
   */
  readonly sensitiveParams?: readonly string[];
  /**
   * The pattern detectors: `false` turns all off; an object turns single ones off (or on).
   * @default every detector on
   */
  readonly detectors?: false | Readonly<Partial<Record<DetectorName, boolean>>>;
  /**
   * How deep `redactValue` and `redactError` walk; deeper values
   * become `'[Depth limit]'`.
   * @default 32
   */
  readonly maxDepth?: number;
  /**
   * Receives warnings about values that were not registered.
   * @default process.emitWarning, with the code prefixed `CONNECTOR_SECRETS_`
   */
  readonly onWarning?: (warning: RedactorWarning) => void;
}

const fn = (name: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', `${name} must be a function`);

/** The zod schema of {@link RedactorOptions}; the client validates `redaction` with it. */
export const redactorOptionsSchema = z
  .object({
    placeholder: z.string().min(1).optional(),
    minLength: z.number().int().min(1).optional(),
    maxLength: z.number().int().min(1).optional(),
    allowlist: z.array(z.string()).optional(),
    sensitiveKeys: z.array(z.union([z.string().min(1), z.instanceof(RegExp)])).optional(),
    defaultSensitiveKeys: z.boolean().optional(),
    sensitiveParams: z.array(z.string().min(1)).optional(),
    detectors: z
      .union([z.literal(false), z.object(Object.fromEntries(DETECTOR_NAMES.map((d) => [d, z.boolean().optional()]))).strict()])
      .optional(),
    maxDepth: z.number().int().min(1).optional(),
    onWarning: fn('onWarning').optional(),
  })
  .strict();
