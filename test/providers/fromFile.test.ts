import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { fromFile } from '../../src/providers/fromFile.js';
import { errorText, generated } from '../helpers.js';

let root: string;
let outside: string;
const values = { plain: generated(), json: generated(), outside: generated() };

beforeAll(async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'cs-file-'));
  root = path.join(base, 'secrets');
  outside = path.join(base, 'elsewhere');
  await mkdir(path.join(root, 'orders-db'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, 'token'), `${values.plain}\n`);
  await writeFile(path.join(root, 'orders-db', 'creds.json'), JSON.stringify({ password: values.json }));
  await writeFile(path.join(outside, 'other'), values.outside);
  await symlink(path.join(outside, 'other'), path.join(root, 'escape'));
  await symlink(outside, path.join(root, 'escape-dir'));
  await writeFile(path.join(root, 'bin'), Buffer.from([0, 1, 2, 255]));
});

const client = (init = {}) => createSecrets({ environment: 'dev', providers: [fromFile({ root, ...init })] });

describe('fromFile', () => {
  it('reads relative and absolute paths under root, dropping one trailing newline', async () => {
    const secrets = client();
    expect((await secrets.get('file://token')).reveal()).toBe(values.plain);
    expect((await secrets.get(`file://${root}/token`)).reveal()).toBe(values.plain);
    expect((await createSecrets({ environment: 'dev', providers: [fromFile({ root, trimTrailingNewline: false })] }).get('file://token')).reveal()).toBe(`${values.plain}\n`);
  });

  it('selects #field in JSON files', async () => {
    expect((await client().get('file://orders-db/creds.json#password')).reveal()).toBe(values.json);
  });

  it('returns bytes with ?encoding=binary', async () => {
    const s = await client().getBytes('file://bin?encoding=binary');
    expect([...s.reveal()]).toEqual([0, 1, 2, 255]);
  });

  it('refuses absolute paths outside root', async () => {
    await expect(client().get(`file://${outside}/other`)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('refuses symlinks that resolve outside root, without reading them', async () => {
    for (const ref of ['file://escape', 'file://escape-dir/other']) {
      const err = await client().get(ref).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(errorText(err)).not.toContain(values.outside);
    }
  });

  it('path traversal never reaches the file system: plain and percent-encoded', async () => {
    for (const ref of ['file://../elsewhere/other', 'file://%2e%2e/elsewhere/other', 'file://a%2F..%2Fb']) {
      await expect(client().get(ref)).rejects.toMatchObject({ code: 'INVALID_REF' });
    }
  });

  it('missing files are not found (the chain moves on); logical refs only when enabled', async () => {
    await expect(client().get('file://nope')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(client().get('secret://token')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect((await client({ logical: true }).get('secret://token')).reveal()).toBe(values.plain);
  });
});
