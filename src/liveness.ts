/**
 * Whether a process id names a running process on this host, for judging lock and temp files
 * left by writers that died.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';

/**
 * True when `pid` runs on this host. A process we may not signal (EPERM) is alive; a zombie
 * (killed, not yet reaped by its parent) is not, since it will never finish its write.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as { code?: unknown }).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/<pid>/stat is "pid (comm) state …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
