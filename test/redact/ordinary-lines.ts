// A corpus of ordinary connector log lines (issue 10, "Lines it must not damage"): what Airbyte,
// dbt, Airflow, Singer taps and our own connectors print when nothing is wrong, including keys
// that contain sensitive words (`token`, `key`, `signature`, `dsn`, `credentials`) with values
// that are words, identifiers, counts, refs or URLs without passwords. Generated from templates
// with a seeded choice of fillers, so the corpus is the same on every run and every machine.
// Nothing here is a credential; the redactor with nothing registered must leave every line as is.
import { prng } from '../../bench/prng.js';

/** The lines named in issue 10, verbatim. */
export const ISSUE_LINES: readonly string[] = [
  'http://[::1]:8080/x@y',
  'token: expired',
  'signature: valid',
  'dsn: configured',
  'key=users_pkey',
  'cache key=user:42',
  '?key=orders',
  'credentials: none found in env',
];

const TABLES = ['orders', 'customers', 'refunds', 'line_items', 'users', 'invoices', 'events_2026_01'];
const STREAMS = ['orders', 'customers', 'payouts', 'subscriptions', 'charges'];
const INDEXES = ['users_pkey', 'orders_customer_id_idx', 'refunds_created_at_idx', 'idx_events_ts', 'line_items_pkey'];
const HOSTS = ['db.internal', 'api.example.com', 'warehouse.example.net', '10.0.0.12', 'localhost', '[::1]'];
const STATUS = ['expired', 'valid', 'invalid', 'missing', 'configured', 'refreshed', 'rotated', 'present', 'none', 'unknown'];
const REFS = ['vault://kv/prod/orders-db#password', 'secret://orders-db/password', 'env://ORDERS_API_TOKEN', 'aws-sm://prod/stripe#api_key', 'gcp-sm://projects/etl/secrets/dsn'];
const LEVELS = ['INFO', 'WARN', 'DEBUG', 'ERROR'];
const MODELS = ['stg_orders', 'fct_revenue', 'dim_customers', 'int_refunds__joined'];

type Pick = <T>(xs: readonly T[]) => T;
type Template = (p: Pick, n: (max: number) => number) => string;

