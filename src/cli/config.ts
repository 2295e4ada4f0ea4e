import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { describeIssues } from '../issues.js';
import { isManifest, type SecretManifest, type SecretSpecs } from '../manifest.js';
import type { SecretProvider } from '../provider.js';
import { fromEnv } from '../providers/fromEnv.js';
import { fromFile } from '../providers/fromFile.js';
import { fromLocalStore } from '../providers/fromLocalStore.js';
import { parseYamlConfig, type YamlConfig } from './configYaml.js';
import { exists } from './store.js';

/** The names `inventory` and `doctor` look for in the working directory, in this order. */
export const CONFIG_NAMES = ['connector-secrets.config.json', 'connector-secrets.config.yaml', 'connector-secrets.config.yml', 'connector-secrets.config.mjs'] as const;

const TAG = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'must be a lowercase environment tag such as dev or prod');
/** Which environments a provider serves; all of them when absent. */
const only = { environments: z.array(TAG).min(1).optional() };

const providerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('env'), prefix: z.string().optional(), ...only }).strict(),
  z.object({ type: z.literal('file'), root: z.string().min(1), logical: z.boolean().optional(), ...only }).strict(),
  z
    .object({
      type: z.literal('local'),
      /** The store file; `{env}` is replaced by the environment. @default .secrets/<env>.enc.json beside the config */
      path: z.string().min(1).optional(),
      /** The key file; `{env}` is replaced. @default .secrets/<env>.key beside the config */
      keyFile: z.string().min(1).optional(),
      ...only,
    })
    .strict(),
  z
    .object({
      type: z.literal('vault'),
      address: z.string().url('must be a URL such as https://vault.example:8200'),
      /** A ref to the token (`env://VAULT_TOKEN`, `file:///run/secrets/vault-token`), never the token itself. */
      token: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\//, 'must be a ref to the token such as env://VAULT_TOKEN, not the token'),
      namespace: z.string().optional(),
      ...only,
    })
    .strict(),
  // The cloud providers take their credentials from the SDKs' default chains (environment,
  // workload identity, instance metadata …): nothing secret belongs in this file.
  z
    .object({
      type: z.literal('aws'),
      /** @default AWS_REGION, else AWS_DEFAULT_REGION */
      region: z.string().min(1).optional(),
      /** A VPC endpoint or another endpoint than AWS's regional one. */
      endpoint: z.string().url('must be a URL such as https://secretsmanager.eu-west-1.amazonaws.com').optional(),
      ...only,
    })
    .strict(),
  z
    .object({
      type: z.literal('gcp'),
      /** @default GOOGLE_CLOUD_PROJECT, else the credentials' project */
      projectId: z.string().min(1).optional(),
      /** The region of regional secrets. */
      location: z.string().min(1).optional(),
      apiEndpoint: z.string().url('must be a URL such as https://secretmanager.googleapis.com').optional(),
      ...only,
    })
    .strict(),
  z
    .object({
      type: z.literal('azure'),
      vaultUrl: z.string().url('must be a URL such as https://orders-kv.vault.azure.net'),
      ...only,
    })
    .strict(),
]);

const configSchema = z
  .object({
    environments: z.array(TAG).min(1, 'name at least one environment'),
    providers: z.array(providerSchema).min(1, 'configure at least one provider'),
    manifests: z.array(z.string().min(1)).min(1, 'name at least one manifest module'),
    policy: z.string().min(1).optional(),
    identity: z.string().min(1).optional(),
    /** The connectors' audit log (`{env}` replaced) and its HMAC key file; `doctor` checks it is writable and verifies. */
    audit: z.object({ file: z.string().min(1), keyFile: z.string().min(1).optional() }).strict().optional(),
  })
  .strict();

/** A validated `connector-secrets.config.{json,yaml,yml,mjs}`. */
export type OperatorConfig = z.infer<typeof configSchema>;

/** A loaded configuration: the document, the file it came from, and its directory (relative paths start there). */
export interface LoadedConfig {
  readonly config: OperatorConfig;
  readonly file: string;
  readonly dir: string;
}

/**
 * Reads and validates the configuration: `--config FILE`, else the first of {@link CONFIG_NAMES}
 * in `cwd`. Errors are ConfigErrors that name the file and the field, never a value.
 */
