import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { verifyAuditLog } from '../audit/verifyAuditLog.js';
import { candidatesFor } from '../chain.js';
import { createSecrets } from '../client.js';
import { ConfigError } from '../errors.js';
import { loadPolicy } from '../guard/policy.js';
import { refFor } from '../manifest.js';
import type { SecretProvider } from '../provider.js';
import { parseRef } from '../ref/parseRef.js';
import { ENV_AUDIT_KEY, ENV_AUDIT_KEY_FILE } from './audit.js';
import { measureSkew, SKEW_FAIL_MS, SKEW_WARN_MS, skewStatus } from './clockSkew.js';
import { loadConfig, loadManifests, localFilesFor, providersFor, type LoadedConfig, type LoadedManifest, type OperatorConfig } from './config.js';
import { EXIT_FAILED, errorCode, errorExitCode, parseFlags, UsageError, type CommandOutput } from './subcommands.js';

/** What `connector-secrets doctor` reads and writes. */
export interface DoctorIo extends CommandOutput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** One check's verdict: what was checked, how it went, and (unless ok) what to do about it. */
export interface DoctorCheck {
  readonly check: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly detail: string;
  readonly fix?: string;
}

const USAGE = `usage: connector-secrets doctor --env <tag> [--config FILE] [--json]

Checks one environment of the configuration, one line per check (ok, warn or FAIL, with the fix):
  policy       the policy file parses
  manifests    every manifest ref (with {env} filled in) is served by a configured provider
  provider     each provider answers and accepts its credentials: describe of a manifest ref it
               serves (no value is read); a missing secret is a warning, a refusal or an outage fails
  clock        this host's clock against the HTTP Date header of each provider with an HTTP
               endpoint (Vault: GET /v1/sys/health; AWS, GCP, Azure: their service endpoint):
               warn above 30 s of skew, fail above 5 min
  store, key   local store and key files exist and are not readable by group or others
  audit        the audit log (config "audit") is writable and its HMAC chain verifies

options:
  --env <tag>        the environment to check (default ${'$'}CONNECTOR_SECRETS_ENV)
  --config FILE      default: the first of ./connector-secrets.config.{json,yaml,yml,mjs}
  --json             { environment, ok, checks: [{ check, status, detail, fix? }] }
  -h, --help         show this help

examples:
  connector-secrets doctor --env prod
  connector-secrets doctor --env dev --json | jq '.checks[] | select(.status != "ok")'

exit codes:
  0  every check ok or warn
  1  a check failed
  2  usage or configuration error (the configuration file does not parse, unknown option)
`;

const OPTIONS = {
  env: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs `connector-secrets doctor <argv…>` and resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runDoctorCommand(['--env', 'prod'], { stdout, stderr, env: process.env, cwd: process.cwd() });
 * ```
 */
export async function runDoctorCommand(argv: string[], io: DoctorIo): Promise<number> {
  try {
    const { values: o } = parseFlags(argv, OPTIONS, false);
    if (o.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    const loaded = await loadConfig(o.config, io.cwd);
    const environment = o.env ?? (io.env['CONNECTOR_SECRETS_ENV'] || undefined);
    if (environment === undefined) throw new UsageError('doctor needs --env <tag>');
    if (!loaded.config.environments.includes(environment)) {
      throw new ConfigError(`--env names an environment the configuration does not list (environments: ${loaded.config.environments.join(', ')})`);
    }
    const checks = await runChecks(loaded, environment, io.env);
    const ok = checks.every((c) => c.status !== 'fail');
    if (o.json === true) {
      io.stdout(`${JSON.stringify({ environment, ok, checks }, null, 2)}\n`);
    } else {
      for (const c of checks) io.stdout(`${c.status === 'fail' ? 'FAIL' : c.status.padEnd(4)}  ${c.check}: ${c.detail}${c.fix === undefined ? '' : ` — fix: ${c.fix}`}\n`);
      const failed = checks.filter((c) => c.status === 'fail').length;
      const warned = checks.filter((c) => c.status === 'warn').length;
      io.stdout(`\n${checks.length} check(s) for ${environment}: ${failed} failed, ${warned} warning(s)\n`);
    }
    return ok ? 0 : EXIT_FAILED;
  } catch (err) {
    io.stderr(`error [${errorCode(err)}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr('run "connector-secrets doctor --help" for usage\n');
    return errorExitCode(err);
  }
}

