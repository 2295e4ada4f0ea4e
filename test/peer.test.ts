import { describe, expect, it } from 'vitest';
import { peerLoadError } from '../src/peer.js';

/** The real error Node gives for an import that does not resolve. */
async function importError(specifier: string): Promise<unknown> {
  try {
    await import(specifier);
  } catch (err) {
    return err;
  }
  throw new Error(`${specifier} unexpectedly loaded`);
}

describe('peerLoadError', () => {
  it('names the missing package and how to install it', async () => {
    const err = peerLoadError('cs-absent-peer', 'YAML policy files', await importError('cs-absent-peer'), '(or use a .json policy)');
    expect(err).toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' });
    expect(err.message).toBe(
      'the optional peer dependency "cs-absent-peer" is not installed (needed for YAML policy files): npm install cs-absent-peer (or use a .json policy)',
    );
  });

  it('does not call a package missing when something else failed to load (one of its own imports, a throw)', async () => {
    const inner = peerLoadError('yaml', 'YAML policy files', await importError('cs-other-package'));
    expect(inner.message).toMatch(/"yaml" \(needed for YAML policy files\) is installed but failed to load/);
    const thrown = peerLoadError('yaml', 'YAML policy files', new TypeError('boom'));
    expect(thrown.message).toMatch(/installed but failed to load/);
    expect(thrown.cause).toBeInstanceOf(TypeError);
  });
});
