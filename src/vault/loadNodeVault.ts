import type NodeVault from 'node-vault';
import { ConfigError } from '../errors.js';

/** The node-vault factory, as its CommonJS module exports it. */
export type NodeVaultFactory = typeof NodeVault;
/** A node-vault client. */
export type NodeVaultClient = NodeVault.client;
/** node-vault's client options. */
export type NodeVaultOptions = NodeVault.VaultOptions;

let loading: Promise<NodeVaultFactory> | undefined;

/**
 * Loads node-vault (an optional peer dependency) on first use. Nothing in connector-secrets
 * imports it before a Vault provider makes its first request.
 *
 * @throws {@link ConfigError} when node-vault is not installed.
 */
export function loadNodeVault(): Promise<NodeVaultFactory> {
  loading ??= import('node-vault').then(
    (mod) => {
      const factory = ((mod as { default?: unknown }).default ?? mod) as NodeVaultFactory;
      if (typeof factory !== 'function') throw new ConfigError('node-vault did not export a client factory; install node-vault >= 0.12');
      return factory;
    },
    (err: unknown) => {
      loading = undefined;
      throw new ConfigError('the Vault provider needs the optional peer dependency node-vault (>= 0.12): npm install node-vault', {
        provider: 'vault',
        cause: err,
      });
    },
  );
  return loading;
}