/** Every check for `environment`, in a fixed order. */
async function runChecks(loaded: LoadedConfig, environment: string, env: Readonly<Record<string, string | undefined>>): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (loaded.config.policy !== undefined) checks.push(await policyCheck(resolvePath(loaded.dir, loaded.config.policy)));
  let manifests: LoadedManifest[] = [];
  try {
    manifests = await loadManifests(loaded);
  } catch (err) {
    checks.push({ check: 'manifests', status: 'fail', detail: err instanceof Error ? err.message : String(err), fix: 'correct the manifests list of the configuration' });
  }
  const providers = await providersFor(loaded, environment, env);
  const refs = manifests.flatMap(({ manifest }) => Object.entries(manifest.specs).map(([name, spec]) => ({ name, ref: refFor(spec, environment) })));
  const servedBy = new Map<SecretProvider, string[]>();
  for (const { name, ref } of refs) {
    try {
      const candidates = candidatesFor(parseRef(ref), providers);
      for (const p of candidates) servedBy.set(p, [...(servedBy.get(p) ?? []), ref]);
      checks.push({ check: `ref ${name}`, status: 'ok', detail: `${ref} is served by ${candidates.map((p) => p.name).join(', ')}` });
    } catch (err) {
      checks.push({ check: `ref ${name}`, status: 'fail', detail: `${ref}: ${err instanceof Error ? err.message : String(err)}`, fix: `configure a provider for it in ${environment}, or correct the manifest` });
    }
  }
  for (const provider of providers) checks.push(await providerCheck(provider, servedBy.get(provider) ?? [], environment, env));
  for (const files of localFilesFor(loaded, environment)) {
    checks.push(await privateFileCheck('store', files.store, `connector-secrets local init --env ${environment}`));
    checks.push(await privateFileCheck('key', files.keyFile, `connector-secrets local init --env ${environment} (writes a fresh key), or point keyFile at the key`));
  }
  checks.push(...(await clockChecks(loaded, environment, env)));
  if (loaded.config.audit !== undefined) checks.push(...(await auditChecks(loaded, environment, env)));
  return checks;
}

async function policyCheck(path: string): Promise<DoctorCheck> {
  try {
    await loadPolicy(path);
    return { check: 'policy', status: 'ok', detail: `${path} parses` };
  } catch (err) {
    return { check: 'policy', status: 'fail', detail: err instanceof Error ? err.message : String(err), fix: 'correct the policy file (see docs/guards-and-audit.md)' };
  }
}

/**
 * A provider is reachable and authenticated when a describe of a ref it serves answers or says
 * "not found" (the backend answered, with our credentials). Through a one-provider client, so the
 * answer is this provider's and not the next one's in the chain.
 */
async function providerCheck(provider: SecretProvider, refs: readonly string[], environment: string, env: Readonly<Record<string, string | undefined>>): Promise<DoctorCheck> {
  const check = `provider ${provider.name}`;
  if (refs.length === 0) return { check, status: 'warn', detail: 'no manifest ref is served by it, so it was not asked', fix: 'remove it from the configuration, or declare the secrets it holds' };
  if (provider.describe === undefined) return { check, status: 'warn', detail: 'it cannot describe secrets, so it was not asked' };
  const secrets = createSecrets({ environment, providers: [provider], env, audit: false, strictEnvironment: false, cache: false });
  try {
    const ref = refs[0]!;
    try {
      const facts = await secrets.describe(ref);
      return { check, status: 'ok', detail: `answered describe of ${facts.ref}` };
    } catch (err) {
      const code = errorCode(err);
      if (code === 'SECRET_NOT_FOUND') return { check, status: 'warn', detail: `reachable, but it has no ${ref}`, fix: 'create the secret, or correct the manifest ref' };
      if (code === 'ENVIRONMENT_MISMATCH') return { check, status: 'warn', detail: `reachable, but ${ref} is tagged for another environment`, fix: 'tag the secret for this environment' };
      const fix =
        code === 'ACCESS_DENIED' ? 'check the credentials and the permissions of this provider (describe needs read on metadata)' : code === 'PROVIDER_UNAVAILABLE' ? 'check the address, the network and that the service is up' : 'check the provider configuration';
      return { check, status: 'fail', detail: `describe of ${ref} failed with ${code}: ${err instanceof Error ? err.message : String(err)}`, fix };
    }
  } finally {
    await secrets.close().catch(() => undefined);
  }
}

/**
 * Clock skew against each provider with an HTTP endpoint, whose answer to an unauthenticated GET
 * carries a Date header: Vault's GET /v1/sys/health (it answers in every seal state), and the
 * cloud services' endpoints (which refuse the request, dated). AWS refuses signatures more than
 * 5 minutes off, and tokens carry validity times everywhere. An unreachable provider is a warning
 * here: its provider check reports the outage.
 */
async function clockChecks(loaded: LoadedConfig, environment: string, env: Readonly<Record<string, string | undefined>>): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  for (const p of loaded.config.providers) {
    if (p.environments !== undefined && !p.environments.includes(environment)) continue;
    const url = await clockEndpoint(p, env);
    if (url === undefined) continue;
    const check = `clock vs ${p.type} ${new URL(url).host}`;
    try {
      const sample = await measureSkew(url);
      const status = skewStatus(sample);
      const detail = `the provider's clock is ${describeSkew(sample.skewMs)} (±${Math.round(sample.rttMs / 2 + 500)} ms; warn above ${SKEW_WARN_MS / 1000} s, fail above ${SKEW_FAIL_MS / 60_000} min)`;
      out.push(status === 'ok' ? { check, status, detail } : { check, status, detail, fix: 'synchronise this host\'s clock (NTP: chronyd or systemd-timesyncd) or the provider\'s' });
    } catch (err) {
      out.push({ check, status: 'warn', detail: `could not read its clock from ${url}: ${err instanceof Error ? err.message : String(err)}`, fix: 'see the provider check; the clock is checked when the provider answers' });
    }
  }
  return out;
}

