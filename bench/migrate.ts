/**
 * migrate-keys against GPT-Load's own algorithm and against its floor. Builds one GPT-Load database
 * of N keys under one ENCRYPTION_KEY, then, in this one run, times whole processes in turn on it,
 * each moving the database from the key it is under to the other one (K1 → K2, K2 → K1, …):
 *   ours       `gpt-load-keystore migrate-keys --no-backup --skip-logs` (dist/cli.js, as operators
 *              run it, less the pre-write backup, which bench/backup.ts measures): service checks,
 *              read-only pre-check of every row, one transaction, crypto in worker threads, every new
 *              value verified before COMMIT; with --logs, request_logs too (no --skip-logs);
 *   reference  a Go re-implementation of GPT-Load v1.4.9's migrate-keys algorithm (api_keys only),
 *              given with --reference PATH or GLK_REFMIGRATE (bench/README.md says how to build it);
 *              skipped with a message without it;
 *   floor      the minimal loop, once, after the rounds: keyset read → decrypt → encrypt → hash →
 *              update, one transaction, crypto in the main thread, nothing checked (SQLite:
 *              better-sqlite3 prepared statements; MySQL/PostgreSQL: one multi-row UPDATE per batch).
 * Ours and the reference alternate round by round, so both see the same machine; PostgreSQL is
 * vacuumed before each run (outside the timing), as every run leaves a dead copy of each row. Peak
 * RSS is sampled from /proc (VmHWM). Prints medians, reference/ours per pair, ours/floor, and the
 * load average before and after.
 *
 *   npx tsx bench/migrate.ts [--keys 100000] [--engine sqlite|mysql|postgres] [--runs 3]
 *                            [--reference PATH] [--logs N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codecFor } from '../server/core/crypto';
import { openStore } from '../server/store/connect';
import { resolveDsn, type DatabaseTarget } from '../server/store/dsn';
import { readRows, type RowId } from '../server/keystore/migrate/sql';
import { createGptLoadDatabase, type Engine, type GptLoadDatabase } from '../test/support/databases';
import { closedPort } from '../test/support/gptload';
import { REPO_ROOT } from '../test/support/paths';
import { benchContext, runBench } from './session';

const KEYS = ['bench-Zq7-one.0192837465fedcbaGHIJ', 'bench-Wv4-two.9876543210zyxwvuTSRQ'] as const;
const BATCH = 2000;

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    engine: { type: 'string', default: 'sqlite' },
    runs: { type: 'string', default: '3' },
    logs: { type: 'string', default: '0' },
    reference: { type: 'string', default: process.env.GLK_REFMIGRATE ?? '' },
    // Internal: this process is the floor's child.
    floor: { type: 'boolean', default: false },
    dsn: { type: 'string' },
    'env-dir': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
});

// ---------------------------------------------------------------------------------------------
// the floor (child process)

/** The floor's SQLite page cache: it updates key_hash in its index row by row, at random places; 64 MiB was its fastest. */
const FLOOR_SQLITE_CACHE_KIB = 65_536;

async function floor(dsn: string, envDir: string, fromKey: string, toKey: string): Promise<void> {
  const target = resolveDsn(dsn, envDir);
  const start = process.hrtime.bigint();
  const from = codecFor(fromKey);
  const to = codecFor(toKey);
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
        const values = plains.map((p) => to.encrypt(p));
        const hashes = plains.map((p) => to.hash(p));
        if (tx.kind === 'postgres') {
          await tx.execute(
            'UPDATE api_keys AS a SET key_value = v.kv, key_hash = v.kh FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, kv, kh) WHERE a.id = v.id',
            [batch.ids, values, hashes],
          );
        } else {
          for (let s = 0; s < batch.ids.length; s += 500) {
            const ids = batch.ids.slice(s, s + 500);
            const whens = (column: string[]) => ids.flatMap((id, i) => [id, column[s + i]]);
            const cases = ' WHEN ? THEN ?'.repeat(ids.length);
            await tx.execute(
              `UPDATE api_keys SET key_value = CASE id${cases} END, key_hash = CASE id${cases} END WHERE id IN (${ids.map(() => '?').join(', ')})`,
              [...whens(values), ...whens(hashes), ...ids],
            );
          }
        }
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

const context = benchContext;

/** A child process, its peak RSS (VmHWM) sampled until it exits. */
interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** User + system CPU time of the process (all its threads), as last sampled. */
  cpuSeconds: number;
  peakMiB: number;
}

const TICKS_PER_SECOND = 100;

function measured(command: string, argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Measured> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKiB = 0;
    let cpuTicks = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
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
      resolve({ code, stdout, stderr, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: cpuTicks / TICKS_PER_SECOND, peakMiB: peakKiB / 1024 });
    });
  });
}

