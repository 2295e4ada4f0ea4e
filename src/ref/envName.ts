/**
 * The environment variable name of a logical ref's path: segments joined by `_`, upper-cased,
 * every character other than `A-Z`, `0-9` and `_` an underscore (`['orders-db', 'password']` →
 * `ORDERS_DB_PASSWORD`).
 *
 * This mapping is many-to-one (`orders-db/admin`, `orders_db/admin`, `orders/db-admin` and
 * `Orders.DB/Admin` all name `ORDERS_DB_ADMIN`), so it is defined once, here: `fromEnv` reads
 * through it and deny globs of logical refs match through it, so no spelling reaches a variable
 * past a deny rule that covers another spelling of it.
 *
 * @internal
 */
export function envName(segments: readonly string[]): string {
  return envPiece(segments.join('_'));
}

/** The mapping of {@link envName} for one piece of text (it maps each character on its own). */
export function envPiece(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}
