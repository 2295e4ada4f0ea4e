import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedactor, DETECTOR_NAMES, type DetectorName } from '../../src/index.js';
import { KeyRules, DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PARAMS, keyWords } from '../../src/redact/keys.js';

// Credential-shaped inputs are assembled at run time from random parts: nothing here is a
// pasted credential, and the pre-commit scan sees no literal.
const pick = (alphabet: string, n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
const UPPER_NUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}-_`;
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const D5 = '-'.repeat(5);

const samples: Record<Exclude<DetectorName, 'keyValue' | 'urlQueryParams' | 'urlUserinfo' | 'databaseUri' | 'authorizationHeader' | 'azureStorageConnectionString' | 'pemPrivateKey'>, () => string> = {
  awsAccessKeyId: () => `${'AK'}${'IA'}${pick(UPPER_NUM, 16)}`,
  githubToken: () => `${'gh'}${'p_'}${pick(ALNUM, 36)}`,
  slackToken: () => `${'xo'}${'xb-'}${pick('0123456789', 11)}-${pick(ALNUM, 24)}`,
  googleApiKey: () => `${'AI'}${'za'}${pick(B64URL, 35)}`,
  stripeLiveKey: () => `${'sk'}_${'live'}_${pick(ALNUM, 24)}`,
  jwt: () => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: pick(ALNUM, 8) })}.${pick(B64URL, 43)}`,
};

