// `connector-secrets rotate --postgres …`: flag checks (the rotation itself runs in test/fleet/fleet.test.ts).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runRotateCommand } from '../../src/cli/rotate.js';

async function rotate(args: string[], env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const code = await runRotateCommand(['local://orders-db', '--env', 'dev', '--store', '/nonexistent/dev.enc.json', ...args], {
    stdin: Readable.from([]),
    stdout: (s) => void (out.stdout += s),
    stderr: (s) => void (out.stderr += s),
    env,
  });
  return { code, ...out };
}

const ADMIN = { CONNECTOR_SECRETS_PG_ADMIN_URL: 'postgres://admin:adm1n-s3cret@127.0.0.1:1/db' };

describe('rotate --postgres', () => {
  it.each([
    [['--postgres', 'triple'], ADMIN, /--postgres must be single or alternating/],
    [['--postgres', 'alternating'], ADMIN, /needs --roles A,B/],
    [['--postgres', 'alternating', '--roles', 'a,a'], ADMIN, /two different role names/],
    [['--postgres', 'single', '--roles', 'a,b'], ADMIN, /--roles goes with --postgres alternating/],
    [['--roles', 'a,b'], ADMIN, /--roles goes with --postgres/],
    [['--postgres', 'single', '--overlap', '5s'], ADMIN, /--overlap goes with --postgres alternating/],
    [['--postgres', 'alternating', '--roles', 'a,b', '--overlap', 'soon'], ADMIN, /--overlap must be a duration/],
    [['--postgres', 'single'], {}, /admin connection URL in \$CONNECTOR_SECRETS_PG_ADMIN_URL/],
    [['--postgres', 'single', '--postgres-admin-env', 'MY_ADMIN'], ADMIN, /\$MY_ADMIN/],
    [['--postgres', 'single'], { CONNECTOR_SECRETS_PG_ADMIN_URL: 'mysql://adm1n-s3cret@h/db' }, /is not a postgres:\/\/ URL/],
    [['--postgres', 'single', '--verify', '--', 'true'], ADMIN, /drop --verify/],
  ])('%j is a usage error (exit 2) that never echoes the admin URL', async (args, env, message) => {
    const r = await rotate(args as string[], env as Record<string, string>);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('s3cret');
  });

  it('--help lists --postgres, --fleet and examples', async () => {
    const r = await rotate(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--postgres STRATEGY');
    expect(r.stdout).toContain('--fleet URL');
    expect(r.stdout).toContain('examples:');
  });
});
