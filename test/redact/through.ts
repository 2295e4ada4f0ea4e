import type { Redactor } from '../../src/index.js';

/** Writes `chunks` through a fresh redact stream and collects the output, noting each emitted piece. */
export async function through(redactor: Redactor, chunks: readonly (string | Buffer)[], encoding?: 'utf8' | 'latin1') {
  const stream = redactor.createRedactStream(encoding === undefined ? {} : { encoding });
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (const c of chunks) stream.write(c);
  stream.end();
  await done;
  return Buffer.concat(out).toString(encoding ?? 'utf8');
}