describe('pattern detectors', () => {
  const redactor = createRedactor();

  for (const [name, make] of Object.entries(samples)) {
    it(`${name}: masks the token and keeps the text around it`, () => {
      const token = make();
      expect(redactor.redact(`before ${token} after`)).toBe('before [REDACTED] after');
      expect(redactor.redact(`"${token}"`)).toBe('"[REDACTED]"');
      // Switchable.
      const off = createRedactor({ detectors: { [name]: false } });
      expect(off.redact(`before ${token} after`)).toContain(token);
    });
  }

  it('ghp_/AKIA/AIza shapes of the wrong length or case are left alone', () => {
    expect(redactor.redact(`${'AK'}${'IA'}${pick(UPPER_NUM, 15)} x`)).not.toContain('[REDACTED]');
    expect(redactor.redact(`${'ak'}${'ia'}${pick(UPPER_NUM, 16)} x`)).not.toContain('[REDACTED]');
    expect(redactor.redact(`${'gh'}${'p_'}${pick(ALNUM, 10)}`)).not.toContain('[REDACTED]');
  });

  it('pemPrivateKey: masks the body, keeps the armour lines', () => {
    const body = `${pick(B64URL, 64)}\n${pick(B64URL, 64)}\n${pick(B64URL, 12)}==`;
    const block = `${D5}BEGIN RSA PRIVATE KEY${D5}\n${body}\n${D5}END RSA PRIVATE KEY${D5}`;
    const out = redactor.redact(`key:\n${block}\ndone`);
    expect(out).toBe(`key:\n${D5}BEGIN RSA PRIVATE KEY${D5}[REDACTED]${D5}END RSA PRIVATE KEY${D5}\ndone`);
    // JSON-escaped, and truncated (no END): still masked.
    expect(redactor.redact(JSON.stringify({ k: block }))).not.toContain(body.split('\n')[0]);
    expect(redactor.redact(`${D5}BEGIN OPENSSH PRIVATE KEY${D5}\n${body}`)).not.toContain(body.split('\n')[1]);
    // A certificate is not a private key.
    const cert = `${D5}BEGIN CERTIFICATE${D5}\n${body}\n${D5}END CERTIFICATE${D5}`;
    expect(redactor.redact(cert)).toBe(cert);
  });

  it('azureStorageConnectionString: masks AccountKey and SharedAccessSignature values', () => {
    const key = `${pick(ALNUM, 40)}==`;
    const cs = `DefaultEndpointsProtocol=https;AccountName=orders;${'Account'}Key=${key};EndpointSuffix=core.windows.net`;
    expect(redactor.redact(cs)).toBe(`DefaultEndpointsProtocol=https;AccountName=orders;AccountKey=[REDACTED];EndpointSuffix=core.windows.net`);
    const sas = `BlobEndpoint=https://x.blob.core.windows.net;SharedAccessSignature=sv=2022&sig=${pick(ALNUM, 20)}`;
    expect(redactor.redact(sas)).not.toMatch(/sig=[A-Za-z0-9]{20}/);
  });

  it('databaseUri and urlUserinfo: mask the password of a URL, keep the rest', () => {
    const pw = pick(ALNUM, 16);
    expect(redactor.redact(`mongodb+srv://app:${pw}@cluster0.example.net/db?retryWrites=true`)).toBe(
      'mongodb+srv://app:[REDACTED]@cluster0.example.net/db?retryWrites=true',
    );
    expect(redactor.redact(`jdbc:postgresql://u:${pw}@h:5432/d`)).toBe('jdbc:postgresql://u:[REDACTED]@h:5432/d');
    expect(redactor.redact(`fetch https://user:${pw}@api.example.com/x`)).toBe('fetch https://user:[REDACTED]@api.example.com/x');
    // databaseUri alone: only database schemes.
    const dbOnly = createRedactor({ detectors: { urlUserinfo: false } });
    expect(dbOnly.redact(`redis://:${pw}@cache:6379`)).toBe('redis://:[REDACTED]@cache:6379');
    expect(dbOnly.redact(`https://user:${pw}@api.example.com`)).toContain(pw);
    // No userinfo, a port, a ref: untouched.
    for (const text of ['https://api.example.com:8443/v1/orders@2', 'secret://orders-db/password', 'vault://kv/prod/orders-db#password']) {
      expect(redactor.redact(text)).toBe(text);
    }
  });

  it('urlQueryParams: masks sensitive parameters in any string', () => {
    const v = pick(ALNUM, 12);
    expect(redactor.redact(`GET /cb?code=1&access_token=${v}&state=ok`)).toBe('GET /cb?code=1&access_token=[REDACTED]&state=ok');
    expect(redactor.redact(`https://x.blob.core.windows.net/c/f?sv=2022-11-02&sig=${v}%3D&se=2026`)).toBe(
      'https://x.blob.core.windows.net/c/f?sv=2022-11-02&sig=[REDACTED]&se=2026',
    );
    expect(redactor.redact(`https://maps.example.com/api?key=${v}&q=x`)).toBe('https://maps.example.com/api?key=[REDACTED]&q=x');
    expect(redactor.redact(`grant_type=client_credentials&client_secret=${v}`)).toBe('grant_type=client_credentials&client_secret=[REDACTED]');
    expect(redactor.redact('?page=2&sort=asc&keyword=shoes')).toBe('?page=2&sort=asc&keyword=shoes');
  });

  it('keyValue: key: value, key=value and "key":"value" for sensitive keys, in any style', () => {
    const v = pick(ALNUM, 12);
    expect(redactor.redact(`password: ${v} user: bob`)).toBe('password: [REDACTED] user: bob');
    expect(redactor.redact(`DB_PASSWORD=${v} DB_HOST=db`)).toBe('DB_PASSWORD=[REDACTED] DB_HOST=db');
    expect(redactor.redact(`{"apiKey":"${v}","rows":3}`)).toBe('{"apiKey":"[REDACTED]","rows":3}');
    expect(redactor.redact(`{"x-api-key": "${v}"}`)).toBe('{"x-api-key": "[REDACTED]"}');
    expect(redactor.redact(`clientSecret = '${v}'`)).toBe("clientSecret = '[REDACTED]'");
    expect(redactor.redact(`{\\"token\\":\\"${v}\\"}`)).toBe('{\\"token\\":\\"[REDACTED]\\"}');
    expect(redactor.redact(`Cookie: session=${v}; theme=dark`)).toBe('Cookie: [REDACTED]');
    expect(redactor.redact(`pwd=${v}`)).toBe('pwd=[REDACTED]');
    // Describing keys and refs are not secrets.
    for (const text of ['tokenType: Bearer', 'secretName: orders-db', 'Secret: secret://orders-db/password', 'passwordExpiresAt=2026-01-01', 'tokens: 1234', 'password: null']) {
      expect(redactor.redact(text)).toBe(text);
    }
  });

  it('authorizationHeader: Bearer tokens and Basic credentials', () => {
    const t = pick(B64URL, 30);
    expect(redactor.redact(`Authorization: Bearer ${t}`)).toBe('Authorization: Bearer [REDACTED]');
    expect(redactor.redact(`sent bearer ${t} upstream`)).toBe('sent bearer [REDACTED] upstream');
    const basic = Buffer.from(`etl:${pick(ALNUM, 12)}`).toString('base64');
    expect(redactor.redact(`header Basic ${basic} end`)).toBe('header Basic [REDACTED] end');
    expect(redactor.redact('a basic example with words')).toBe('a basic example with words');
  });

  it('detectors: false turns every detector off', () => {
    const off = createRedactor({ detectors: false });
    const text = `password: ${pick(ALNUM, 10)} ${samples.githubToken()}`;
    expect(off.redact(text)).toBe(text);
  });

  it('each detector works on its own and is switched by its name', () => {
    const v = pick(ALNUM, 16);
    const secretPart: Record<DetectorName, () => [text: string, secret: string]> = {
      ...(Object.fromEntries(Object.entries(samples).map(([k, make]) => [k, () => { const t = make(); return [`x ${t} y`, t]; }])) as Record<keyof typeof samples, () => [string, string]>),
      pemPrivateKey: () => [`${D5}BEGIN EC PRIVATE KEY${D5}\n${v}\n${D5}END EC PRIVATE KEY${D5}`, v],
      azureStorageConnectionString: () => [`AccountName=orders;${'Account'}Key=${v}==;EndpointSuffix=core.windows.net`, v],
      databaseUri: () => [`postgres://etl:${v}@db/orders`, v],
      urlUserinfo: () => [`https://etl:${v}@api.example.com/x`, v],
      urlQueryParams: () => [`/cb?sig=${v}&x=1`, v],
      keyValue: () => [`password: ${v} user: bob`, v],
      authorizationHeader: () => [`sent bearer ${v} upstream`, v],
    };
    const none = createRedactor({ detectors: false });
    for (const name of DETECTOR_NAMES) {
      const [text, secret] = secretPart[name]();
      const only = createRedactor({ detectors: Object.fromEntries(DETECTOR_NAMES.map((d) => [d, d === name])) });
      expect(only.redact(text), name).not.toContain(secret);
      expect(none.redact(text), name).toBe(text);
    }
  });
});