/** The reference's -driver and -dsn for a database (Go's drivers: go-sql-driver/mysql takes GPT-Load's DSN as it is). */
function referenceArgs(target: DatabaseTarget, dsn: string): string[] {
  if (target.kind === 'sqlite') return ['-driver', 'sqlite3', '-dsn', target.path];
  return ['-driver', target.kind, '-dsn', dsn];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs: number[], digits = 1) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * What the engine alone needs to read every api_keys row once and then rewrite each one, with no
 * crypto, no checks and no process start: a keyset read of (id, key_value, key_hash), then in one
 * transaction one UPDATE of both columns of every row, rolled back outside the timing. Where one
 * statement is the engine's fastest way to rewrite every row (the tables of 100,000 keys here), a
 * tool that reads every row before it writes needs about this long at least, so the reference's time
 * over it is about the best reference/ours such a tool could reach on this machine. At a million
 * keys a single UPDATE outgrows the server's buffers, and batches (ours, the floor) beat it.
 */
async function engineBound(db: GptLoadDatabase): Promise<{ readSeconds: number; writeSeconds: number }> {
  const store = await db.open({ timeoutMs: 60_000 });
  try {
    const readStart = process.hrtime.bigint();
    let after: RowId | null = null;
    for (;;) {
      const batch = await readRows(store, 'api_keys', after, 2500);
      if (batch.ids.length === 0) break;
      after = batch.ids[batch.ids.length - 1];
    }
    const readSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;
    let writeSeconds = 0;
    const rollback = new Error('rolled back');
    await store
      .transaction(async (tx) => {
        const start = process.hrtime.bigint();
        // Each value rotated by one character: the same length, a new place in the key_hash index.
        const rotated = (column: string) => (db.engine === 'mysql' ? `CONCAT(SUBSTR(${column}, 2), SUBSTR(${column}, 1, 1))` : `substr(${column}, 2) || substr(${column}, 1, 1)`);
        await tx.execute(`UPDATE api_keys SET key_value = ${rotated('key_value')}, key_hash = ${rotated('key_hash')}`);
        writeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
        throw rollback;
      })
      .catch((err) => {
        if (err !== rollback) throw err;
      });
    return { readSeconds, writeSeconds };
  } finally {
    await store.close();
  }
}

async function vacuum(db: GptLoadDatabase): Promise<void> {
  if (db.engine !== 'postgres') return;
  const store = await db.open();
  await store.execute('VACUUM api_keys');
  if (Number(args.logs) > 0) await store.execute('VACUUM request_logs');
  await store.close();
}

function describe(label: string, runs: Measured[]): string {
  return `${label}: median ${median(runs.map((r) => r.wallSeconds)).toFixed(2)} s (${range(runs.map((r) => r.wallSeconds), 2)}), CPU ${median(runs.map((r) => r.cpuSeconds)).toFixed(1)} s, peak RSS ${range(runs.map((r) => r.peakMiB), 0)} MiB`;
}

