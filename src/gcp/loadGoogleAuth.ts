import { ConfigError } from '../errors.js';

/** The google-auth-library module. */
export type GoogleAuthLibrary = typeof import('google-auth-library');

let loading: Promise<GoogleAuthLibrary> | undefined;

/**
 * Loads google-auth-library (an optional peer dependency) on first use. Nothing in
 * connector-secrets imports it before a Google credential or provider makes its first request.
 *
 * @throws {@link ConfigError} when google-auth-library is not installed.
 */
export function loadGoogleAuth(): Promise<GoogleAuthLibrary> {
  loading ??= import('google-auth-library').then(
    (mod) => {
      // CommonJS through ESM: the named exports may sit on `default`.
      const lib = ((mod as { JWT?: unknown }).JWT !== undefined ? mod : (mod as { default?: unknown }).default) as GoogleAuthLibrary | undefined;
      if (typeof lib?.JWT !== 'function') throw new ConfigError('google-auth-library did not export JWT; install google-auth-library >= 10');
      return lib;
    },
    (err: unknown) => {
      loading = undefined;
      throw new ConfigError('Google Cloud support needs the optional peer dependency google-auth-library (>= 10): npm install google-auth-library', {
        provider: 'gcp',
        cause: err,
      });
    },
  );
  return loading;
}
