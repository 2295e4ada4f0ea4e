// Guards and audit in the demo: who the connector is, what it may read, and the tamper-evident
// record of every access it made.
//
//   - identity `orders-sync` and a least-privilege policy: the client secret and the access
//     tokens, nothing else (anything the policy does not allow is POLICY_DENIED);
//   - an audit log: `fileAuditSink` writes every access as a hash-chained, HMAC-signed JSON line,
//     and a signed checkpoint when it closes; the HMAC key is random, created on the first run
//     next to the store key (mode 0600), and never printed;
//   - one cross-environment read on purpose: the dev process asks for the prod client secret and
//     is refused before any provider is called;
//   - at the end, `verifyAuditLog` checks every MAC, the chain and the checkpoint, and the demo
//     prints the CLI command that does the same.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  definePolicy,
  fileAuditSink,
  Secret,
  verifyAuditLog,
  type AuditSink,
  type AuditVerification,
  type FileAuditSink,
  type PolicyDocument,
  type SecretsClient,
} from '../../src/index.js';
import { ordersSecrets, type Log } from './connector.js';

/** The connector identity: what the policy's rules and every audit record name. */
export const DEMO_IDENTITY = 'orders-sync';

/**
 * The connector's policy: the client secret (`secret://orders-api/…`) and the access tokens
 * (`orders-api://…`). With a policy, anything it does not allow is denied (`POLICY_DENIED`,
 * rule `(default)`).
 */
export const DEMO_POLICY_DOCUMENT: PolicyDocument = {
  version: 1,
  rules: [
    {
      name: 'orders-sync-least-privilege',
      identity: DEMO_IDENTITY,
      allow: ['secret://orders-api/**', 'orders-api://**'],
    },
  ],
};
/** {@link DEMO_POLICY_DOCUMENT}, validated; passed to `createSecrets({ policy })`. */
export const DEMO_POLICY = definePolicy(DEMO_POLICY_DOCUMENT);

/**
 * The read the demo attempts on purpose: the connector's own client secret, but the prod one,
 * from the dev process. No `crossEnvironment` rule allows it, so it is `ENVIRONMENT_MISMATCH`.
 */
export const CROSS_ENVIRONMENT_REF = `${ordersSecrets.specs.clientSecret.ref}?env=prod`;

/** The audit HMAC key file, next to the store key: `<dir>/audit.key`. */
export function auditKeyPath(dir: string): string {
  return join(dir, 'audit.key');
}

/** The audit log: `<dir>/audit/orders-sync.jsonl`. */
export function auditLogPath(dir: string): string {
  return join(dir, 'audit', `${DEMO_IDENTITY}.jsonl`);
}

/** The audit HMAC key of the demo. */
export interface DemoAuditKey {
  /** The key file (mode 0600): 32 random bytes, hex, and a newline. */
  readonly keyFile: string;
  /** The key, exactly as `connector-secrets audit verify --key-file` reads it (the file's text, one trailing newline dropped). */
  readonly hmacKey: Secret<string>;
  /** True when this call created the key file. */
  readonly created: boolean;
}

/**
 * Reads `<dir>/audit.key`, or creates it on the first run: 32 random bytes, hex, in a new file
 * only its owner can read. The key is never printed; lines name the file.
 */
