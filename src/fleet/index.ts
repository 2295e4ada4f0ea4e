// connector-secrets/fleet: a bus that tells every process of a fleet about rotations,
// revocations, quarantines and policy updates, over PostgreSQL or Redis. `pg` and `ioredis` are
// optional peers, each loaded on first use of its bus.
export type { FleetBus, FleetEvent, FleetEventBody } from './bus.js';
export { postgresBus } from './postgresBus.js';
export type { PostgresBusOptions, PostgresFleetBus } from './postgresBus.js';
export { redisBus } from './redisBus.js';
export type { RedisBusOptions, RedisFleetBus, RedisFleetGap } from './redisBus.js';
export { fleetBusFromUrl } from './fromUrl.js';
export type { FleetBusUrlOptions } from './fromUrl.js';
export { checkFleetEventBody } from './event.js';
