import { resolve as resolvePath } from 'node:path';
import { createSecrets } from '../client.js';
import { ConfigError } from '../errors.js';
import { refFor } from '../manifest.js';
import { newBaseline, PUBLIC_SALT, readBaseline, writeBaseline, type Baseline } from '../scan/baseline.js';
import { KnownValues } from '../scan/known.js';
import { ProgressLine } from '../scan/progress.js';
import { RULE_IDS } from '../scan/rules.js';
import { toSarif } from '../scan/sarif.js';
import { DEFAULT_MAX_BYTES, scanPaths, type Finding, type ScanResult } from '../scan/scan.js';
import { loadConfig, loadManifests, providersFor } from './config.js';
import { EXIT_CODES_HELP, EXIT_FAILED, errorCode, errorExitCode, parseFlags, UsageError, type CommandOutput } from './subcommands.js';

/** What `connector-secrets scan` reads and writes. */
export interface ScanIo extends CommandOutput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Whether stderr is a terminal: the progress line is drawn only then. */
  readonly stderrIsTTY: boolean;
  /** The package version (SARIF's tool.driver.version). */
  readonly version: string;
}

const USAGE = `usage: connector-secrets scan [paths...] [--format text|json|sarif] [--baseline FILE [--update-baseline]]
                              [--known --env <tag> [--config FILE]] [--max-size BYTES] [--no-gitignore]

Finds credentials embedded in code, configuration and logs (default path: .). Findings name the
rule, the place and the length; the secret itself is never printed, not even in part.

what it looks for (${RULE_IDS.length} rules; --format sarif lists them with descriptions):
  token shapes    AWS key ids and secret keys, GitHub, GitLab, Slack (tokens, webhooks), Stripe, Google API
                  keys, GCP service-account keys, npm, SendGrid, Twilio, Shopify, OpenAI, Anthropic,
                  DigitalOcean, Hugging Face, PyPI, Docker Hub, Linear, Azure storage keys, JWTs
  private keys    PEM private-key blocks (RSA, EC, OpenSSH, PKCS#8, encrypted)
  URLs            scheme://user:password@host (placeholders such as \${PASSWORD} are not reported)
  headers         Basic credentials and Bearer tokens
  assignments     a credential-named key (password, client_secret, apiKey, token …) given a credential-
                  shaped value; any key given a high-entropy value (hashes and integrity strings excepted)
  --known         the values the configured providers hold for --env, in every derived form (base64,
                  URL-encoded, JSON-escaped …); a finding names the ref

what it reads: every regular file under the paths, except .git, what .gitignore files exclude
(nested ones, negations, directory patterns, and those of the repository above the path) and
what the repository's .git/info/exclude excludes,
symbolic links (never followed), binaries (a NUL byte in the first 8 KiB) and files over --max-size.
A file or directory named on the command line is scanned even if a .gitignore lists it.

silencing: "connector-secrets-allow" on the line or the line above silences every rule there;
"connector-secrets:allow <rule>[,<rule>]" only those. A baseline accepts the findings it lists.

options:
  --format F          text (default), json, or sarif (SARIF 2.1.0, for code-scanning dashboards)
  --json              the same as --format json
  --baseline FILE     findings listed in FILE are reported as baselined and do not fail the scan
  --update-baseline   write every current finding to the --baseline FILE (created with a random
                      salt if missing) and exit 0
  --known             also look for the values of the configured secrets (needs --env)
  --env <tag>         the environment whose providers are read (default $CONNECTOR_SECRETS_ENV)
  --config FILE       default ./connector-secrets.config.json, else ./connector-secrets.config.mjs
  --identity ID       the identity policy and audit see for --known (default: the config's identity)
  --max-size BYTES    skip files larger than this (default ${DEFAULT_MAX_BYTES}; k and m suffixes: 512k, 4m)
  --no-gitignore      scan what .gitignore files and .git/info/exclude exclude too
  --no-progress       no progress line on a terminal
  -h, --help          show this help

output: text is one line per finding, "file:line:col  rule  N chars [ref] [baseline]", then a
summary; json is { findings[], summary }; each finding has rule, file, line, column, endLine,
endColumn, length, ref?, fingerprint, baselined. Fingerprints are HMAC-SHA256 of rule, file and
the match under the baseline's salt: stable when lines move, never the secret.

examples:
  connector-secrets scan                                   # the working tree
  connector-secrets scan src config --format sarif > scan.sarif
  connector-secrets scan --baseline .secrets-baseline.json --update-baseline   # accept today's findings
  connector-secrets scan --baseline .secrets-baseline.json # CI: fail only on new findings
  connector-secrets scan logs/ --known --env prod          # did a prod value leak into the logs?

${EXIT_CODES_HELP}`;

