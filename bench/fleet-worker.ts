// A bench/fleet-propagation.ts worker process: a client on the fleet bus holding one secret in
// its cache (60 s TTL). On each `rotated` it hears, it reads the secret again and prints the
// version it got and when (epoch ms, sub-millisecond), as one JSON line.
import { performance } from 'node:perf_hooks';
import { createSecrets } from '../src/client.js';
import { fleetBusFromUrl } from '../src/fleet/fromUrl.js';
import { fromLocalStore } from '../src/providers/fromLocalStore.js';

const [url, storePath, keyFile, ref] = process.argv.slice(2) as [string, string, string, string];
const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const bus = fleetBusFromUrl(url);
  const secrets = createSecrets({ environment: 'dev', providers: [fromLocalStore({ path: storePath, keyFile, environment: 'dev' })], fleet: bus, cache: { ttlMs: 60_000 } });
  await secrets.get(ref);
  secrets.on('fleet', (event) => {
    if (event.type !== 'rotated') return;
    secrets.get(ref).then(
      (s) => process.stdout.write(`${JSON.stringify({ kind: 'seen', version: s.version, t: now() })}\n`),
      () => process.stdout.write(`${JSON.stringify({ kind: 'failed' })}\n`),
    );
  });
  process.stdout.write(`${JSON.stringify({ kind: 'ready' })}\n`);
  process.once('SIGTERM', () => {
    void secrets.close().then(() => bus.close()).then(() => process.exit(0));
  });
}

void main();
