/**
 * redact-logs against its floor, on SQLite. Builds (once, cached in the OS temp folder) a GPT-Load
 * database of N request logs under one ENCRYPTION_KEY — 10% of them failed, a third of those quoting
 * their key in a Gemini URL as GPT-Load did before v1.4.9 — then, on two copies of it, in this run:
 *   ours   `gpt-load-keystore redact-logs --yes --no-backup` (dist/cli.js, as operators run it, less
 *          the backup, which bench/backup.ts measures): service check, the whole key pool read,
 *          a read-only pass over every log row, then one transaction that re-reads and masks the
 *          rows found and verifies their count;
 *   floor  the minimal loop GPT-Load v1.4.9 itself would run: keyset read of the rows with an
 *          error_message, each row's own key opened and masked (RedactSecret with that one key),
 *          changed rows updated, one transaction, nothing checked.
 * Each runs in its own process; its peak RSS is the process's own maxRSS (worker threads included).
 *
 *   npx tsx bench/redact-logs.ts [--logs 1000000] [--keys 10000]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codecFor } from '../server/core/crypto';
import { maskApiKey } from '../server/core/redact';
import { openStore } from '../server/store/connect';
import { resolveDsn } from '../server/store/dsn';
import { fillGptLoadData } from '../server/store/seed';
import { createGptLoadDatabase } from '../test/support/databases';
import { closedPort } from '../test/support/gptload';
import { geminiError } from '../test/support/history';
import { REPO_ROOT } from '../test/support/paths';
import { benchContext, runBench } from './session';

const KEY = 'bench-redact-key.0123456789abcdefGHIJ';

const { values: args } = parseArgs({
  options: {
    logs: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '10000' },
    // Internal: this process is the floor's child.
    floor: { type: 'string' },
  },
});

// ---------------------------------------------------------------------------------------------
// the floor (child process)

function floor(path: string): void {
  const start = process.hrtime.bigint();
  const codec = codecFor(KEY);
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(path);
  const select = db.prepare(`SELECT id, key_value, error_message FROM request_logs WHERE error_message IS NOT NULL AND error_message <> '' AND id > ? ORDER BY id LIMIT 2000`);
  const update = db.prepare('UPDATE request_logs SET error_message = ? WHERE id = ?');
  let scanned = 0;
  let changed = 0;
  db.transaction(() => {
    let after = '';
    for (;;) {
      const batch = select.all(after) as Array<{ id: string; key_value: string; error_message: string }>;
      if (batch.length === 0) break;
      for (const row of batch) {
        const key = codec.decrypt(row.key_value);
        const text = row.error_message.split(key).join(maskApiKey(key));
        if (text !== row.error_message) {
          update.run(text, row.id);
          changed++;
        }
      }
      scanned += batch.length;
      after = batch[batch.length - 1].id;
    }
  })();
  db.close();
  process.stdout.write(JSON.stringify({ scanned, changed, seconds: Number(process.hrtime.bigint() - start) / 1e9 }) + '\n');
}

// ---------------------------------------------------------------------------------------------
// the driver

const context = benchContext;

/** The process's own peak RSS (KiB, threads included), printed by a preload as it exits. */
const REPORT_PEAK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\npeak-rss-kib="+process.resourceUsage().maxRSS+"\\n"))';