/**
 * The URL whose Date header stands for a provider's clock; none for env, file and local, or an AWS
 * entry with no region known. The cloud defaults come from the providers' own modules, imported on
 * use as `providersFor` does (the core loads nothing of src/aws or src/gcp up front).
 */
async function clockEndpoint(p: OperatorConfig['providers'][number], env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  switch (p.type) {
    case 'vault':
      return new URL('/v1/sys/health', p.address).href;
    case 'aws': {
      // The provider resolves its region the same way (the SDK then picks this regional endpoint).
      const region = (await import('../aws/region.js')).awsRegion(p.region, env);
      return p.endpoint ?? (region === undefined ? undefined : `https://secretsmanager.${region}.amazonaws.com/`);
    }
    case 'gcp':
      return (await import('../gcp/endpoint.js')).gcpEndpoint(p.apiEndpoint, p.location);
    case 'azure':
      return p.vaultUrl;
    default:
      return undefined;
  }
}

function describeSkew(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const amount = s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`;
  return ms >= 0 ? `${amount} ahead of ours` : `${amount} behind ours`;
}

/** A key or store file must exist and be readable by its owner only (POSIX). */
async function privateFileCheck(kind: 'store' | 'key', path: string, create: string): Promise<DoctorCheck> {
  const check = `${kind} file`;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { check, status: code === 'ENOENT' && kind === 'store' ? 'warn' : 'fail', detail: `${path} cannot be read (${code})`, fix: create };
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    return { check, status: 'fail', detail: `${path} is accessible by group or others (mode ${(mode & 0o777).toString(8)})`, fix: `chmod 600 ${path}` };
  }
  return { check, status: 'ok', detail: `${path} is private (mode ${(mode & 0o777).toString(8)})` };
}

/** The audit log is writable (or its directory, before the first record) and its chain verifies. */
async function auditChecks(loaded: LoadedConfig, environment: string, env: Readonly<Record<string, string | undefined>>): Promise<DoctorCheck[]> {
  const audit = loaded.config.audit!;
  const file = resolvePath(loaded.dir, audit.file.replaceAll('{env}', environment));
  const out: DoctorCheck[] = [];
  let exists = true;
  try {
    await access(file, constants.W_OK);
    out.push({ check: 'audit log writable', status: 'ok', detail: `${file} is writable` });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    exists = code !== 'ENOENT';
    if (exists) {
      out.push({ check: 'audit log writable', status: 'fail', detail: `${file} is not writable (${code})`, fix: `give the connectors' user write access to ${file}` });
    } else {
      try {
        await access(dirname(file), constants.W_OK);
        out.push({ check: 'audit log writable', status: 'ok', detail: `${file} does not exist yet; its directory is writable` });
      } catch {
        out.push({ check: 'audit log writable', status: 'fail', detail: `${file} does not exist and its directory is not writable`, fix: `create ${dirname(file)} writable by the connectors' user` });
      }
    }
  }
  if (!exists) return out;
  const keyPath = audit.keyFile === undefined ? env[ENV_AUDIT_KEY_FILE] || undefined : resolvePath(loaded.dir, audit.keyFile);
  let key: string | undefined;
  if (keyPath !== undefined) {
    try {
      key = (await readFile(keyPath, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      out.push({ check: 'audit chain', status: 'fail', detail: `the audit key file ${keyPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'point audit.keyFile at the HMAC key' });
      return out;
    }
  } else if (env[ENV_AUDIT_KEY]) {
    key = env[ENV_AUDIT_KEY];
  }
  if (key === undefined) {
    out.push({ check: 'audit chain', status: 'warn', detail: 'no HMAC key, so the chain was not verified', fix: `set audit.keyFile, or ${ENV_AUDIT_KEY_FILE} or ${ENV_AUDIT_KEY}` });
    return out;
  }
  // A running writer has no closing checkpoint yet: the chain is checked up to its last line.
  const result = await verifyAuditLog(file, { hmacKey: key, requireCheckpoint: false });
  if (!result.ok) {
    out.push({ check: 'audit chain', status: 'fail', detail: `${file}: line ${result.firstInvalidLine}: ${result.reason}`, fix: 'investigate: the log was edited, truncated or written with another key (connector-secrets audit verify)' });
  } else if (result.resumedAt !== undefined) {
    // A killed writer, or a log cut short and continued: only the operator can tell which.
    out.push({
      check: 'audit chain',
      status: 'warn',
      detail: `${file}: ${result.count} records verified; ${result.resumedAt.length} session(s) never closed (resumed at line(s) ${result.resumedAt.join(', ')})`,
      fix: 'match each to a known kill or crash of the connector; one you cannot account for may be a log cut short and continued',
    });
  } else {
    out.push({ check: 'audit chain', status: 'ok', detail: `${file}: ${result.count} records verified` });
  }
  return out;
}
