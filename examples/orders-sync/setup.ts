// First-run setup of the demo: an encrypted local store with a fresh random key and a freshly
// generated OAuth client secret for the orders API. Later runs reuse both. This is what `connector-secrets local init` and
// `local set` do from a shell; the demo does it in code so that `npm run demo` needs nothing else.
import { randomBytes } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromLocalStore } from '../../src/index.js';
import { ordersSecrets, type Log } from './connector.js';

/**
 * The store entry the OAuth client secret lives in; `secret://orders-api/client-secret`
 * resolves to it. The short-lived access tokens are never stored: they are obtained with it.
 */
export const CLIENT_SECRET_ENTRY = 'orders-api/client-secret';

/** Where the demo's store and key live. */
export interface DemoStore {
  /** The demo directory. */
  readonly dir: string;
  /** The environment the store is tagged with. */
  readonly environment: string;
  /** The encrypted store file. */
  readonly storePath: string;
  /** The key file (mode 0600). */
  readonly keyFile: string;
  /** True when this call created the store; false when it reused one. */
  readonly created: boolean;
}

/** Options of {@link ensureDemoStore}. */
export interface EnsureDemoStoreOptions {
  readonly dir: string;
  readonly environment: string;
  readonly log: Log;
}

/**
 * Creates `<dir>/<env>.key` (32 random bytes, base64, mode 0600) and `<dir>/<env>.enc.json`
 * holding a random client secret, unless they exist; then checks the store opens with the key.
 */
export async function ensureDemoStore({ dir, environment, log }: EnsureDemoStoreOptions): Promise<DemoStore> {
  const storePath = join(dir, `${environment}.enc.json`);
  const keyFile = join(dir, `${environment}.key`);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const [hasStore, hasKey] = await Promise.all([exists(storePath), exists(keyFile)]);
  if (hasStore && !hasKey) {
    throw new Error(`the demo store ${storePath} exists but its key file ${keyFile} is gone; delete ${dir} to start over`);
  }

  const store = fromLocalStore({ path: storePath, keyFile, environment });
  try {
    let created = false;
    if (!hasStore) {
      if (!hasKey) await writeKeyFile(keyFile);
      await store.init({ environment });
      created = true;
      log(`created encrypted store ${storePath} (environment "${environment}") with a fresh random key in ${keyFile} (mode 0600)`);
    } else {
      log(`reusing encrypted store ${storePath} (environment "${environment}", key file ${keyFile})`);
    }
    // An interrupted first run (or a store from an older demo) may lack the client secret: add it.
    const entries = await store.list();
    if (!entries.some((e) => e.name === CLIENT_SECRET_ENTRY)) {
      const spec = ordersSecrets.specs.clientSecret;
      await store.set(CLIENT_SECRET_ENTRY, randomBytes(32).toString('base64url'), {
        owner: spec.owner,
        purpose: spec.purpose,
        sensitivity: spec.sensitivity,
        rotation: spec.rotation,
      });
      log(`stored a freshly generated OAuth client secret as entry "${CLIENT_SECRET_ENTRY}"`);
    }
    return { dir, environment, storePath, keyFile, created };
  } finally {
    await store.close();
  }
}

/** A new random 32-byte key, base64, in a new file only its owner can read. */
async function writeKeyFile(path: string): Promise<void> {
  const key = randomBytes(32);
  try {
    await writeFile(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } finally {
    key.fill(0);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
