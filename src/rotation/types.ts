import type { Secret } from '../secret.js';
import type { GenerateSpec, RandomBytes } from './generate.js';

/**
 * The new value of a rotation: given, or generated from crypto randomness.
 *
 * @example
 * ```ts
 * await secrets.rotate('local://orders-api/token', { generate: { length: 40 } });
 * await secrets.rotate('local://orders-db', { value: JSON.stringify({ username: 'etl', password }) });
 * ```
 */
export type RotationChange =
  | {
      /** The new value, as given. */
      readonly value: string;
    }
  | {
      /** Draw a new value from crypto randomness. */
      readonly generate: GenerateSpec;
    };

/**
 * Options of `secrets.rotate`.
 *
 * @example
 * ```ts
 * await secrets.rotate(ref, { generate: { length: 32 } }, {
 *   verify: async (next) => { await login(next.reveal()); },
 * });
 * ```
 */
export interface RotateOptions {
  /**
   * Checks the new value once it is written (for example, logs in with it). A throw or `false`
   * refuses it: the previous value is written back as a new version and `rotate` fails with
   * `RotationFailedError` (code `ROTATION_FAILED`). The client tells handles and the cache after
   * `verify` accepted the value (or after the rollback); a provider that announces its own
   * writes through `watch` (the mock does) may make them read the new value earlier.
   * @default none: the written value is accepted
   */
  readonly verify?: (next: Secret<string>, previous: Secret<string>) => unknown;
  /**
   * How long the previous value must keep working, in milliseconds, before `retire` runs.
   * @default 0
   */
  readonly overlapMs?: number;
  /**
   * Ends the previous value once the overlap has passed (for example, disables the old database
   * role's password). It runs in the background; `RotationResult.retired` settles when it ran.
   * @default none
   */
  readonly retire?: (previous: Secret<string>) => unknown;
  /**
   * Random bytes for `generate`.
   * @default crypto.randomBytes
   */
  readonly random?: RandomBytes;
}

/**
 * What a completed rotation reports. No values.
 *
 * @example
 * ```ts
 * const { previousVersion, version } = await secrets.rotate(ref, { generate: { length: 32 } });
 * ```
 */
export interface RotationResult {
  /** The canonical ref (without `#field`). */
  readonly ref: string;
  /** The provider that wrote the new version. */
  readonly provider: string;
  /** The version before the rotation, when the provider reports versions. */
  readonly previousVersion: string | undefined;
  /** The new version, when the provider reports versions. */
  readonly version: string | undefined;
  /**
   * Settles when `retire` has run after the overlap: `true` if it succeeded, `false` if it threw
   * or when the client closed before the overlap ended (each audited as a failed `rotate`
   * record). Undefined without `retire`.
   */
  readonly retired: Promise<boolean> | undefined;
}