export async function ensureAuditKey(dir: string, log: Log): Promise<DemoAuditKey> {
  const keyFile = auditKeyPath(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    const key = randomBytes(32);
    try {
      await writeFile(keyFile, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      created = true;
    } finally {
      key.fill(0);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const text = (await readFile(keyFile, 'utf8')).replace(/\r?\n$/, '');
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new Error(`the audit key file ${keyFile} does not hold a demo key (64 hex digits); delete it to start over`);
  }
  log(created
    ? `created a random audit HMAC key in ${keyFile} (mode 0600)`
    : `reusing the audit HMAC key in ${keyFile}`);
  return { keyFile, hmacKey: new Secret(text), created };
}

/** The demo's audit log, shared by the connector's clients. */
export interface DemoAuditLog {
  readonly path: string;
  /** The file sink itself; {@link DemoAuditLog.close} closes it. */
  readonly sink: FileAuditSink;
  /**
   * The sink to pass to each client (`createSecrets({ audit })`): it writes to the file but
   * leaves closing to {@link DemoAuditLog.close}, so the checkpoint is written once, after the
   * last client closed.
   */
  readonly shared: AuditSink;
  /** How many records the log held before this run (it is continued across runs). */
  readonly recordsBefore: number;
  /** Writes the signed checkpoint and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens `<dir>/audit/orders-sync.jsonl` for appending. A log left by an earlier run is
 * continued when it verifies under the key; when it does not (a run killed before its
 * checkpoint, a lost key, an edit), it is moved aside and a new one is started.
 */
export async function openAuditLog(dir: string, key: DemoAuditKey, log: Log): Promise<DemoAuditLog> {
  const path = auditLogPath(dir);
  await mkdir(join(dir, 'audit'), { recursive: true, mode: 0o700 });
  let recordsBefore = 0;
  if (await exists(path)) {
    const before = await verifyAuditLog(path, { hmacKey: key.hmacKey.reveal() });
    if (before.ok) {
      recordsBefore = before.count;
      log(`continuing audit log ${path} (${before.count} records from earlier runs, verified)`);
    } else {
      const aside = `${path}.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(path, aside);
      log(`the audit log ${path} does not verify (line ${before.firstInvalidLine}: ${before.reason}); moved it to ${aside} and starting a new one`);
    }
  }
  if (recordsBefore === 0) log(`audit log ${path}: every access is a hash-chained, HMAC-signed line`);
  const sink = fileAuditSink(path, { hmacKey: key.hmacKey.reveal() });
  return {
    path,
    sink,
    shared: { write: (event) => sink.write(event) },
    recordsBefore,
    close: () => sink.close(),
  };
}

/** What the cross-environment read did. No values. */
export interface DeniedRead {
  readonly ref: string;
  /** The error's code: `ENVIRONMENT_MISMATCH`; undefined if the read was (unexpectedly) allowed. */
  readonly code: string | undefined;
  readonly name: string | undefined;
  readonly message: string | undefined;
  /** Whether any provider fetched a value (or failed trying) for it: the client's counters before and after. */
  readonly fetched: boolean;
}

/**
 * Asks `secrets` for {@link CROSS_ENVIRONMENT_REF} and prints how it was denied. Never throws
 * for the denial: the demo goes on.
 */
export async function attemptCrossEnvironmentRead(secrets: SecretsClient, log: Log): Promise<DeniedRead> {
  const ref = CROSS_ENVIRONMENT_REF;
  const before = secrets.metrics();
  log(`cross-environment read: the "${secrets.environment}" process asks for ${ref}`);
  let denial: { code?: unknown; name?: unknown; message?: unknown } | undefined;
  try {
    const got = await secrets.get(ref);
    log(`UNEXPECTED: the cross-environment read was allowed (provider "${got.provider ?? '?'}"); the value stays ${got}`);
  } catch (err) {
    denial = err as typeof denial;
  }
  const after = secrets.metrics();
  // Provider fetches count successful fetches; provider errors count failed ones.
  const fetched = after.fetches !== before.fetches || after.providerErrors.total !== before.providerErrors.total;
  const code = typeof denial?.code === 'string' ? denial.code : undefined;
  const name = typeof denial?.name === 'string' ? denial.name : undefined;
  const message = typeof denial?.message === 'string' ? denial.message : undefined;
  if (denial !== undefined) {
    // Error messages of connector-secrets name refs, environments and rules, never values.
    log(`  denied: ${name ?? 'error'} [${code ?? '?'}]: ${message ?? String(denial)}`);
    log(fetched
      ? '  UNEXPECTED: a provider was asked for it'
      : `  no value was fetched: no provider was called (provider fetches stayed at ${after.fetches}), so nothing reached the cache, the redactor or a log; the denial is in the audit log`);
  }
  return { ref, code, name, message, fetched };
}

/** The verification of the demo's audit log at the end of a run. */
export interface DemoAudit {
  readonly path: string;
  readonly keyFile: string;
  /** Whether this run created the key. */
  readonly keyCreated: boolean;
  /** Records the log held before this run. */
  readonly recordsBefore: number;
  readonly verification: AuditVerification;
}

/**
 * Verifies the closed audit log and prints the result and the CLI command that checks it too.
 * @throws Error when the log does not verify.
 */
export async function verifyDemoAuditLog(auditLog: DemoAuditLog, key: DemoAuditKey, log: Log): Promise<DemoAudit> {
  const verification = await verifyAuditLog(auditLog.path, { hmacKey: key.hmacKey.reveal() });
  const result = { path: auditLog.path, keyFile: key.keyFile, keyCreated: key.created, recordsBefore: auditLog.recordsBefore, verification };
  if (!verification.ok) {
    log(`audit log: verification FAILED at line ${verification.firstInvalidLine}: ${verification.reason}`);
    throw new Error(`the demo's audit log ${auditLog.path} does not verify: line ${verification.firstInvalidLine}: ${verification.reason}`);
  }
  const thisRun = verification.count - auditLog.recordsBefore;
  log(`audit log: ${verification.count} records, verified OK (` +
    (auditLog.recordsBefore > 0 ? `${thisRun} from this run; ` : '') +
    'checked every MAC, the prev chain, the sequence numbers and the signed closing checkpoint)');
  const args = `audit verify ${shellQuote(auditLog.path)} --key-file ${shellQuote(key.keyFile)}`;
  log('check it from the CLI (exit code 0; edit any line of the log and it exits 1, naming that line):');
  log(`  npx connector-secrets ${args}`);
  log(`  in this repository: npx tsx src/cli/main.ts ${args}`);
  return result;
}

/** A path as one shell word. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
