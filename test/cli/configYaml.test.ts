// connector-secrets.config.yaml / .yml: found like the JSON config, loaded to the same document,
// and a mistake is named by field and line, never by its content.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-config-yaml-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const YAML = `# operator configuration
environments: [dev, prod]
providers:
  - type: env
    prefix: APP_
  - type: local
    environments: [dev]
  - type: vault
    address: https://vault.example:8200
    token: env://VAULT_TOKEN
    environments: [prod]
manifests:
  - ./manifests/orders.mjs
policy: ./policy.yaml
audit:
  file: /var/log/connector/{env}.jsonl
`;

const message = async (p: Promise<unknown>) => {
  const err = (await p.then(() => undefined, (e: unknown) => e)) as Error & { code?: string };
  expect(err, 'expected an error').toBeInstanceOf(Error);
  expect(err.code).toBe('CONFIG_INVALID');
  return err.message;
};

describe('connector-secrets.config.yaml', () => {
  it('loads to the same validated document as the equivalent JSON; .yaml and .yml are both found in cwd', async () => {
    await writeFile(join(dir, 'connector-secrets.config.yaml'), YAML);
    const fromYaml = await loadConfig(undefined, dir);
    expect(fromYaml.file).toBe(join(dir, 'connector-secrets.config.yaml'));
    expect(fromYaml.config).toEqual({
      environments: ['dev', 'prod'],
      providers: [
        { type: 'env', prefix: 'APP_' },
        { type: 'local', environments: ['dev'] },
        { type: 'vault', address: 'https://vault.example:8200', token: 'env://VAULT_TOKEN', environments: ['prod'] },
      ],
      manifests: ['./manifests/orders.mjs'],
      policy: './policy.yaml',
      audit: { file: '/var/log/connector/{env}.jsonl' },
    });
    await writeFile(join(dir, 'c.json'), JSON.stringify(fromYaml.config));
    expect((await loadConfig('c.json', dir)).config).toEqual(fromYaml.config);

    const other = await mkdtemp(join(tmpdir(), 'cs-config-yml-'));
    try {
      await writeFile(join(other, 'connector-secrets.config.yml'), YAML);
      expect((await loadConfig(undefined, other)).config).toEqual(fromYaml.config);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('JSON wins over YAML in the same directory (the documented order)', async () => {
    await writeFile(join(dir, 'connector-secrets.config.yaml'), YAML);
    await writeFile(join(dir, 'connector-secrets.config.json'), JSON.stringify({ environments: ['dev'], providers: [{ type: 'env' }], manifests: ['m.mjs'] }));
    expect((await loadConfig(undefined, dir)).config.environments).toEqual(['dev']);
  });

  it('a bad value is named by its field and its line', async () => {
    await writeFile(join(dir, 'c.yaml'), YAML.replace('environments: [dev, prod]', 'environments: [dev, Prod]').replace('address: https://vault.example:8200', 'address: not a url'));
    const m = await message(loadConfig('c.yaml', dir));
    expect(m).toContain(join(dir, 'c.yaml'));
    expect(m).toMatch(/environments\.1: must be a lowercase environment tag[^;]*\(line 2\)/);
    expect(m).toMatch(/providers\.2\.address: must be a URL[^;]*\(line 9\)/);
  });

  it('an unknown key is counted, not quoted, at the line of its object; a missing field at its parent', async () => {
    const planted = randomBytes(12).toString('hex');
    await writeFile(join(dir, 'c.yaml'), YAML.replace('  - type: env\n    prefix: APP_\n', `  - type: env\n    prefix: APP_\n    k${planted}: 1\n`).replace('manifests:\n  - ./manifests/orders.mjs\n', ''));
    const m = await message(loadConfig('c.yaml', dir));
    expect(m).toContain("providers.0: 1 unknown key (not shown; compare with the documented fields) (line 4)");
    expect(m).toMatch(/manifests: [^;]*\(line 2\)/);
    expect(m).not.toContain(planted);
  });

  it('a syntax error gives line, column and rule, never the line itself; duplicate keys and alias bombs are refused', async () => {
    const planted = randomBytes(12).toString('hex');
    await writeFile(join(dir, 'c.yaml'), `environments: [dev]\nproviders:\n  - type: env\n   token: "${planted}\n`);
    const m = await message(loadConfig('c.yaml', dir));
    expect(m).toMatch(/is not valid YAML \(a syntax error [A-Z_]+ at line \d+, column \d+; the content is not shown\)/);
    expect(m).not.toContain(planted);

    await writeFile(join(dir, 'd.yaml'), 'environments: [dev]\nenvironments: [prod]\nproviders: [{type: env}]\nmanifests: [m.mjs]\n');
    expect(await message(loadConfig('d.yaml', dir))).toMatch(/not valid YAML \(a syntax error DUPLICATE_KEY at line 2/);

    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    await writeFile(join(dir, 'e.yaml'), `${bomb}\n`);
    expect(await message(loadConfig('e.yaml', dir))).toMatch(/not valid YAML \(too many aliases/);
  });

  it('another extension is refused naming the accepted ones', async () => {
    await writeFile(join(dir, 'c.toml'), 'x = 1');
    expect(await message(loadConfig('c.toml', dir))).toContain('must be .json, .yaml, .yml or .mjs');
  });
});
