// connector-secrets/adapters: hand credentials to database drivers and HTTP clients. Each
// driver is an optional peer dependency, imported here for its types only.
export { pgConfig } from './pg.js';
export type { PgAdapter } from './pg.js';
export { mysqlConfig } from './mysql2.js';
export type { MysqlAdapter } from './mysql2.js';
export { undiciAuth } from './undici.js';
export { axiosAuth } from './axios.js';
export type { HttpAuthOptions } from './http.js';
export type { HandleOrRef } from './credential.js';
export { rotatePostgresPassword } from '../rotation/postgres.js';
export type { PostgresPasswordRotation, PostgresAdmin } from '../rotation/postgres.js';
