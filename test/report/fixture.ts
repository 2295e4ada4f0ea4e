// Audit logs for the report tests, written by the real client (createSecrets + fileAuditSink +
// fromMock) on a fake clock: fetches and cache-hit summaries over several hours, policy denials,
// provider failures, rotations, and repeated-denial anomalies, across two logs and identities.
// Identities and rule names carry markup, quotes and non-ASCII text: the page must escape them.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { createSecrets } from '../../src/client.js';
import { fromMock } from '../../src/testing/index.js';
import { fakeClock, generated } from '../helpers.js';
import { hmacKey } from '../audit/helpers.js';

/** Hostile text the page must show as text. */
export const HOSTILE_IDENTITY = `billing-<script>window.__pwned=1</script>"q'-Grüße-Ωμέγα-€`;
export const HOSTILE_RULE = `rule-<img src=x onerror="window.__pwned=2">-ü`;

const ROOT = resolve(import.meta.dirname, '../..');

export const T0 = Date.UTC(2026, 0, 1, 0);
export const REFS = {
  db: 'secret://orders-db/password',
  api: 'secret://orders-api/token',
  admin: 'secret://orders-db/admin',
  flaky: 'secret://billing/flaky',
  report: 'secret://billing/report-key',
} as const;

export interface Fixture {
  readonly logs: string[];
  readonly keyFile: string;
  readonly key: string;
  /** A connector-secrets.config.yaml whose manifest declares cadences: db 1h, report 30d, api 7d. */
  readonly config: string;
}

/** Writes two logs under `dir`, and the HMAC key file. */
export async function writeFixture(dir: string): Promise<Fixture> {
  const key = hmacKey();
  const keyFile = join(dir, 'audit.key');
  await writeFile(keyFile, `${key}\n`, { mode: 0o600 });
  const logs = [join(dir, 'orders-sync.jsonl'), join(dir, 'billing-sync.jsonl')];

  {
    const clock = fakeClock(T0);
    const mock = fromMock();
    for (const ref of [REFS.db, REFS.api, REFS.admin]) mock.set(ref, generated());
    const secrets = createSecrets({
      environment: 'prod',
      identity: 'orders-sync',
      strictEnvironment: false,
      providers: [mock],
      now: clock.now,
      audit: fileAuditSink(logs[0]!, { hmacKey: key }),
      cache: { ttlMs: 3_600_000 },
      policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*', 'secret://orders-api/*'], deny: ['secret://orders-db/admin'] }] },
      anomaly: { warmupAccesses: 1_000_000, failureThreshold: 3, failureWindowMs: 600_000 },
    });
    for (let hour = 0; hour < 12; hour++) {
      for (let i = 0; i < 3 + hour; i++) await secrets.get(REFS.db);
      if (hour % 2 === 0) for (let i = 0; i < 5; i++) await secrets.get(REFS.api);
      if (hour === 4) for (let i = 0; i < 4; i++) await secrets.get(REFS.admin).catch(() => undefined);
      if (hour === 3 || hour === 9) await secrets.rotate(REFS.db, { generate: { length: 24 } });
      clock.advance(3_600_000);
    }
    await secrets.close();
  }
  {
    const clock = fakeClock(T0 + 1_800_000);
    const mock = fromMock();
    for (const ref of [REFS.flaky, REFS.report]) mock.set(ref, generated());
    const secrets = createSecrets({
      environment: 'prod',
      identity: HOSTILE_IDENTITY,
      strictEnvironment: false,
      providers: [mock],
      now: clock.now,
      audit: fileAuditSink(logs[1]!, { hmacKey: key }),
      policy: { version: 1, rules: [{ name: HOSTILE_RULE, identity: '*', allow: ['secret://billing/*'] }] },
      anomaly: { warmupAccesses: 1_000_000, failureThreshold: 3, failureWindowMs: 600_000 },
    });
    for (let hour = 0; hour < 10; hour++) {
      for (let i = 0; i < 2; i++) await secrets.get(REFS.report);
      if (hour === 6) {
        mock.fail(REFS.flaky, 'unavailable');
        for (let i = 0; i < 3; i++) await secrets.get(REFS.flaky).catch(() => undefined);
        mock.clearFailures();
        await secrets.get('secret://orders-db/password').catch(() => undefined); // denied by the rule
      }
      if (hour === 8) await secrets.rotate(REFS.report, { generate: { length: 24 } });
      clock.advance(3_600_000);
    }
    await secrets.close();
  }
  await writeFile(
    join(dir, 'manifest.mjs'),
    `import { defineSecrets } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/manifest.ts')).href)};
export const orders = defineSecrets({
  db: { ref: '${REFS.db}', owner: 'team-orders', purpose: 'orders database', rotation: '1h' },
  report: { ref: '${REFS.report}', owner: 'team-billing', purpose: 'reports', rotation: '30d' },
  api: { ref: '${REFS.api}', owner: 'team-orders', purpose: 'orders API', rotation: '7d' },
});
`,
  );
  const config = join(dir, 'connector-secrets.config.yaml');
  await writeFile(config, 'environments: [prod]\nproviders:\n  - type: env\nmanifests: [manifest.mjs]\n');
  return { logs, keyFile, key, config };
}
