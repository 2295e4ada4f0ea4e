// A small connector, written the way the test kit expects: it holds refs (a manifest), reads its
// database login once with a schema, calls an API with a short-lived token through a handle, and
// logs through `secrets.logger`. Its test suite is connector.test.ts, beside it.
//
// In your own project, import from 'connector-secrets' (and 'connector-secrets/testing' in tests).
import { z } from 'zod';
import { defineSecrets, type Secret, type SecretsClient } from '../../src/index.js';

export const ordersSecrets = defineSecrets({
  db: {
    ref: 'vault://kv/{env}/orders-db',
    owner: 'data-platform',
    purpose: 'write synced orders',
    sensitivity: 'high',
    schema: z.object({ username: z.string(), password: z.string(), host: z.string() }),
  },
  apiToken: { ref: 'vault://kv/{env}/orders-api#token', owner: 'data-platform', purpose: 'read orders from the orders API' },
});

/** What the connector talks to; tests pass their own, production passes the real clients. */
export interface OrdersDeps {
  /** One page of orders; throws an error with `status: 401` when the token is refused. */
  readonly fetchPage: (token: string, page: number) => Promise<{ rows: readonly { id: string }[]; next: number | undefined }>;
  /** Writes rows with the database login. */
  readonly writeRows: (login: { username: string; password: string; host: string }, rows: readonly { id: string }[]) => Promise<void>;
}

/** Syncs every page of orders; returns how many rows were written. */
export async function syncOrders(secrets: SecretsClient, deps: OrdersDeps): Promise<number> {
  const log = secrets.logger.child({ connector: 'orders-sync' });
  const { db } = await secrets.load(ordersSecrets);
  const token = ordersSecrets.handle(secrets, 'apiToken');
  token.onRotate(() => log.info('api token rotated'));
  let written = 0;
  try {
    for (let page: number | undefined = 0; page !== undefined; ) {
      const current: number = page;
      // withCredential: on a 401 the handle re-reads the token once and retries the page once.
      const { rows, next } = await token.withCredential((t: Secret<string>) => deps.fetchPage(t.reveal(), current));
      await deps.writeRows(db.reveal(), rows);
      written += rows.length;
      log.info('page synced', { page: current, rows: rows.length, user: db.reveal().username });
      page = next;
    }
  } finally {
    await token.close();
  }
  return written;
}
