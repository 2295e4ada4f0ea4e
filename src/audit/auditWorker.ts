import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { holdWhile } from '../handles/clock.js';
import { signLines } from './record.js';

/** What the worker answers for one batch: the new head of the chain, or why it wrote nothing whole. */
type Reply = { readonly seq: number; readonly mac: string } | { readonly error: { readonly code?: string; readonly message: string } };

/** The chain's head: the last line's `seq` and MAC. */
export interface ChainHead {
  readonly seq: number;
  readonly mac: string;
}

/**
 * The worker's program: CommonJS, evaluated from this text, with {@link signLines} compiled in
 * from its own source, so the worker writes the very bytes the in-thread path writes. It keeps
 * the chain's head between batches; a batch may bring the head to start from. After a failure it
 * writes nothing more.
 */
const SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const { createHmac } = require('node:crypto');
const { writeSync } = require('node:fs');
const signLines = ${signLines.toString()};
let key;
let seq;
let mac;
let failed;
// One buffer for every batch's bytes: a fresh one per batch costs page faults as the heap grows
// (about 12 µs per 4 KiB on the VMs we measure on): 10-25% of the worker's time, measured.
let out = Buffer.allocUnsafe(65536);
parentPort.on('message', (m) => {
  if (m.key !== undefined) {
    key = m.key;
    return;
  }
  if (failed !== undefined) {
    parentPort.postMessage({ error: failed });
    return;
  }
  try {
    if (m.head !== undefined) {
      seq = m.head.seq;
      mac = m.head.mac;
    }
    const signed = signLines((text) => createHmac('sha256', key).update(text).digest('hex'), m.log, seq, mac, m.bodies.split('\\n'));
    // At most 3 bytes of UTF-8 per UTF-16 code unit, so the text always fits.
    if (signed.text.length * 3 > out.length) out = Buffer.allocUnsafe(Math.max(out.length * 2, signed.text.length * 3));
    const n = out.write(signed.text, 0, 'utf8');
    for (let off = 0; off < n; ) off += writeSync(m.fd, out, off, n - off);
    seq = signed.seq;
    mac = signed.mac;
    parentPort.postMessage({ seq, mac });
  } catch (err) {
    failed = { code: typeof err?.code === 'string' ? err.code : undefined, message: String(err?.message ?? err) };
    parentPort.postMessage({ error: failed });
  }
});
`;

/**
 * A worker thread that signs (one HMAC-SHA256 per batch), encodes and appends the lines of large
 * batches for one file audit sink, so the event loop that serves `get` does not: under
 * `auditCacheHits: 'each'` the event loop is what bounds the rate (10 – 20 % more hits per second
 * with the worker than without, measured side by side). Batches are posted
 * without waiting (the worker takes them in order and keeps the chain's head), so the event loop
 * runs the next callers while the worker signs; {@link settled} waits for what was posted.
 *
 * Lifetime: the worker keeps the process alive only while a batch is in flight (a caller is
 * waiting for it), never when idle; it is terminated when the sink closes. If it fails or dies,
 * the batches in flight and every later one fail, and the sink breaks (fail-closed callers are
 * denied).
 *
 * @internal
 */
export class AuditWorker {
  readonly #worker: Worker;
  readonly #onHead: (head: ChainHead) => void;
  /** Batches posted, and batches answered (in order, so the first `#answered` of them). */
  #posted = 0;
  #answered = 0;
  /** Each waits for the batches posted before it asked. */
  #waiters: { readonly upTo: number; readonly resolve: () => void; readonly reject: (err: Error) => void }[] = [];
  #dead: Error | undefined;

  /** @param onHead told of the chain's head after each batch the worker wrote. */
  constructor(key: KeyObject, onHead: (head: ChainHead) => void) {
    this.#onHead = onHead;
    this.#worker = new Worker(SOURCE, { eval: true, stdout: false, stderr: false });
    holdWhile(this.#worker, false);
    // KeyObjects cross to a worker as keys, never as text.
    this.#worker.postMessage({ key });
    this.#worker.on('message', (reply: Reply) => {
      if (this.#dead !== undefined) return;
      this.#answered += 1;
      if ('error' in reply) return this.#die(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      this.#onHead({ seq: reply.seq, mac: reply.mac });
      if (!this.busy) holdWhile(this.#worker, false);
      while (this.#waiters.length > 0 && this.#waiters[0]!.upTo <= this.#answered) this.#waiters.shift()!.resolve();
    });
    this.#worker.on('error', (err) => this.#die(err));
    this.#worker.on('exit', (code) => this.#die(new Error(`the audit worker exited (code ${code})`)));
  }

  /** Whether a posted batch is not answered yet (the chain's head is the worker's, not known here). */
  get busy(): boolean {
    return this.#answered < this.#posted;
  }

  /**
   * Posts `bodies` (from `bodyText`, each without a newline) to be signed after the chain's head
   * (`head`, or the worker's own when batches are in flight) and appended to `fd` in one write.
   */
  post(fd: number, log: string, head: ChainHead | undefined, bodies: readonly string[]): void {
    if (this.#dead !== undefined) throw this.#dead;
    // Referenced while a caller waits: a script awaiting its audited get must not exit here.
    if (!this.busy) holdWhile(this.#worker, true);
    this.#posted += 1;
    this.#worker.postMessage({ fd, log, head, bodies: bodies.join('\n') });
  }

  /** Settles once every batch posted so far is written, not waiting for later ones (rejects if one failed). */
  settled(): Promise<void> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    if (!this.busy) return Promise.resolve();
    const upTo = this.#posted;
    return new Promise((resolve, reject) => this.#waiters.push({ upTo, resolve, reject }));
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('the audit worker was closed');
    await this.#worker.terminate();
  }

  #die(err: Error): void {
    this.#dead ??= err;
    holdWhile(this.#worker, false);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#dead);
  }
}
