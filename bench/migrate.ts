/**
 * migrate-keys against its floor. Builds a GPT-Load database of N keys under one ENCRYPTION_KEY
 * and an identical copy (SQLite: the same file copied; MySQL/PostgreSQL: the same seed, so the same
 * ids and keys), then, in this one run:
 *   ours   `gpt-load-keystore migrate-keys K1 → K2 --no-backup` (dist/cli.js, as operators run it, less
 *          the pre-write backup, which bench/backup.ts measures): service
 *          checks, read-only pre-check of every row, one transaction, crypto in worker threads,
 *          every new value verified, digest compared before COMMIT, .env untouched;
 *   floor  the minimal loop over the copy: keyset read → decrypt → encrypt → hash → update, one
 *          transaction, crypto in the main thread, nothing checked (SQLite: better-sqlite3 prepared
 *          statements; MySQL/PostgreSQL: the same batched UPDATEs as ours).
 * Each runs in its own process; its peak RSS is sampled from /proc (VmHWM). Prints keys/s for both,
 * the time ratio ours/floor, and peak memory.
 *
 *   npx tsx bench/migrate.ts [--keys 200000] [--engine sqlite|mysql|postgres]
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseArgs } from 'node:util';
import { codecFor } from '../server/core/crypto';
import { openStore } from '../server/store/connect';
import { resolveDsn } from '../server/store/dsn';
import { readRows, updateRows, type RowId } from '../server/keystore/migrateSql';
import { createGptLoadDatabase, type Engine, type GptLoadDatabase } from '../test/support/databases';
import { closedPort } from '../test/support/gptload';
import { REPO_ROOT } from '../test/support/paths';

const K1 = 'bench-key-one.0123456789abcdefGHIJ';
const K2 = 'bench-key-two.9876543210zyxwvuTSRQ';
const BATCH = 2000;

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    engine: { type: 'string', default: 'sqlite' },
    // Internal: this process is the floor's child.
    floor: { type: 'boolean', default: false },
    dsn: { type: 'string' },
    'env-dir': { type: 'string' },
  },
});

// ---------------------------------------------------------------------------------------------
// the floor (child process)

async function floor(dsn: string, envDir: string): Promise<void> {
  const target = resolveDsn(dsn, envDir);
  const start = process.hrtime.bigint();
  const from = codecFor(K1);
  const to = codecFor(K2);
  let rows = 0;
  if (target.kind === 'sqlite') {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(target.path);
    db.pragma(`cache_size = -${FLOOR_SQLITE_CACHE_KIB}`);
    const select = db.prepare('SELECT id, key_value FROM api_keys WHERE id > ? ORDER BY id LIMIT ?');
    const update = db.prepare('UPDATE api_keys SET key_value = ?, key_hash = ? WHERE id = ?');
    db.transaction(() => {
      let after = 0;
      for (;;) {
        const batch = select.all(after, BATCH) as Array<{ id: number; key_value: string }>;
        if (batch.length === 0) break;
        for (const row of batch) {
          const plain = from.decrypt(row.key_value);
          update.run(to.encrypt(plain), to.hash(plain), row.id);
        }
        rows += batch.length;
        after = batch[batch.length - 1].id;
      }
    })();
    db.close();
  } else {
    const store = await openStore(target, { timeoutMs: 30_000 });
    await store.transaction(async (tx) => {
      let after: RowId | null = null;
      for (;;) {
        const batch = await readRows(tx, 'api_keys', after, BATCH);
        if (batch.ids.length === 0) break;
        const plains = batch.values.map((v) => from.decrypt(v));
        await updateRows(tx, 'api_keys', { ids: batch.ids, values: plains.map((p) => to.encrypt(p)), hashes: plains.map((p) => to.hash(p)) });
        rows += batch.ids.length;
        after = batch.ids[batch.ids.length - 1];
      }
    });
    await store.close();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ rows, seconds }) + '\n');
}

// ---------------------------------------------------------------------------------------------
// the driver

const cleanups: Array<() => unknown> = [];
const context = { after: (fn: () => unknown) => cleanups.push(fn), skip: (why: string) => console.log(`skipped: ${why}`) } as unknown as TestContext;

/** Runs a child process, sampling its peak RSS (VmHWM) until it exits. */
interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** User + system CPU time of the process (all its threads), as last sampled. */
  cpuSeconds: number;
  peakMiB: number;
  /** The progress phase last printed on stderr when the peak was reached (diagnosis). */
  peakPhase: string;
}

/**
 * The floor's SQLite page cache: it updates key_hash in its index row by row, at random places, and
 * 64 MiB was its fastest setting here (ours drops that index for the write and needs far less).
 */
const FLOOR_SQLITE_CACHE_KIB = 65_536;

const TICKS_PER_SECOND = 100;

