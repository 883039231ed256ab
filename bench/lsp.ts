/**
 * Daemon benchmark, through the real server (dist/server.js) over stdio:
 *   1. diagnostics latency (didChange → publishDiagnostics of that version), p50/p99, for a
 *      100-line and a 10,000-line .env — the lint path; the database check is off here, it runs in
 *      the background and never delays these; then parse and lint in this process (CPU time) at
 *      100 to 20,000 lines, with the cost per line against 100 lines' (×1.0 = linear growth);
 *   2. the first page (100 keys) of a group holding 1,000,000 keys (SQLite), against the bare SQL
 *      query run with better-sqlite3 in this process, in the same run. The target (within 2× of the
 *      query) is the page itself: query, decrypt and mask, as the daemon's core makes it. Over stdio
 *      every JSON-RPC reply also pays its transport, so the round trip is printed beside the
 *      protocol's own (an unknown method's error);
 *   3. opening the 100 stored keys of a page: one Node decipher per value (the baseline) against
 *      the codec's decryptMany, which the page uses.
 * Prints figures and ratios. Run: `npm run build && node --import tsx bench/lsp.ts`
 * (GLK_BENCH_KEYS overrides the 1M; the database is cached in the OS temp folder between runs).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { codecFor } from '../server/core/crypto';
import { parseDotenv } from '../server/core/env/read';
import { lintEnv } from '../server/core/lint';
import { listKeyPage } from '../server/keystore/keys';
import { openStore } from '../server/store/connect';
import { listKeys } from '../server/store/rows';
import { KeysRequest } from '../shared/protocol';
import { fixturePath } from '../test/support/paths';
import { fileUri, startDaemon, type Daemon } from '../test/protocol/daemon';

const KEYS = Number(process.env.GLK_BENCH_KEYS ?? 1_000_000);
const ENCRYPTION_KEY = 'bench-lsp-encryption-key-4Kq9-Zr27-Wm81';
const CHANGES = 300;
const PAGES = 300;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

/** A realistic .env: GPT-Load's variables, then filler variables, some quoted, some commented. */
function envText(lines: number): string {
  const head = [
    '# GPT-Load',
    'PORT=3001',
    'HOST=0.0.0.0',
    'AUTH_KEY=Zk3-strong-auth-key-Lp0q-Wx72-Mn4Tq',
    `ENCRYPTION_KEY=${ENCRYPTION_KEY}`,
    'DATABASE_DSN=',
    'REDIS_DSN=',
  ];
  const body: string[] = [];
  for (let i = head.length; i < lines; i++) {
    body.push(i % 10 === 0 ? `# section ${i}` : i % 7 === 0 ? `VAR_${i}="quoted value ${i} with \\n escape"` : `VAR_${i}=value-${i}-${(i * 7919) % 10007}`);
  }
  return [...head, ...body].join('\n') + '\n';
}

