// undiciAuth and axiosAuth against a loopback HTTP server that checks the bearer token.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import axios from 'axios';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { axiosAuth } from '../../src/adapters/axios.js';
import { undiciAuth } from '../../src/adapters/undici.js';
import { createSecrets, type SecretsClient } from '../../src/client.js';
import { fromEnv } from '../../src/providers/fromEnv.js';

const token = () => randomBytes(18).toString('base64url');
let server: Server;
let base: string;
let valid: string;
let seen: Array<{ auth: string | undefined; body: string }>;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body });
      if (req.headers.authorization !== `Bearer ${valid}`) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

let env: Record<string, string | undefined>;
let secrets: SecretsClient;
beforeEach(async () => {
  seen = [];
  valid = token();
  env = { API_TOKEN: valid };
  secrets = createSecrets({ environment: 'dev', providers: [fromEnv()], env, cache: false, logger: { level: 'error' } });
  return () => secrets.close();
});

describe('undiciAuth (undici Agent.compose against a loopback server)', () => {
  it('adds Authorization from the handle; on 401 refreshes once and sends the same request again; a second 401 is passed on', async () => {
    const agent = new Agent().compose(undiciAuth('env://API_TOKEN', secrets));
    const first = await request(`${base}/orders`, { dispatcher: agent });
    expect(first.statusCode).toBe(200);
    await first.body.text();
    expect(seen).toEqual([{ auth: `Bearer ${valid}`, body: '' }]);

    // The server moves to a new token; the handle still holds the old one.
    const old = valid;
    valid = token();
    env['API_TOKEN'] = valid;
    seen = [];
    const payload = JSON.stringify({ id: 1 });
    const second = await request(`${base}/orders`, { dispatcher: agent, method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    expect(second.statusCode).toBe(200);
    expect(await second.body.json()).toEqual({ ok: true, body: payload });
    expect(seen).toEqual([
      { auth: `Bearer ${old}`, body: payload },
      { auth: `Bearer ${valid}`, body: payload },
    ]);

    // A token the server never accepts: exactly one retry, then the caller gets the 401.
    valid = token();
    seen = [];
    const third = await request(`${base}/orders`, { dispatcher: agent });
    expect(third.statusCode).toBe(401);
    expect(await third.body.text()).toBe('unauthorized');
    expect(seen).toHaveLength(2);
    await agent.close();
  });

  it('does not send a streamed body twice: its 401 is passed on', async () => {
    const agent = new Agent().compose(undiciAuth('env://API_TOKEN', secrets));
    valid = token();
    const r = await request(`${base}/orders`, { dispatcher: agent, method: 'POST', body: Readable.from(['a', 'b']) });
    expect(r.statusCode).toBe(401);
    await r.body.text();
    expect(seen).toEqual([{ auth: expect.stringMatching(/^Bearer /), body: 'ab' }]);
    await agent.close();
  });

  it('fails the request with the handle error, naming no value, when the token cannot be had', async () => {
    const agent = new Agent().compose(undiciAuth('env://MISSING_TOKEN', secrets));
    await expect(request(`${base}/orders`, { dispatcher: agent })).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    expect(seen).toEqual([]);
    await agent.close();
  });
});

describe('axiosAuth (axios against a loopback server)', () => {
  it('adds Authorization from the handle; on 401 refreshes once through withCredential and retries; a second 401 rejects', async () => {
    const api = axios.create({ baseURL: base });
    const remove = axiosAuth(api, 'env://API_TOKEN', secrets);
    expect((await api.get('/orders')).data).toEqual({ ok: true, body: '' });
    expect(seen).toEqual([{ auth: `Bearer ${valid}`, body: '' }]);

    const old = valid;
    valid = token();
    env['API_TOKEN'] = valid;
    seen = [];
    expect((await api.post('/orders', { id: 1 })).data).toEqual({ ok: true, body: '{"id":1}' });
    expect(seen).toEqual([
      { auth: `Bearer ${old}`, body: '{"id":1}' },
      { auth: `Bearer ${valid}`, body: '{"id":1}' },
    ]);

    valid = token();
    seen = [];
    await expect(api.get('/orders')).rejects.toMatchObject({ response: { status: 401 } });
    expect(seen).toHaveLength(2);

    remove();
    seen = [];
    await expect(api.get('/orders')).rejects.toMatchObject({ response: { status: 401 } });
    expect(seen).toEqual([{ auth: undefined, body: '' }]);
  });
});