async function main(): Promise<void> {
  const engine = args.engine as Engine;
  const keys = Number(args.keys);
  const runs = Number(args.runs);
  const logs = Number(args.logs);
  if (!['sqlite', 'mysql', 'postgres'].includes(engine) || !Number.isInteger(keys) || keys < 1 || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(logs) || logs < 0) {
    throw new Error('usage: bench/migrate.ts [--keys N] [--engine sqlite|mysql|postgres] [--runs N] [--reference PATH] [--logs N]');
  }
  const reference = args.reference;
  if (reference && !existsSync(reference)) throw new Error(`--reference ${reference}: no such file`);
  const cli = join(REPO_ROOT, 'dist', 'cli.js');
  if (!existsSync(cli) || !existsSync(join(REPO_ROOT, 'dist', 'worker.js'))) spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });

  console.log(`${engine}: building a GPT-Load database of ${fmt(keys)} keys${logs ? ` and ${fmt(logs)} request logs` : ''} under one key…`);
  const seedStart = Date.now();
  const db = await createGptLoadDatabase(context, engine, { keys, logs, encryptionKey: KEYS[0], env: { PORT: String(await closedPort()) } });
  if (!db) throw new Error(`${engine} not reachable`);
  console.log(`  seeded in ${((Date.now() - seedStart) / 1000).toFixed(0)} s`);

  let under = 0;
  const ours: Measured[] = [];
  const oursInside: Array<{ durationMs: number; phases: Record<string, number> }> = [];
  const refs: Measured[] = [];
  const runOurs = async () => {
    await vacuum(db);
    const [from, to] = [KEYS[under], KEYS[1 - under]];
    const flags = ['--from-env', 'K_FROM', '--to-env', 'K_TO', '--json', '--yes', '--no-backup', '--timeout', '30', ...(logs ? [] : ['--skip-logs'])];
    const run = await measured(process.execPath, [cli, 'migrate-keys', '--env', join(db.envDir, '.env'), ...flags], { cwd: db.envDir, env: { PATH: process.env.PATH, K_FROM: from, K_TO: to } });
    if (run.code !== 0) throw new Error(`migrate-keys failed (${run.code}): ${run.stderr}`);
    const summary = JSON.parse(run.stdout) as { apiKeys: number; requestLogs: number; durationMs: number; phases: Record<string, number> };
    if (summary.apiKeys !== keys) throw new Error(`migrate-keys rewrote ${summary.apiKeys} keys, expected ${keys}`);
    ours.push(run);
    oursInside.push(summary);
    under = 1 - under;
  };
  const runReference = async () => {
    await vacuum(db);
    const run = await measured(reference, [...referenceArgs(db.target, db.dsn), '-from', KEYS[under], '-to', KEYS[1 - under]], { cwd: db.envDir, env: { PATH: process.env.PATH } });
    if (run.code !== 0) throw new Error(`reference failed (${run.code}): ${run.stdout}${run.stderr}`);
    refs.push(run);
    under = 1 - under;
  };

  const loadBefore = loadAverage();
  // Alternate which goes first, so neither always finds the caches the other warmed.
  for (let round = 0; round < runs; round++) {
    if (reference && round % 2 === 1) await runReference();
    await runOurs();
    if (reference && round % 2 === 0) await runReference();
  }
  const loadAfter = loadAverage();

  await vacuum(db);
  const floorRun = await measured(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'bench', 'migrate.ts'), '--floor', '--dsn', db.dsn, '--env-dir', db.envDir, '--from', KEYS[under], '--to', KEYS[1 - under]],
    { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (floorRun.code !== 0) throw new Error(`floor failed: ${floorRun.stderr}`);
  const floorResult = JSON.parse(floorRun.stdout) as { rows: number; seconds: number };
  await vacuum(db);
  const bound = await engineBound(db);
  under = 1 - under;

  // The database must now read as GPT-Load reads it under the key it was last moved to (a sample of the first rows).
  const store = await db.open();
  const reader = codecFor(KEYS[under]);
  for (const value of (await readRows(store, 'api_keys', null, 1000)).values) reader.decrypt(value);
  await store.close();

  const inside = median(oursInside.map((s) => s.durationMs)) / 1000;
  const phases = Object.keys(oursInside[0].phases)
    .map((name) => `${name} ${(median(oursInside.map((s) => s.phases[name] ?? 0)) / 1000).toFixed(2)} s`)
    .join(', ');
  console.log(`  ${runs} round(s)${reference ? ', ours and the reference in turn' : ''}; load average before ${loadBefore}, after ${loadAfter}`);
  console.log(`  ${describe(`ours${logs ? ' (with request_logs)' : ''}`, ours)}; inside migrate-keys ${inside.toFixed(2)} s (${phases})`);
  if (reference) {
    console.log(`  ${describe('reference', refs)}`);
    const pairs = ours.map((o, i) => refs[i].wallSeconds / o.wallSeconds);
    console.log(`  reference/ours: ${(median(refs.map((r) => r.wallSeconds)) / median(ours.map((o) => o.wallSeconds))).toFixed(2)}× (pairs ${pairs.map((p) => p.toFixed(2)).join(', ')}; target ≥ 2×)`);
    const boundSeconds = bound.readSeconds + bound.writeSeconds;
    console.log(
      `  engine bound: read every row ${bound.readSeconds.toFixed(2)} s + UPDATE of every row ${bound.writeSeconds.toFixed(2)} s = ${boundSeconds.toFixed(2)} s; ` +
        `reference/bound ${(median(refs.map((r) => r.wallSeconds)) / boundSeconds).toFixed(2)}× (about the most a tool that reads every row before writing could reach, where one UPDATE is the engine's fastest rewrite)`,
    );
  } else {
    console.log('  reference skipped: give --reference PATH (or GLK_REFMIGRATE) to the Go reference of GPT-Load\'s algorithm (bench/README.md)');
  }
  console.log(`  floor: ${fmt(floorResult.rows / floorResult.seconds)} keys/s — ${floorResult.seconds.toFixed(2)} s in the loop; process ${floorRun.wallSeconds.toFixed(2)} s, CPU ${floorRun.cpuSeconds.toFixed(1)} s; peak RSS ${floorRun.peakMiB.toFixed(0)} MiB`);
  console.log(`  ours/floor: ${(inside / floorResult.seconds).toFixed(2)}× (inside migrate-keys against the floor's loop; target ≤ 1.3×)`);
}

if (args.floor) {
  floor(args.dsn ?? '', args['env-dir'] ?? '.', args.from ?? '', args.to ?? '').catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  runBench(main);
}