function run(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; peakMiB: number; wallSeconds: number }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', REPORT_PEAK, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const peak = Number(/peak-rss-kib=(\d+)/.exec(stderr)?.[1] ?? 0);
      resolve({ code, stdout, stderr, peakMiB: peak / 1024, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

/** The cached source database: N logs, 10% failed, a third of those quoting their key. */
async function sourceDatabase(logs: number, keys: number): Promise<string> {
  const dir = join(tmpdir(), `glk-bench-redact-${logs}-${keys}`);
  const path = join(dir, 'gpt-load.db');
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const building = join(dir, 'building.db');
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const fresh = new Database(building);
  fresh.exec(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'gpt-load', 'ddl', 'sqlite.sql'), 'utf8'));
  fresh.close();
  const store = await openStore(resolveDsn(building, dir));
  const seeded = await fillGptLoadData(store, { keys, logs, encryptionKey: KEY, seed: 7 });
  await store.close();
  // Quote the row's own key in a third of the failed rows, as GPT-Load's transport errors did.
  const codec = codecFor(KEY);
  const db = new Database(building);
  const failed = db.prepare(`SELECT id, key_value FROM request_logs WHERE error_message IS NOT NULL`).all() as Array<{ id: string; key_value: string }>;
  const update = db.prepare('UPDATE request_logs SET error_message = ? WHERE id = ?');
  db.transaction(() => {
    failed.forEach((row, i) => {
      if (i % 3 === 0) update.run(geminiError(codec.decrypt(row.key_value)), row.id);
    });
  })();
  db.close();
  copyFileSync(building, path);
  console.log(`  built ${logs.toLocaleString('en-US')} logs (${failed.length.toLocaleString('en-US')} failed) over ${seeded.keys.toLocaleString('en-US')} keys`);
  return path;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const logs = Number(args.logs);
  const keys = Number(args.keys);
  const cli = join(REPO_ROOT, 'dist', 'cli.js');
  console.log(`sqlite: ${fmt(logs)} request logs, ${fmt(keys)} keys…`);
  const source = await sourceDatabase(logs, keys);
  const port = await closedPort();
  const copy = async () => {
    const db = await createGptLoadDatabase(context, 'sqlite', { schema: false, env: { PORT: String(port), ENCRYPTION_KEY: KEY } });
    copyFileSync(source, join(db!.envDir, 'data', 'gpt-load.db'));
    return db!;
  };
  const [oursDb, floorDb] = [await copy(), await copy()];

  const ours = await run([cli, 'redact-logs', '--env', join(oursDb.envDir, '.env'), '--yes', '--no-backup', '--json'], { PATH: process.env.PATH }, oursDb.envDir);
  if (ours.code !== 0) throw new Error(`redact-logs failed (${ours.code}): ${ours.stderr}`);
  const result = JSON.parse(ours.stdout) as { scanned: number; rowsChanged: number; durationMs: number };

  const floorRun = await run(['--import', 'tsx', join(REPO_ROOT, 'bench', 'redact-logs.ts'), '--floor', join(floorDb.envDir, 'data', 'gpt-load.db')], { ...process.env, NODE_OPTIONS: '' }, REPO_ROOT);
  if (floorRun.code !== 0) throw new Error(`floor failed: ${floorRun.stderr}`);
  const floorResult = JSON.parse(floorRun.stdout) as { scanned: number; changed: number; seconds: number };
  if (floorResult.changed !== result.rowsChanged) throw new Error(`ours masked ${result.rowsChanged} rows, the floor ${floorResult.changed}`);

  const seconds = result.durationMs / 1000;
  console.log(`  ours : ${fmt(logs / seconds)} log rows/s — ${seconds.toFixed(1)} s in redact-logs (${fmt(result.scanned)} error messages scanned, ${fmt(result.rowsChanged)} re-read and masked in the transaction); process ${ours.wallSeconds.toFixed(1)} s; peak RSS ${ours.peakMiB.toFixed(0)} MiB`);
  console.log(`  floor: ${fmt(logs / floorResult.seconds)} log rows/s — ${floorResult.seconds.toFixed(1)} s in the loop (each row's own key only); process ${floorRun.wallSeconds.toFixed(1)} s; peak RSS ${floorRun.peakMiB.toFixed(0)} MiB`);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`  (load average during the run: ${load})`);
  console.log(`  ratio: ours takes ${(seconds / floorResult.seconds).toFixed(2)}× the floor's time`);
}

if (args.floor) floor(args.floor);
else {
  runBench(main);
}