async function diagnosticsLatency(daemon: Daemon, lines: number): Promise<{ p50: number; p99: number }> {
  const dir = join(tmpdir(), `glk-bench-env-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  try {
    const uri = fileUri(join(dir, '.env'));
    const base = envText(lines);
    const opened = daemon.diagnostics(uri);
    daemon.open(uri, base);
    await opened;
    const samples: number[] = [];
    for (let v = 2; v < CHANGES + 2; v++) {
      // One character typed into a value in the middle of the file, as a keystroke would.
      const text = base.replace(`VAR_${Math.floor(lines / 2)}=`, `VAR_${Math.floor(lines / 2)}=${'x'.repeat(v % 5)}`);
      const published = daemon.diagnostics(uri, (_, version) => version === v);
      const started = performance.now();
      daemon.change(uri, text, v);
      await published;
      samples.push(performance.now() - started);
      // A pause between keystrokes, so each change is linted on its own (not coalesced).
      await new Promise((r) => setTimeout(r, 5));
    }
    daemon.close(uri);
    return summary(samples.slice(20));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU milliseconds since `start` (process.cpuUsage): on a shared machine wall time would count other processes. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Median CPU time of parseDotenv and of lintEnv on its result, per size. */
function inProcessLint(sizes: number[]): Array<{ lines: number; parse: number; lint: number }> {
  return sizes.map((lines) => {
    const text = envText(lines);
    const runs = Math.max(11, Math.min(301, Math.round(400_000 / lines)));
    const parse: number[] = [];
    const lint: number[] = [];
    for (let i = 0; i < runs + 5; i++) {
      const start = process.cpuUsage();
      const doc = parseDotenv(text);
      const parsed = cpuMsSince(start);
      lintEnv(text, { lang: 'en', ignoredByGit: 'ignored' }, doc);
      const total = cpuMsSince(start);
      // The first runs warm the JIT up.
      if (i >= 5) {
        parse.push(parsed);
        lint.push(total - parsed);
      }
    }
    return { lines, parse: summary(parse).p50, lint: summary(lint).p50 };
  });
}

/** GPT-Load's schema with one group of KEYS encrypted keys, inserted raw in one transaction; cached. */
function millionKeyDatabase(): { envDir: string; dbPath: string } {
  const envDir = join(tmpdir(), `glk-bench-lsp-${KEYS}`);
  const dbPath = join(envDir, 'data', 'gpt-load.db');
  mkdirSync(join(envDir, 'data'), { recursive: true });
  writeFileSync(join(envDir, '.env'), `AUTH_KEY=Zk3-strong-auth-key-Lp0q-Wx72-Mn4Tq\nENCRYPTION_KEY=${ENCRYPTION_KEY}\n`);
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  if (existsSync(dbPath)) {
    const db = new Database(dbPath, { readonly: true });
    const n = (db.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }).n;
    db.close();
    if (n === KEYS) return { envDir, dbPath };
  }
  const started = performance.now();
  const partial = dbPath + '.partial';
  rmSync(partial, { force: true });
  const db = new Database(partial);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(readFileSync(fixturePath('ddl', 'sqlite.sql'), 'utf8'));
  const codec = codecFor(ENCRYPTION_KEY);
  const now = '2025-06-01 08:00:00.000+00:00';
  db.prepare(`INSERT INTO groups (id, name, display_name, proxy_keys, group_type, upstreams, channel_type, sort, test_model, created_at, updated_at)
              VALUES (1, 'openai', 'OpenAI', '', 'standard', '[]', 'openai', 0, 'gpt-4o-mini', ?, ?)`).run(now, now);
  const insert = db.prepare(`INSERT INTO api_keys (key_value, key_hash, group_id, status, notes, request_count, failure_count, created_at, updated_at)
                             VALUES (?, ?, 1, ?, '', 0, 0, ?, ?)`);
  db.transaction(() => {
    for (let i = 0; i < KEYS; i++) {
      const plaintext = `sk-bench-${i.toString(36).padStart(8, '0')}-${randomBytes(12).toString('base64url')}`;
      insert.run(codec.encrypt(plaintext), codec.hash(plaintext), i % 10 === 0 ? 'invalid' : 'active', now, now);
    }
  })();
  db.exec('ANALYZE');
  db.close();
  renameSync(partial, dbPath);
  console.log(`built ${KEYS.toLocaleString('en-US')}-key SQLite database in ${((performance.now() - started) / 1000).toFixed(1)} s (${dbPath})`);
  return { envDir, dbPath };
}

type Figures = { p50: number; p99: number };

/** Rounds before the measured ones: the JIT and SQLite's cache settle, as in a daemon that has been up a while. */
const WARMUP = 100;
const ROUNDS = WARMUP + PAGES;
/**
 * Each figure reads its own quarter of the group, so a page is never one that another figure has
 * already read (its masks uncached, its rows not in that connection's cache): pages in this process,
 * pages through the daemon, the bare query, the store's query.
 */
const QUARTER = Math.floor(KEYS / 4);
const afterIds = (quarter: number) => Array.from({ length: ROUNDS }, (_, i) => 1000 + quarter * QUARTER + i * 100);
const LOCAL_AFTER_IDS = afterIds(0);
const DAEMON_AFTER_IDS = afterIds(1);
const BARE_AFTER_IDS = afterIds(2);
const QUERY_AFTER_IDS = afterIds(3);

interface PageFigures {
  bare: Figures;
  query: Figures;
  localNew: Figures;
  localAgain: Figures;
  daemonNew: Figures;
  daemonAgain: Figures;
  floor: Figures;
  /** ms of the daemon's first page after it starts: it opens the database and derives the key. */
  daemonFirst: number;
}

/**
 * Pages and their baseline, interleaved so that every figure sees the same machine (a 2-core VM
 * drifts within a run): per round, the bare SQL (better-sqlite3 on a connection of its own), the
 * store's query (typeorm), in this process a page never shown before (query + decrypt + mask) and
 * the first page again (a refresh), the same two through the daemon over stdio, and the protocol's
 * own round trip (an unknown method's error reply), in an order that rotates from round to round.
 */
async function pageFigures(dbPath: string, daemon: Daemon, envDir: string): Promise<PageFigures> {
  if (QUARTER < ROUNDS * 100 + 1000) throw new Error(`GLK_BENCH_KEYS must be at least ${4 * (ROUNDS * 100 + 1000)}`);
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  // The statement rows.ts runs for the daemon's page (limit + 1 to know whether a next page exists).
  const bareStatement = db.prepare(
    'SELECT id, key_value, key_hash, group_id, status, notes, request_count, failure_count, last_used_at, created_at FROM api_keys WHERE id > ? AND group_id = ? ORDER BY id LIMIT ?',
  );
  const store = await openStore({ kind: 'sqlite', path: dbPath });
  const codec = codecFor(ENCRYPTION_KEY);
  const groupNames = new Map([[1, 'bench']]);
  const localPage = (afterId: number) => listKeyPage(store, codec, { groupId: 1, limit: 100, afterId }, { groupNames });
  const deployment = { envFile: join(envDir, '.env') };
  const daemonPage = async (afterId: number) => {
    const result = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, groupId: 1, limit: 100, afterId });
    if (result.items.length !== 100 || result.items[0].masked === '(undecryptable)') throw new Error('unexpected page');
  };
  const samples = { bare: [], query: [], localNew: [], localAgain: [], daemonNew: [], daemonAgain: [], floor: [] } as Record<Exclude<keyof PageFigures, 'daemonFirst'>, number[]>;
  const time = async (into: number[], fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    into.push(performance.now() - started);
  };
  try {
    const first: number[] = [];
    await time(first, () => daemonPage(DAEMON_AFTER_IDS[0] - 100));
    for (let i = 0; i < ROUNDS; i++) {
      const steps: Array<() => Promise<void>> = [
        async () => {
          const started = performance.now();
          bareStatement.all(BARE_AFTER_IDS[i], 1, 101);
          samples.bare.push(performance.now() - started);
        },
        () => time(samples.query, () => listKeys(store, { groupId: 1, limit: 100, afterId: QUERY_AFTER_IDS[i] })),
        () => time(samples.localNew, () => localPage(LOCAL_AFTER_IDS[i])),
        () => time(samples.localAgain, () => localPage(0)),
        () => time(samples.daemonNew, () => daemonPage(DAEMON_AFTER_IDS[i])),
        () => time(samples.daemonAgain, () => daemonPage(0)),
        () => time(samples.floor, () => daemon.rpc.sendRequest('gptLoad/bench/noSuchMethod', {}).catch(() => undefined)),
      ];
      // Each round starts one step later: whatever a step leaves behind (caches, a woken core) falls on every step alike.
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]();
    }
    const figures = (list: number[]) => summary(list.slice(WARMUP));
    return {
      bare: figures(samples.bare),
      query: figures(samples.query),
      localNew: figures(samples.localNew),
      localAgain: figures(samples.localAgain),
      daemonNew: figures(samples.daemonNew),
      daemonAgain: figures(samples.daemonAgain),
      floor: figures(samples.floor),
      daemonFirst: first[0],
    };
  } finally {
    await store.close();
    db.close();
  }
}

/** µs to open a page's 100 stored values, one decipher each (codec.decrypt) and in one batch (decryptMany). */
function openingKeys(dbPath: string): { perValue: number; batch: number } {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  const statement = db.prepare('SELECT key_value FROM api_keys WHERE id > ? AND group_id = 1 ORDER BY id LIMIT 100').pluck();
  const pages = LOCAL_AFTER_IDS.map((afterId) => statement.all(afterId) as string[]);
  db.close();
  const codec = codecFor(ENCRYPTION_KEY);
  const median = (open: (values: string[]) => unknown) => {
    const samples = pages.map((values) => {
      const started = performance.now();
      open(values);
      return (performance.now() - started) * 1000;
    });
    return summary(samples.slice(WARMUP)).p50;
  };
  return { perValue: median((values) => values.map((value) => codec.decrypt(value))), batch: median((values) => codec.decryptMany(values)) };
}

async function main(): Promise<void> {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;
  try {
    const lintDaemon = await startDaemon(t, { initializationOptions: { databaseDiagnostics: false }, args: ['--log-level', 'warn'] });
    const small = await diagnosticsLatency(lintDaemon, 100);
    const large = await diagnosticsLatency(lintDaemon, 10_000);
    console.log('diagnostics latency (didChange → publishDiagnostics, over stdio)');
    console.log(`  100 lines:     p50 ${ms(small.p50)}  p99 ${ms(small.p99)}   (target p99 < 10 ms)`);
    console.log(`  10,000 lines:  p50 ${ms(large.p50)}  p99 ${ms(large.p99)}`);
    console.log(`  ratio 10,000/100 lines: p50 ×${(large.p50 / small.p50).toFixed(1)} (100× the lines; linear or better: ≤ ×100)`);
    console.log(`  per-line cost 10,000 vs 100 lines: p50 ×${(large.p50 / 10_000 / (small.p50 / 100)).toFixed(2)} (×1.00 = linear; the 100-line figure includes the round trip)`);
    const sizes = inProcessLint([100, 1_000, 10_000, 20_000]);
    const perLine = (r: (typeof sizes)[number]) => ((r.parse + r.lint) * 1000) / r.lines;
    console.log('parse + lint in process (CPU time, median; the daemon parses once per change and lints that)');
    for (const r of sizes) {
      const growth = perLine(r) / perLine(sizes[0]);
      console.log(
        `  ${r.lines.toLocaleString('en-US').padEnd(6)} lines:  parse ${ms(r.parse)}  lint ${ms(r.lint)}  ${perLine(r).toFixed(2)} µs/line  per-line cost vs 100 lines ×${growth.toFixed(2)}`,
      );
    }

    const { envDir, dbPath } = millionKeyDatabase();
    const pageDaemon = await startDaemon(t, { initializationOptions: { databaseDiagnostics: false }, args: ['--log-level', 'warn'] });
    const pages = await pageFigures(dbPath, pageDaemon, envDir);
    const bareP50 = pages.bare.p50;
    const ratio = (v: number) => `ratio p50 ×${(v / bareP50).toFixed(1)}`;
    const row = (label: string, f: Figures, note = '') => console.log(`  ${label.padEnd(44)}p50 ${ms(f.p50)}  p99 ${ms(f.p99)}   ${ratio(f.p50)}${note}`);
    console.log(`a page (100 keys) of a group of ${KEYS.toLocaleString('en-US')} keys, SQLite; "new" = a page not shown before, "again" = a refresh`);
    console.log(`  (${PAGES} rounds after ${WARMUP} of warm-up, each timing every line below in turn)`);
    console.log(`  ${'bare SQL (better-sqlite3, in process)'.padEnd(44)}p50 ${ms(bareP50)}  p99 ${ms(pages.bare.p99)}`);
    row('store query (typeorm, in process)', pages.query);
    row('page incl. decrypt + mask, new (in process)', pages.localNew, '  (target ≤ ×2)');
    row('page again (in process)', pages.localAgain, '  (target ≤ ×2)');
    console.log('  what an editor waits for: the same page as a JSON-RPC request over stdio');
    row('daemon gptLoad/keys over stdio, new', pages.daemonNew);
    row('daemon gptLoad/keys over stdio, again', pages.daemonAgain);
    row('protocol floor (unknown method)', pages.floor);
    const beyond = (f: Figures) => `p50 ${ms(f.p50 - pages.floor.p50)} ${ratio(f.p50 - pages.floor.p50)}`;
    console.log(`  page beyond the protocol floor: new ${beyond(pages.daemonNew)}, again ${beyond(pages.daemonAgain)} (the reply is 15 KB of JSON)`);
    console.log(`  the daemon's first page after it starts (opens the database, derives the key): ${ms(pages.daemonFirst)}`);
    const opening = openingKeys(dbPath);
    console.log('opening the 100 stored keys of a page (AES-256-GCM, each tag checked), median');
    console.log(`  one Node decipher per value (baseline)   ${opening.perValue.toFixed(1)} µs`);
    console.log(`  codec.decryptMany (one AES context)       ${opening.batch.toFixed(1)} µs   ×${(opening.perValue / opening.batch).toFixed(1)} faster`);
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