const OPTIONS = {
  format: { type: 'string' },
  json: { type: 'boolean' },
  baseline: { type: 'string' },
  'update-baseline': { type: 'boolean' },
  known: { type: 'boolean' },
  env: { type: 'string' },
  config: { type: 'string' },
  identity: { type: 'string' },
  'max-size': { type: 'string' },
  'no-gitignore': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `connector-secrets scan [paths…]`. Returns the exit code: 0 no new findings, 1 new findings,
 * 2 a usage or configuration error.
 *
 * @example
 * ```ts
 * process.exitCode = await runScanCommand(['src', '--format', 'sarif'], { stdout, stderr, env: process.env, cwd: process.cwd(), stderrIsTTY: false, version: '0.1.0' });
 * ```
 */
export async function runScanCommand(argv: string[], io: ScanIo): Promise<number> {
  let progress: ProgressLine | undefined;
  try {
    const { values: o, positionals } = parseFlags(argv, OPTIONS, true);
    if (o.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    const format = o.json === true ? 'json' : (o.format ?? 'text');
    if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new UsageError('--format must be text, json or sarif');
    if (o.json === true && o.format !== undefined && o.format !== 'json') throw new UsageError('--json and --format exclude each other');
    if (o['update-baseline'] === true && o.baseline === undefined) throw new UsageError('--update-baseline needs --baseline FILE');
    const maxBytes = o['max-size'] === undefined ? DEFAULT_MAX_BYTES : parseSize(o['max-size']);
    const baselineFile = o.baseline === undefined ? undefined : resolvePath(io.cwd, o.baseline);
    let baseline: Baseline | undefined;
    if (baselineFile !== undefined) {
      baseline = readBaseline(baselineFile);
      if (baseline === undefined) {
        if (o['update-baseline'] !== true) throw new ConfigError(`the baseline ${o.baseline} does not exist; create it with --update-baseline`);
        baseline = newBaseline();
      }
    }
    const known = o.known === true ? await loadKnown(o, io) : undefined;
    if (o.known !== true && o.env !== undefined) throw new UsageError('--env is used with --known only');
    if (io.stderrIsTTY && o['no-progress'] !== true) progress = new ProgressLine(io.stderr);
    const result = scanPaths({
      paths: positionals.length === 0 ? ['.'] : positionals,
      cwd: io.cwd,
      maxBytes,
      gitignore: o['no-gitignore'] !== true,
      ...(known === undefined ? {} : { known }),
      salt: baseline?.salt ?? (io.env['CONNECTOR_SECRETS_SCAN_SALT'] || PUBLIC_SALT),
      ...(baseline === undefined || o['update-baseline'] === true ? {} : { baseline: baseline.fingerprints }),
      ...(progress === undefined ? {} : { onProgress: (d: number, t: number, b: number) => progress!.update(d, t, b) }),
    });
    progress?.done();
    progress = undefined;
    if (o['update-baseline'] === true) {
      writeBaseline(baselineFile!, baseline!.salt, result.findings.map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, file: f.file })));
      io.stderr(`baseline ${o.baseline}: ${new Set(result.findings.map((f) => f.fingerprint)).size} findings accepted (${result.files} files scanned)\n`);
      return 0;
    }
    if (format === 'sarif') io.stdout(`${JSON.stringify(toSarif(result.findings, { version: io.version }), null, 2)}\n`);
    else if (format === 'json') io.stdout(`${JSON.stringify({ findings: result.findings, summary: summary(result) }, null, 2)}\n`);
    else io.stdout(toText(result));
    return result.findings.some((f) => !f.baselined) ? EXIT_FAILED : 0;
  } catch (err) {
    progress?.done();
    io.stderr(`error [${errorCode(err)}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr('run "connector-secrets scan --help" for usage\n');
    return errorExitCode(err);
  }
}

/** `1048576`, `512k`, `4m` → bytes. */
function parseSize(text: string): number {
  const m = /^(\d+)([km]?)$/i.exec(text.trim());
  if (m === null) throw new UsageError('--max-size must be a number of bytes, optionally with k or m (512k, 4m)');
  const n = Number(m[1]) * (m[2]!.toLowerCase() === 'k' ? 1024 : m[2]!.toLowerCase() === 'm' ? 1 << 20 : 1);
  if (n < 1 || !Number.isSafeInteger(n)) throw new UsageError('--max-size must be at least 1 byte');
  return n;
}

/** The values of every secret the configured manifests declare, read through the providers of `--env`. */
async function loadKnown(o: { env?: string | undefined; config?: string | undefined; identity?: string | undefined }, io: ScanIo): Promise<KnownValues> {
  const environment = o.env ?? (io.env['CONNECTOR_SECRETS_ENV'] || undefined);
  if (environment === undefined) throw new UsageError('--known needs --env <tag>');
  const loaded = await loadConfig(o.config, io.cwd);
  if (!loaded.config.environments.includes(environment)) {
    throw new ConfigError(`--env names an environment the configuration does not list (environments: ${loaded.config.environments.join(', ')})`);
  }
  const manifests = await loadManifests(loaded);
  const who = o.identity ?? loaded.config.identity;
  const client = createSecrets({
    environment,
    providers: await providersFor(loaded, environment, io.env),
    env: io.env,
    audit: false,
    ...(who === undefined ? {} : { identity: who }),
    ...(loaded.config.policy === undefined ? {} : { policy: { path: resolvePath(loaded.dir, loaded.config.policy) } }),
  });
  const known = new KnownValues();
  try {
    const refs = new Set<string>();
    for (const { manifest } of manifests) for (const spec of Object.values(manifest.specs)) refs.add(refFor(spec, environment));
    let loadedCount = 0;
    for (const ref of refs) {
      try {
        const secret = await client.get(ref);
        known.add(ref, secret.reveal());
        loadedCount++;
      } catch (err) {
        io.stderr(`warning: ${ref} could not be read (${errorCode(err)}); its value is not looked for\n`);
      }
    }
    for (const s of known.skipped) io.stderr(`warning: the value of ${s.ref} is ${s.reason === 'SHORT_VALUE' ? 'too short' : 'a common word'} to look for\n`);
    if (loadedCount === 0) throw new ConfigError(`--known: no secret of the configured manifests could be read in ${environment}`);
  } finally {
    await client.close();
  }
  return known;
}

function summary(r: ScanResult) {
  const baselined = r.findings.filter((f) => f.baselined).length;
  return { files: r.files, bytes: r.bytes, findings: r.findings.length, new: r.findings.length - baselined, baselined, allowed: r.allowed, skipped: r.skipped };
}

function toText(r: ScanResult): string {
  const lines = r.findings.map((f: Finding) => `${f.file}:${f.line}:${f.column}  ${f.rule}  ${f.length} chars${f.ref === undefined ? '' : `  ${f.ref}`}${f.baselined ? '  [baseline]' : ''}`);
  const s = summary(r);
  const sk = r.skipped;
  const skippedText = [sk.ignored && `${sk.ignored} ignored`, sk.binary && `${sk.binary} binary`, sk.tooLarge && `${sk.tooLarge} over the size cap`, sk.symlinks && `${sk.symlinks} symlinks`, sk.unreadable && `${sk.unreadable} unreadable`].filter(Boolean).join(', ');
  lines.push(
    `${s.findings === 0 ? 'no findings' : `${s.findings} finding${s.findings === 1 ? '' : 's'} (${s.new} new, ${s.baselined} in the baseline)`}${s.allowed > 0 ? `, ${s.allowed} allowed inline` : ''}; ${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB scanned${skippedText === '' ? '' : `; skipped: ${skippedText}`}`,
  );
  return `${lines.join('\n')}\n`;
}
