/**
 * Where migrate-keys, status and backups do their per-row crypto: a pool of worker threads for real
 * tables (AES-GCM and HMAC are CPU-bound; the main thread keeps the database and files busy meanwhile),
 * the main thread itself for small ones (starting a worker costs more than a few thousand rows).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { derivedKeyOf, type KeyCodec } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import type { Store } from '../store/connect';
import { MigrationCrypto, type MigratedRows, type MigrationKeys, type OpenedRows, type RowsIn } from './migrate/crypto';
import type { WorkerKeys, WorkerReply, WorkerRequest } from './worker';

export interface CryptoRunner {
  /** 0 = in the main thread. */
  readonly threads: number;
  classify(rows: RowsIn): Promise<Uint8Array>;
  migrate(rows: RowsIn): Promise<MigratedRows>;
  open(rows: RowsIn): Promise<OpenedRows>;
  close(): Promise<void>;
}

/** Below this many rows the pool's start-up outweighs what it saves. */
export const INLINE_BELOW_ROWS = 20_000;

export interface CryptoRunnerOptions {
  /** Rows the run will process (both phases), to choose inline or pool. */
  rows: number;
  /** Worker threads; default: see defaultThreads; 0 forces the main thread. */
  threads?: number;
  /** Where the rows come from, for the default thread count. */
  engine?: Store['kind'];
}

/**
 * One worker per CPU, less one where a database server does the reading: it usually runs on the same
 * machine (GPT-Load's Compose file starts it beside), and the main thread parses every row it sends.
 * Measured on 2 cores at 100,000 keys: one worker was as fast on PostgreSQL and about 10% faster on
 * MariaDB than two, with a fifth less CPU; on SQLite, read in the main thread, two were faster.
 */
function defaultThreads(engine: Store['kind'] | undefined): number {
  const cpus = availableParallelism();
  return engine === 'mysql' || engine === 'postgres' ? Math.max(1, cpus - 1) : cpus;
}

/**
 * `keys` may still be deriving: the workers start at once and get them when they are ready, so a
 * caller can start the pool while it connects and checks (a worker takes tens of milliseconds to boot).
 */
export async function createCryptoRunner(keys: MigrationKeys | Promise<MigrationKeys>, options: CryptoRunnerOptions): Promise<CryptoRunner> {
  const threads = options.threads ?? defaultThreads(options.engine);
  if (threads <= 0 || options.rows < INLINE_BELOW_ROWS) return inlineRunner(await keys);
  return WorkerPool.start(keys, threads);
}

/** A runner judging rows under one key, as a run from it to none sees them (migrateCrypto stateUnderKey). */
export function createKeyRunner(codec: KeyCodec, options: CryptoRunnerOptions): Promise<CryptoRunner> {
  return createCryptoRunner({ source: derivedKeyOf(codec), target: null }, options);
}

/**
 * Runner results used in the order their batches went in, with at most `depth` batches in flight:
 * enough to keep every worker busy while the main thread reads on, few enough to keep memory flat.
 */
export class OrderedResults {
  private readonly inFlight: Array<() => Promise<void>> = [];
  private readonly depth: number;

  constructor(runner: Pick<CryptoRunner, 'threads'>) {
    this.depth = runner.threads + 1;
  }

  /** `use` may be async (a write of the batch): the next batch is used only once it is done. */
  push<R>(result: Promise<R>, use: (result: R) => unknown): void {
    // A batch abandoned by an error or a cancellation must not surface as an unhandled rejection.
    result.catch(() => undefined);
    this.inFlight.push(async () => {
      await use(await result);
    });
  }

  /** Room for one more batch: uses the oldest results until fewer than `depth` are in flight. */
  room(): Promise<void> {
    return this.settle(this.depth - 1);
  }

  /** Uses the oldest results until at most `keep` batches are in flight (0: all of them). */
  async settle(keep = this.depth): Promise<void> {
    while (this.inFlight.length > keep) await this.inFlight.shift()!();
  }
}

