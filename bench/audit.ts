/**
 * `audit` through dist/cli.js on a seeded GPT-Load database and a generated GPT-Load log, with
 * wall time and peak RSS (/usr/bin/time): the log is streamed, so memory must not grow with it.
 * Baseline of the same run: a bare readline pass over the same log (the floor of reading it).
 *
 *   npm run build && npx tsx bench/audit.ts [sqlite|mysql|postgres] [keys=1000000] [logMiB=1024]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGptLoadDatabase, type Engine } from '../test/support/databases';
import { REPO_ROOT } from '../test/support/paths';
import { benchContext, runBench } from './session';

const engine = (process.argv[2] ?? 'sqlite') as Engine;
const keys = Number(process.argv[3] ?? 1_000_000);
const logMiB = Number(process.argv[4] ?? 1024);
const KEY = 'Bench-9Hq4Lx7Wp2Zr5Tm8Vb3Nc6Kd1Gf0Sa';
const CLI = join(REPO_ROOT, 'dist', 'cli.js');

const context = benchContext;

/** GPT-Load's text log: mostly proxied requests, a failed login or admin 401 now and then, a burst every ~100k lines. */
async function writeLog(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let lines = 0;
  let second = Date.UTC(2026, 10, 1) / 1000;
  const stamp = () => new Date(second * 1000).toISOString().slice(0, 19).replace('T', ' ');
  while (written < bytes) {
    let chunk = '';
    for (let i = 0; i < 10_000; i++, lines++) {
      if (lines % 3 === 0) second++;
      const n = lines % 100_000;
      const line =
        n < 12
          ? `time="${stamp()}" level=warning msg="POST /api/auth/login - 401 - 1.482ms"`
          : lines % 997 === 0
            ? `time="${stamp()}" level=warning msg="GET /api/groups - 401 - 152.3µs"`
            : lines % 211 === 0
              ? `time="${stamp()}" level=warning msg="POST /proxy/openai/v1/chat/completions - 401 - 98.2µs"`
              : `time="${stamp()}" level=info msg="POST /proxy/openai/v1/chat/completions - 200 - 1.${lines % 1000}s - Key[${lines % 50}] sk-a…"`;
      chunk += line + '\n';
    }
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return lines;
}

/** Wall seconds and peak RSS (MiB) of a node process. */
function measure(name: string, args: string[], cwd: string): void {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' }, maxBuffer: 1 << 26 });
  const [seconds, kib] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  console.log(`${name.padEnd(28)} ${seconds.toFixed(2)} s  peak RSS ${(kib / 1024).toFixed(0)} MiB  (exit ${r.status})`);
}

async function main() {
  console.log(`${engine}: seeding ${keys.toLocaleString('en-US')} keys…`);
  const db = await createGptLoadDatabase(context, engine, { keys, logs: Math.floor(keys / 10), encryptionKey: KEY, env: { PORT: '39997' } });
  if (!db) return;
  const log = join(db.envDir, 'app.log');
  const lines = await writeLog(log, logMiB * 2 ** 20);
  console.log(`log: ${(statSync(log).size / 2 ** 20).toFixed(0)} MiB, ${lines.toLocaleString('en-US')} lines`);
  measure('readline floor', ['-e', `let n=0;require('readline').createInterface({input:require('fs').createReadStream(${JSON.stringify(log)}),crlfDelay:Infinity}).on('line',()=>n++).on('close',()=>console.log(n))`], db.envDir);
  measure('audit (database, no log)', [CLI, 'audit', '--json'], db.envDir);
  measure('audit (database + log)', [CLI, 'audit', '--json', '--log', log], db.envDir);
}

runBench(main);