function measured(command: string, argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Measured> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKiB = 0;
    let peakPhase = '';
    let cpuTicks = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const phase = () => /(?:^|\n)([^\n:]+): [\d,]+\/[\d,]+[^\n]*\n?$/.exec(stderr)?.[1] ?? '';
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m && Number(m[1]) > peakKiB) {
          peakKiB = Number(m[1]);
          peakPhase = phase();
        }
        // /proc/<pid>/stat: fields 14 and 15 (after the parenthesised command) are utime and stime.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
        cpuTicks = Math.max(cpuTicks, Number(fields[11]) + Number(fields[12]));
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 25);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: cpuTicks / TICKS_PER_SECOND, peakMiB: peakKiB / 1024, peakPhase });
    });
  });
}

async function seed(engine: Engine, keys: number): Promise<GptLoadDatabase> {
  const port = await closedPort();
  const db = await createGptLoadDatabase(context, engine, { keys, logs: 0, encryptionKey: K1, env: { PORT: String(port) } });
  if (!db) throw new Error(`${engine} not reachable`);
  return db;
}

/** Two identical databases: SQLite copies the file; servers get the same seed (same ids and keys, fresh nonces). */
async function twoCopies(engine: Engine, keys: number): Promise<[GptLoadDatabase, GptLoadDatabase]> {
  const ours = await seed(engine, keys);
  if (engine !== 'sqlite') return [ours, await seed(engine, keys)];
  const copy = await createGptLoadDatabase(context, 'sqlite', { schema: false, env: { PORT: '1' } });
  copyFileSync(join(ours.envDir, 'data', 'gpt-load.db'), join(copy!.envDir, 'data', 'gpt-load.db'));
  return [ours, copy!];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const engine = args.engine as Engine;
  const keys = Number(args.keys);
  if (!['sqlite', 'mysql', 'postgres'].includes(engine) || !Number.isInteger(keys) || keys < 1) throw new Error('usage: bench/migrate.ts [--keys N] [--engine sqlite|mysql|postgres]');
  const cli = join(REPO_ROOT, 'dist', 'cli.js');
  if (!existsSync(cli) || !existsSync(join(REPO_ROOT, 'dist', 'worker.js'))) spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });

  console.log(`${engine}: building two identical GPT-Load databases of ${fmt(keys)} keys under one key…`);
  const seedStart = Date.now();
  const [oursDb, floorDb] = await twoCopies(engine, keys);
  console.log(`  seeded in ${((Date.now() - seedStart) / 1000).toFixed(0)} s`);

  const ours = await measured(process.execPath, [cli, 'migrate-keys', '--env', join(oursDb.envDir, '.env'), '--from-env', 'K1', '--to-env', 'K2', '--json', '--yes', '--no-backup', '--timeout', '30'], {
    cwd: oursDb.envDir,
    env: { PATH: process.env.PATH, K1, K2 },
  });
  if (ours.code !== 0) throw new Error(`migrate-keys failed (${ours.code}): ${ours.stderr}`);
  const summary = JSON.parse(ours.stdout) as { apiKeys: number; durationMs: number; phases: Record<string, number> };
  if (summary.apiKeys !== keys) throw new Error(`migrate-keys rewrote ${summary.apiKeys} keys, expected ${keys}`);

  const floorRun = await measured(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'migrate.ts'), '--floor', '--dsn', floorDb.dsn, '--env-dir', floorDb.envDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (floorRun.code !== 0) throw new Error(`floor failed: ${floorRun.stderr}`);
  const floorResult = JSON.parse(floorRun.stdout) as { rows: number; seconds: number };

  // Both databases must now read as GPT-Load reads them under K2 (a sample of the first rows).
  for (const db of [oursDb, floorDb]) {
    const store = await db.open();
    const reader = codecFor(K2);
    for (const row of (await readRows(store, 'api_keys', null, 1000)).values) reader.decrypt(row);
    await store.close();
  }

  const oursSeconds = summary.durationMs / 1000;
  const phases = Object.entries(summary.phases)
    .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
  console.log(`  ours : ${fmt(keys / oursSeconds)} keys/s — ${oursSeconds.toFixed(1)} s in migrate-keys (${phases}); process ${ours.wallSeconds.toFixed(1)} s, CPU ${ours.cpuSeconds.toFixed(1)} s; peak RSS ${ours.peakMiB.toFixed(0)} MiB (reached in: ${ours.peakPhase || "start-up"})`);
  console.log(`  floor: ${fmt(floorResult.rows / floorResult.seconds)} keys/s — ${floorResult.seconds.toFixed(1)} s in the loop; process ${floorRun.wallSeconds.toFixed(1)} s, CPU ${floorRun.cpuSeconds.toFixed(1)} s; peak RSS ${floorRun.peakMiB.toFixed(0)} MiB`);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`  (load average during the run: ${load}; on a busy machine both slow down and ours loses its second core)`);
  console.log(`  ratio: ours takes ${(oursSeconds / floorResult.seconds).toFixed(2)}× the floor's time (target ≤ 1.3×)`);
}

if (args.floor) {
  floor(args.dsn ?? '', args['env-dir'] ?? '.').catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  main()
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(async () => {
      for (const fn of cleanups.reverse()) await fn();
    });
}
