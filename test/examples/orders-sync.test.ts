import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceAuthError } from '../../examples/orders-sync/connector.js';
import { DEMO_ORDER_COUNT, runDemo } from '../../examples/orders-sync/main.js';
import { TOKEN_ENTRY, type DemoStore } from '../../examples/orders-sync/setup.js';
import { generateOrders, startSourceApi } from '../../examples/orders-sync/source-api.js';
import { Secret, createSecrets, fromLocalStore } from '../../src/index.js';

/** Every printable form a leaked value could take. */
function forms(value: string | Buffer): string[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const out = [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')];
  if (typeof value === 'string') out.push(value);
  return out.filter((f) => f.length >= 16);
}

/** The token and key the demo generated, read back the way the connector reads them. */
async function demoSecrets(store: DemoStore) {
  const keyText = (await readFile(store.keyFile, 'utf8')).trim();
  const key = Buffer.from(keyText, 'base64');
  const secrets = createSecrets({
    environment: store.environment,
    providers: [fromLocalStore({ path: store.storePath, keyFile: store.keyFile, environment: store.environment })],
  });
  try {
    const token = (await secrets.get(`local://${TOKEN_ENTRY}`)).reveal();
    return { token, key, keyText };
  } finally {
    await secrets.close();
  }
}

describe('examples/orders-sync', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'orders-sync-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs every order on the first run and on a reuse run, without printing or writing a secret', async () => {
    const lines: string[] = [];
    const log = (line: string) => void lines.push(line);

    const first = await runDemo({ dir, log, env: {} });
    const second = await runDemo({ dir, log, env: {} });

    expect(first.store.created).toBe(true);
    expect(second.store.created).toBe(false);
    for (const run of [first, second]) {
      expect(run.rows).toBe(137);
      expect(run.rows).toBe(DEMO_ORDER_COUNT);
      expect(run.pages).toBe(3);
      expect(run.provider).toBe('local');
      expect(run.unauthenticatedStatus).toBe(401);
    }

    const sink = await readFile(first.sinkPath, 'utf8');
    const rows = sink.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string });
    expect(rows).toHaveLength(137);
    expect(rows.map((r) => r.id)).toEqual(generateOrders(137).map((o) => o.id));
    expect(await readdir(join(dir, 'out'))).toEqual(['orders.jsonl']); // no partial file left

    const { token, key, keyText } = await demoSecrets(first.store);
    expect(key).toHaveLength(32);
    expect(token.length).toBeGreaterThanOrEqual(32);
    const output = lines.join('\n');
    for (const leaked of [...forms(token), ...forms(key), keyText]) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
    expect(output).toContain('`${token}`: [REDACTED]');
    expect(output).toContain('answered by "local"');

    if (process.platform !== 'win32') {
      expect((await stat(first.store.keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(first.store.storePath)).mode & 0o777).toBe(0o600);
    }
  });

  it('asks the env provider first: a wrong token there is refused by the API, and is not printed', async () => {
    const wrong = randomBytes(24).toString('base64url');
    const lines: string[] = [];
    const run = runDemo({ dir, log: (line) => void lines.push(line), env: { ORDERS_API_TOKEN: wrong } });

    await expect(run).rejects.toBeInstanceOf(SourceAuthError);
    await expect(run).rejects.toMatchObject({ status: 401, page: 1 });
    const output = lines.join('\n');
    expect(output).toContain('resolved by provider "env"');
    for (const leaked of forms(wrong)) expect(output).not.toContain(leaked);
    expect(await readdir(join(dir, 'out'))).toEqual([]); // the failed run left no sink behind
  });

  it('the source API refuses a request without the right bearer token', async () => {
    const token = randomBytes(24).toString('base64url');
    const api = await startSourceApi({ token: new Secret(token), orders: generateOrders(3) });
    try {
      const url = new URL('/v1/orders', api.url);

      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await none.text()).not.toContain(token);

      const wrong = await fetch(url, { headers: { authorization: `Bearer ${randomBytes(24).toString('base64url')}` } });
      expect(wrong.status).toBe(401);
      await wrong.body?.cancel();

      const basic = await fetch(url, { headers: { authorization: `Basic ${token}` } });
      expect(basic.status).toBe(401);
      await basic.body?.cancel();

      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { data: unknown[]; nextPage: number | null; total: number };
      expect(body).toMatchObject({ total: 3, nextPage: null });
      expect(body.data).toHaveLength(3);

      expect(api.stats).toEqual({ served: 1, refused: 3 });
    } finally {
      await api.close();
    }
  });
});