function inlineRunner(keys: MigrationKeys): CryptoRunner {
  const crypto = new MigrationCrypto(keys);
  return {
    threads: 0,
    classify: async (rows) => crypto.classify(rows),
    migrate: async (rows) => crypto.migrate(rows),
    open: async (rows) => crypto.open(rows),
    close: async () => {},
  };
}

/**
 * The worker's entry beside this module: dist/worker.js when bundled; under tsx (tests, bench)
 * worker.ts, loaded through tsx's require hook (an `--import tsx` in the worker's execArgv does not
 * reach Node 20's worker loader).
 */
function startWorker(): Worker {
  // A worker holds one batch at a time (a few MB at most); capped heaps keep the run's memory flat.
  const options = { stdout: false, stderr: false, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 8 } };
  if (!__filename.endsWith('.ts')) return new Worker(join(__dirname, 'worker.js'), options);
  const source = `require('tsx/cjs'); require(${JSON.stringify(join(__dirname, 'worker.ts'))});`;
  return new Worker(source, { ...options, eval: true });
}

interface Task {
  request: WorkerRequest;
  resolve: (reply: WorkerReply) => void;
  reject: (err: Error) => void;
}

class WorkerPool implements CryptoRunner {
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly running = new Map<Worker, Task>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => this.finish(worker, reply));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (this.running.has(worker) || code !== 0) this.fail(new Error(`crypto worker exited with code ${code}`));
      });
      this.idle.push(worker);
    }
  }

  static async start(keys: MigrationKeys | Promise<MigrationKeys>, threads: number): Promise<WorkerPool> {
    const workers = Array.from({ length: threads }, () => startWorker());
    try {
      const online = workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once('online', resolve);
        w.once('error', reject);
      }));
      const [derived] = await Promise.all([keys, ...online]);
      // Before any batch: a worker handles its messages in order.
      for (const worker of workers) worker.postMessage({ op: 'keys', keys: derived } satisfies WorkerKeys);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new WorkerPool(workers);
  }

  get threads(): number {
    return this.workers.length;
  }

  async classify(rows: RowsIn): Promise<Uint8Array> {
    const reply = await this.run({ id: this.nextId++, op: 'classify', values: rows.values, hashes: rows.hashes });
    if (!('states' in reply)) throw new Error('unexpected worker reply');
    return reply.states;
  }

  async migrate(rows: RowsIn): Promise<MigratedRows> {
    const reply = await this.run({ id: this.nextId++, op: 'migrate', values: rows.values, hashes: rows.hashes });
    if (!('values' in reply)) throw new Error('unexpected worker reply');
    return { states: reply.states, values: reply.values, hashes: reply.hashes };
  }

  async open(rows: RowsIn): Promise<OpenedRows> {
    const reply = await this.run({ id: this.nextId++, op: 'open', values: rows.values, hashes: rows.hashes });
    if (!('digests' in reply)) throw new Error('unexpected worker reply');
    return { states: reply.states, digests: reply.digests };
  }

  async close(): Promise<void> {
    this.failure ??= new Error('crypto pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private run(request: WorkerRequest): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const task = this.queue.shift()!;
      this.running.set(worker, task);
      worker.postMessage(task.request);
    }
  }

  private finish(worker: Worker, reply: WorkerReply): void {
    const task = this.running.get(worker);
    this.running.delete(worker);
    this.idle.push(worker);
    if (task) {
      if ('error' in reply) task.reject(new KeystoreError('internal', { en: `crypto worker failed (${reply.error})`, zh: `加解密工作线程出错（${reply.error}）` }));
      else task.resolve(reply);
    }
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new KeystoreError('internal', { en: `crypto worker failed: ${err.message}`, zh: `加解密工作线程出错：${err.message}` });
    for (const task of [...this.running.values(), ...this.queue]) task.reject(this.failure);
    this.running.clear();
    this.queue.length = 0;
  }
}
