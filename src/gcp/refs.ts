import { InvalidSecretRefError } from '../errors.js';
import type { SecretRef } from '../ref/types.js';

/** Where one `gcp-sm://` ref points. */
export interface SecretVersionName {
  readonly project: string;
  /** The region of a regional secret, else undefined (a global secret). */
  readonly location: string | undefined;
  readonly secret: string;
  /** A version number, or `latest`. */
  readonly version: string;
}

/** A parsed ref; `project` is undefined for the short form until the provider fills it in. */
export type ParsedGcpRef = Omit<SecretVersionName, 'project'> & { readonly project: string | undefined };

/** Secret ids: letters, digits, `-` and `_`, at most 255 (Secret Manager's own rule). */
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
/** Project ids (6–30 lowercase letters, digits, hyphens) or project numbers. */
const PROJECT = /^(?:[a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})$/;
const LOCATION = /^[a-z][a-z0-9-]{1,62}$/;
const VERSION = /^(?:latest|[1-9]\d{0,18})$/;

/** The REST resource name of a secret: `projects/<p>[/locations/<l>]/secrets/<s>`. */
export function secretPath(n: Omit<SecretVersionName, 'version'>): string {
  return `projects/${n.project}${n.location === undefined ? '' : `/locations/${n.location}`}/secrets/${n.secret}`;
}

/** The REST resource name of a version. */
export function versionPath(n: SecretVersionName): string {
  return `${secretPath(n)}/versions/${n.version}`;
}

/**
 * Reads a `gcp-sm://` ref:
 * `gcp-sm://projects/<project>[/locations/<location>]/secrets/<secret>[/versions/<n>|latest]` or
 * the short `gcp-sm://<secret>[/versions/<n>|latest]`, whose project the provider fills in (the
 * configured or detected one) and whose location is the configured one. `?version=N` may stand for `/versions/N`.
 * Errors name the part that is wrong, never the ref's text.
 */
export function parseGcpRef(
  ref: SecretRef,
  defaults: { location: string | undefined },
  provider: string,
): ParsedGcpRef {
  const ids = { ref: String(ref), provider };
  const bad = (why: string): never => {
    throw new InvalidSecretRefError(`gcp-sm ref: ${why}`, ids);
  };
  let s = [...ref.segments];
  let project: string | undefined;
  let location = defaults.location;
  if (s[0] === 'projects') {
    if (s.length < 4) bad('a full ref is projects/<project>/secrets/<secret>[/versions/<n>]');
    project = s[1]!;
    s = s.slice(2);
    if (s[0] === 'locations') {
      location = s[1];
      s = s.slice(2);
    }
    if (s[0] !== 'secrets') bad('expected "secrets/<secret>" after the project (and location)');
    s = s.slice(1);
  }
  const [secret, versionsWord, pathVersion, ...rest] = s;
  if (secret === undefined || !SECRET_ID.test(secret)) bad('the secret id must be 1–255 letters, digits, "-" or "_"');
  if (rest.length > 0 || (versionsWord !== undefined && versionsWord !== 'versions') || (versionsWord !== undefined && pathVersion === undefined)) {
    bad('after the secret id only "/versions/<n>" or "/versions/latest" may follow');
  }
  const paramVersion = ref.params['version'];
  if (pathVersion !== undefined && paramVersion !== undefined) bad('give the version once: in the path or as ?version=, not both');
  const version = pathVersion ?? paramVersion ?? 'latest';
  if (!VERSION.test(version)) bad('the version must be a positive integer or "latest"');
  if (project !== undefined && !PROJECT.test(project)) bad('the project must be a project id or number');
  if (location !== undefined && !LOCATION.test(location)) bad('the location must be a region name such as "europe-west1"');
  return { project, location, secret: secret!, version };
}

/** Checks a configured or detected project id. */
export function isProjectId(project: string): boolean {
  return PROJECT.test(project);
}