const TEMPLATES: readonly Template[] = [
  (p, n) => `${p(LEVELS)} sync: stream=${p(STREAMS)} records=${n(50000)} duration_ms=${n(9000)}`,
  (p, n) => `[${p(LEVELS)}] ${new Date(Date.UTC(2026, 0, 1 + n(27), n(23), n(59))).toISOString()} committed batch ${n(900)} to ${p(TABLES)} (${n(5000)} rows)`,
  (p) => `token: ${p(STATUS)}`,
  (p) => `access token ${p(STATUS)}, refreshing`,
  (p) => `refresh_token: ${p(STATUS)} (will retry in 30s)`,
  (p) => `signature: ${p(STATUS)}`,
  (p) => `webhook signature=${p(['valid', 'invalid', 'missing'])} source=stripe`,
  (p) => `dsn: ${p(['configured', 'missing', 'none'])}`,
  (p) => `credentials: ${p(['none found in env', 'loaded from vault', 'missing', 'expired'])}`,
  (p) => `credentials (${p(['none found in env', 'loaded from file', 'from instance profile'])})`,
  (p) => `key=${p(INDEXES)}`,
  (p) => `duplicate key value violates unique constraint "${p(INDEXES)}"`,
  (p, n) => `cache key=${p(['user', 'order', 'session', 'tenant'])}:${n(9999)}`,
  (p, n) => `cache hit key=${p(TABLES)}:${n(99)} ttl=${n(3600)}s`,
  (p, n) => `GET https://${p(HOSTS)}/v1/search?key=${p(STREAMS)}&page=${n(40)}`,
  (p, n) => `?key=${p(STREAMS)}&limit=${n(500)}`,
  (p) => `primary key: ${p(['id', 'order_id', 'customer_id', '(tenant_id, id)'])}`,
  (p) => `partition key=${p(['created_at', 'region', 'tenant_id'])} sort key=${p(['updated_at', 'id'])}`,
  (p) => `api key: ${p(['configured', 'missing', 'rotated', 'not set'])}`,
  (p) => `apiKey: ${p(['present', 'missing'])}`,
  (p) => `secret: ${p(REFS)}`,
  (p) => `resolved secret ref ${p(REFS)} in 12ms`,
  (p) => `password: ${p(['expired', 'rotated', 'missing', 'none', 'configured'])}`,
  (p) => `secretName: ${p(['orders-db', 'stripe-api', 'warehouse'])}`,
  (p, n) => `tokenType: Bearer expiresIn=${n(3600)}`,
  (p, n) => `tokens: ${n(9000)}`,
  (p, n) => `usage prompt_tokens=${n(900)} completion_tokens=${n(900)} total_tokens=${n(1800)}`,
  (p, n) => `{"max_tokens":${n(4096)},"model":"${p(['small', 'large'])}","total_tokens":${n(5000)}}`,
  (p, n) => `connecting to postgres://${p(HOSTS)}:5432/${p(TABLES)}?sslmode=require (attempt ${n(5)})`,
  (p) => `connecting to https://${p(HOSTS)}:8443/v1/orders@2`,
  (p) => `http://${p(HOSTS)}:8080/x@y`,
  (p, n) => `upstream https://${p(HOSTS)}/v2/users/${n(999)}@latest returned 404`,
  (p, n) => `{"level":30,"msg":"batch synced","table":"${p(TABLES)}","rows":${n(5000)},"token":"${p(STATUS)}"}`,
  (p, n) => `{"level":40,"msg":"retrying","status":${p([429, 503])},"attempt":${n(6)},"signature":"${p(['valid', 'invalid'])}"}`,
  (p) => `{"event":"secret_resolved","ref":"${p(REFS)}","provider":"vault","cached":true}`,
  (p, n) => `dbt: ${n(40)} of ${n(40) + 40} OK created sql table model analytics.${p(MODELS)} [SELECT ${n(90000)} in ${n(20)}.${n(99)}s]`,
  (p) => `Airflow: Task ${p(['extract_orders', 'load_customers'])} state=success, key=${p(['return_value', 'xcom_push'])}`,
  (p, n) => `airbyte: Read ${n(90000)} records from ${p(STREAMS)} stream, state checkpoint key=${p(STREAMS)}_cursor`,
  (p, n) => `checkpoint key: ${p(STREAMS)}/${n(100)} offset=${n(999999)}`,
  (p) => `cwd: ${p(['/home/etl', '/opt/airflow/dags', '/srv/connector'])}`,
  (p, n) => `s3 key=${p(['raw', 'staging'])}/${p(TABLES)}/2026/01/${String(n(28) + 1).padStart(2, '0')}/part-0000${n(9)}.parquet`,
  (p, n) => `object key: exports/${p(TABLES)}.csv size=${n(99999)} bytes`,
  (p) => `Authorization header ${p(['missing', 'present'])} on request`,
  (p) => `client_secret: ${p(['missing', 'configured'])} for tenant ${p(['acme', 'globex'])}`,
  (p, n) => `rate limit: ${n(100)}/min, session ${p(STATUS)}`,
  (p, n) => `keys: ${p(['id', 'email'])},${p(['created_at', 'name'])} (${n(9)} columns)`,
  (p) => `sort keys: ${p(['updated_at', 'id'])}`,
  (p) => `Using private key file ${p(['/etc/etl/key.pem', '~/.ssh/id_ed25519'])}`,
  (p) => `bearer auth ${p(['enabled', 'disabled'])}`,
  (p, n) => `schema ${p(TABLES)}: ${n(40)} columns, primary_key=${p(['id', 'order_id'])}`,
  (p, n) => `{"level":50,"msg":"auth failed","token":"${p(['The token has expired; please sign in again (401)', 'Token expired!', "Token wasn't accepted?"])}","status":${p([401, 403])},"attempt":${n(5)}}`,
];

/** At least `count` ordinary lines: the issue's lines first, then generated ones (distinct). */
export function ordinaryLines(count = 240, seed = 10): string[] {
  const rand = prng(seed);
  const pick: Pick = (xs) => xs[Math.floor(rand() * xs.length)]!;
  const n = (max: number) => Math.floor(rand() * max);
  const out = new Set<string>(ISSUE_LINES);
  for (let round = 0; out.size < count && round < count * 20; round++) out.add(TEMPLATES[round % TEMPLATES.length]!(pick, n));
  return [...out];
}