export async function loadConfig(given: string | undefined, cwd: string): Promise<LoadedConfig> {
  let file: string | undefined = given === undefined ? undefined : resolvePath(cwd, given);
  if (file === undefined) {
    for (const name of CONFIG_NAMES) {
      const candidate = resolvePath(cwd, name);
      if (await exists(candidate)) {
        file = candidate;
        break;
      }
    }
    if (file === undefined) throw new ConfigError(`no configuration: pass --config FILE or create ${CONFIG_NAMES.join(' or ')}`);
  }
  let doc: unknown;
  let lineOf: YamlConfig['lineOf'] | undefined;
  const ext = extname(file);
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`the configuration ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (ext === '.json') {
      try {
        doc = JSON.parse(text);
      } catch {
        throw new ConfigError(`the configuration ${file} is not valid JSON`);
      }
    } else {
      ({ doc, lineOf } = await parseYamlConfig(text, file));
    }
  } else if (ext === '.mjs' || ext === '.js') {
    const mod = (await importModule(file, 'the configuration')) as { default?: unknown };
    doc = mod.default;
  } else {
    throw new ConfigError(`the configuration ${file} must be .json, .yaml, .yml or .mjs`);
  }
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) {
    // From YAML each issue also gets the line of its field (or of the nearest parent that exists).
    const why =
      lineOf === undefined
        ? describeIssues(parsed.error.issues, '(config)')
        : parsed.error.issues
            .map((issue) => {
              const line = lineOf(issue.path);
              return `${describeIssues([issue], '(config)')}${line === undefined ? '' : ` (line ${line})`}`;
            })
            .join('; ');
    throw new ConfigError(`the configuration ${file} is invalid: ${why}`);
  }
  return { config: parsed.data, file, dir: dirname(file) };
}

/** The providers of the configuration that serve `environment`, in the configured order. */
export async function providersFor(loaded: LoadedConfig, environment: string, env: Readonly<Record<string, string | undefined>>): Promise<SecretProvider[]> {
  const out: SecretProvider[] = [];
  const at = (p: string) => resolvePath(loaded.dir, p.replaceAll('{env}', environment));
  for (const p of loaded.config.providers) {
    if (p.environments !== undefined && !p.environments.includes(environment)) continue;
    switch (p.type) {
      // Variables and mounted files carry no environment tag: configured for an environment, the
      // provider is bound to it (as `fromEnv({ environment })`), which strict mode in prod requires.
      case 'env':
        out.push(fromEnv({ environment, ...(p.prefix === undefined ? {} : { prefix: p.prefix }) }));
        break;
      case 'file':
        out.push(fromFile({ environment, root: at(p.root), ...(p.logical === undefined ? {} : { logical: p.logical }) }));
        break;
      case 'local':
        out.push(
          fromLocalStore({
            env,
            environment,
            path: at(p.path ?? '.secrets/{env}.enc.json'),
            keyFile: at(p.keyFile ?? '.secrets/{env}.key'),
          }),
        );
        break;
      case 'vault': {
        // Loaded only when configured: the core does not import src/vault (a separate entry point).
        const { fromVault } = await import('../vault/fromVault.js');
        out.push(fromVault({ address: p.address, auth: { method: 'token', token: p.token }, ...(p.namespace === undefined ? {} : { namespace: p.namespace }) }));
        break;
      }
      // Each loads its SDK (an optional peer) on its first request, as when built in code.
      case 'aws': {
        const { fromAwsSecretsManager } = await import('../aws/fromAwsSecretsManager.js');
        out.push(fromAwsSecretsManager(defined({ region: p.region, endpoint: p.endpoint })));
        break;
      }
      case 'gcp': {
        const { fromGcpSecretManager } = await import('../gcp/fromGcpSecretManager.js');
        out.push(fromGcpSecretManager(defined({ projectId: p.projectId, location: p.location, apiEndpoint: p.apiEndpoint })));
        break;
      }
      case 'azure': {
        const { fromAzureKeyVault } = await import('../azure/fromAzureKeyVault.js');
        out.push(fromAzureKeyVault({ vaultUrl: p.vaultUrl }));
        break;
      }
    }
  }
  return out;
}

/** `o` without its undefined fields (the factories' options are exact optional properties). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** The store and key files of the local providers for `environment` (for `doctor`'s permission checks). */
export function localFilesFor(loaded: LoadedConfig, environment: string): { store: string; keyFile: string }[] {
  const at = (p: string) => resolvePath(loaded.dir, p.replaceAll('{env}', environment));
  return loaded.config.providers
    .filter((p): p is Extract<OperatorConfig['providers'][number], { type: 'local' }> => p.type === 'local' && (p.environments === undefined || p.environments.includes(environment)))
    .map((p) => ({ store: at(p.path ?? '.secrets/{env}.enc.json'), keyFile: at(p.keyFile ?? '.secrets/{env}.key') }));
}

/** One manifest found in a module: the module file and the export's name. */
export interface LoadedManifest {
  readonly file: string;
  readonly exportName: string;
  readonly manifest: SecretManifest<SecretSpecs>;
}

/**
 * Imports every configured manifest module (`.js`, `.mjs`, `.cjs`; `.ts` when the process runs
 * with a TypeScript loader) and collects the `defineSecrets` results it exports.
 */
export async function loadManifests(loaded: LoadedConfig): Promise<LoadedManifest[]> {
  const out: LoadedManifest[] = [];
  for (const [i, given] of loaded.config.manifests.entries()) {
    const file = resolvePath(loaded.dir, given);
    const mod = (await importModule(file, `manifests.${i}`)) as Record<string, unknown>;
    const found = Object.entries(mod).filter(([, v]) => isManifest(v)) as [string, SecretManifest<SecretSpecs>][];
    // A CommonJS module's exports arrive as `default` too: one manifest is not counted twice.
    const seen = new Set<unknown>();
    const before = out.length;
    for (const [exportName, manifest] of found) {
      if (seen.has(manifest)) continue;
      seen.add(manifest);
      out.push({ file, exportName, manifest });
    }
    if (isObject(mod['default']) && !isManifest(mod['default'])) {
      for (const [exportName, v] of Object.entries(mod['default'])) {
        if (isManifest(v) && !seen.has(v)) {
          seen.add(v);
          out.push({ file, exportName, manifest: v as SecretManifest<SecretSpecs> });
        }
      }
    }
    if (out.length === before) throw new ConfigError(`manifests.${i} (${file}) exports no defineSecrets() result`);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Imports a module by path; a failure names the field and the error's name, never the module's text. */
async function importModule(file: string, field: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(file).href);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT' ? 'not found' : code === 'ERR_UNKNOWN_FILE_EXTENSION' ? 'unknown file type (.ts needs a TypeScript loader such as tsx)' : `${err instanceof Error ? err.name : 'error'} while loading it`;
    throw new ConfigError(`${field} (${file}) cannot be imported: ${why}`);
  }
}
