// connector-secrets/fleet: a bus that tells every process of a fleet about rotations,
// revocations, quarantines and policy updates. `pg` is an optional peer, loaded on first use.
export type { FleetBus, FleetEvent, FleetEventBody } from './bus.js';
export { postgresBus } from './postgresBus.js';
export type { PostgresBusOptions, PostgresFleetBus } from './postgresBus.js';
export { fleetBusFromUrl } from './fromUrl.js';
export type { FleetBusUrlOptions } from './fromUrl.js';
export { checkFleetEventBody } from './event.js';