describe('key-name rules', () => {
  const rules = new KeyRules(DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PARAMS);

  it('splits camelCase, PascalCase, snake_case, kebab-case', () => {
    expect(keyWords('dbPasswordHash')).toEqual(['db', 'password', 'hash']);
    expect(keyWords('X-API-Key')).toEqual(['x', 'api', 'key']);
    expect(keyWords('AWS_SECRET_ACCESS_KEY')).toEqual(['aws', 'secret', 'access', 'key']);
    expect(keyWords('APIKey')).toEqual(['api', 'key']);
  });

  it('matches sensitive keys in any style', () => {
    for (const key of [
      'password', 'Password', 'PASSWORD', 'db_password', 'dbPassword', 'db-password', 'passwd', 'pwd', 'secret', 'clientSecret',
      'client_secret', 'token', 'accessToken', 'refresh_token', 'apiKey', 'api_key', 'X-API-KEY', 'apikey', 'XAPIKEY', 'authorization',
      'Proxy-Authorization', 'private_key', 'privateKey', 'cookie', 'Set-Cookie', 'passphrase', 'credential', 'credentials',
      'connection_string', 'connectionString', 'AWS_SECRET_ACCESS_KEY', 'sessionToken', 'passwordHash', 'mypassword',
    ]) {
      expect(rules.isSensitive(key), key).toBe(true);
    }
  });

  it('leaves keys that describe a secret, and ordinary keys, alone', () => {
    for (const key of ['tokenType', 'secretName', 'secretRef', 'private_key_id', 'passwordExpiresAt', 'author', 'keyboard', 'rows', 'ref', 'provider', 'tokenizer']) {
      expect(rules.isSensitive(key), key).toBe(false);
    }
  });

  it('is extendable with words and RegExps', () => {
    const redactor = createRedactor({ sensitiveKeys: ['ssn', /^x-internal-/i] });
    expect(redactor.isSensitiveKey('customer_ssn')).toBe(true);
    expect(redactor.isSensitiveKey('X-Internal-Route')).toBe(true);
    expect(redactor.redactValue({ customerSsn: '123-45-6789', x: 1 })).toEqual({ customerSsn: '[REDACTED]', x: 1 });
    expect(redactor.redact('customer_ssn=123456789 x-internal-route: a1')).toBe('customer_ssn=[REDACTED] x-internal-route: [REDACTED]');
    const bare = createRedactor({ defaultSensitiveKeys: false });
    expect(bare.isSensitiveKey('password')).toBe(false);
  });
});
