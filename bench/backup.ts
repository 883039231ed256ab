/**
 * Backup create / check / restore on a seeded GPT-Load database, with wall time, rows per second and
 * peak memory per phase (the point of streaming: memory must not grow with the row count).
 *
 *   npx tsx bench/backup.ts [sqlite|mysql|postgres] [keys=100000] [logs=keys/4]
 */
import { join } from 'node:path';
import { createBackup } from '../server/keystore/backup/create';
import { checkBackup } from '../server/keystore/backup/check';
import { restoreBackup } from '../server/keystore/backup/restore';
import { codecFor } from '../server/core/crypto';
import { resolveDeployment } from '../server/keystore/deployment';
import { createGptLoadDatabase, type Engine } from '../test/support/databases';
import { benchContext, runBench } from './session';

const engine = (process.argv[2] ?? 'sqlite') as Engine;
const keys = Number(process.argv[3] ?? 100_000);
const logs = Number(process.argv[4] ?? Math.floor(keys / 4));
const KEY = 'bench-key-0123456789abcdef';

const context = benchContext;

async function phase<T>(name: string, rows: number, work: () => Promise<T>): Promise<T> {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const start = process.hrtime.bigint();
  try {
    return await work();
  } finally {
    clearInterval(sampler);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    global.gc?.();
    // Retained: what is still reachable once the phase is over (a leak shows here, garbage does not).
    const retained = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `${name.padEnd(8)} ${seconds.toFixed(2)} s  ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s  ` +
        `rss ${mib(base)} → peak ${mib(peak)} MiB (+${mib(peak - base)}), heap retained ${mib(retained)} MiB`,
    );
  }
}

async function main() {
  console.log(`${engine}: seeding ${keys.toLocaleString('en-US')} keys, ${logs.toLocaleString('en-US')} logs…`);
  const db = await createGptLoadDatabase(context, engine, { keys, logs, encryptionKey: KEY, env: { PORT: '39998' } });
  if (!db) return;
  const rows = keys + logs;
  const store = await db.open();
  const created = await phase('create', rows, () => createBackup(store, { encryptionKey: KEY, envDir: db.envDir }));
  console.log(`         ${created.info.bytes.toLocaleString('en-US')} bytes (${(created.info.bytes / rows).toFixed(0)} B/row)`);
  const check = await phase('check', rows, () => checkBackup(created.file, { codec: codecFor(KEY) }));
  if (check.verdict !== 'ok') throw new Error(`check: ${check.verdict}`);
  await phase('quick', rows, () => checkBackup(created.file, { codec: codecFor(KEY), quick: true }));
  await store.close();
  const deployment = resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} });
  await phase('restore', rows, () => restoreBackup({ deployment, file: created.file, safetyBackup: false }));
}

runBench(main);
