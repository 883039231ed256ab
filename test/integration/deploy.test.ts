/**
 * Key changes GPT-Load will actually see (#13 items 1–5), through the built CLI (`dist/cli.js`)
 * against SQLite, MariaDB and PostgreSQL deployments laid out as operators have them: `.env`,
 * `docker-compose.yml` (+ override, env_file, interpolation), `data/`. Every refusal leaves every
 * row and every file byte as it was.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../server/cli';
import type { CliIO } from '../../server/cli/command';
import { keyFingerprint } from '../../server/core/crypto';
import { resolveComposeDeployment } from '../../server/core/compose';
import { loadEnv } from '../../server/core/env/read';
import { createGptLoadDatabase, ENGINES, type Engine, type GptLoadDatabase } from '../support/databases';
import { assertGptLoadReads, closedPort, dumpDatabase, startFakeGptLoad } from '../support/gptload';
import { STOCK_GPT_LOAD_SERVICE } from '../support/compose';
import { REPO_ROOT } from '../support/paths';

const K1 = 'Rw5-current.Lq8-Vn3-Tx0-Hb6-Pz9-Mc2';
const K2 = 'Gd7-rotated.Yk4-Fs1-Qe8-Wn5-Jb3-Xa6';
const WEAK = 'GptLoad-encryption-key-2026';

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js …` as an operator runs it: no terminal, a clean environment plus `env`. Async: a fake GPT-Load in this process must answer meanwhile. */
async function cli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Cli> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), ...args], {
    cwd,
    env: { PATH: process.env.PATH, LANG: 'C', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

async function deployment(t: TestContext, engine: Engine, envExtra: Record<string, string> = {}): Promise<GptLoadDatabase | undefined> {
  return createGptLoadDatabase(t, engine, { keys: 60, logs: 30, encryptionKey: K1, env: { PORT: String(await closedPort()), ...envExtra } });
}

/** Every row of every table, and the bytes of every file of the deployment folder. */
async function snapshot(db: GptLoadDatabase): Promise<{ rows: string; files: Record<string, string> }> {
  const store = await db.open();
  let rows: string;
  try {
    rows = createHash('sha256').update(await dumpDatabase(store)).digest('hex');
  } finally {
    await store.close();
  }
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[path.slice(db.envDir.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(db.envDir);
  return { rows, files };
}

async function assertNothingChanged(db: GptLoadDatabase, before: Awaited<ReturnType<typeof snapshot>>, what: string): Promise<void> {
  assert.deepEqual(await snapshot(db), before, `${what}: not one row or file byte changed`);
}

async function assertReadsWith(db: GptLoadDatabase, key: string): Promise<void> {
  const store = await db.open();
  try {
    await assertGptLoadReads(store, key, { plaintexts: db.plaintexts });
  } finally {
    await store.close();
  }
}

const envOf = (db: GptLoadDatabase) => loadEnv(join(db.envDir, '.env'), {});

for (const engine of ENGINES) {
  test(`${engine}: --update-env without the .env it would update refuses (exit 3), naming the path and --env; status --env MISSING says so`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;
    const before = await snapshot(db);
    const elsewhere = mkdtempSync(join(tmpdir(), 'glk-elsewhere-'));
    t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
    const dsn = db.target.kind === 'sqlite' ? db.target.path : db.dsn;

    const run = await cli(elsewhere, ['migrate-keys', '--dsn', dsn, '--from-env', 'OLD', '--to-env', 'NEW', '--update-env', '--no-backup'], { OLD: K1, NEW: K2 });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, new RegExp(`${join(elsewhere, '.env').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not exist, so --update-env has no \\.env to update .*--env FILE`));
    assert.deepEqual(readdirSync(elsewhere), [], 'no .env created');
    await assertNothingChanged(db, before, 'missing .env');

    const status = await cli(db.envDir, ['status', '--env', 'MISSING']);
    assert.equal(status.code, 3, status.stderr);
    assert.match(status.stderr, /MISSING does not exist: name GPT-Load's \.env with --env FILE/);
    assert.doesNotMatch(status.stderr, /SQLite/);
  });

  test(`${engine}: Docker Compose settings that would keep GPT-Load on the old key or another database refuse (exit 5, file:line); lint reads Compose files`, async (t) => {
    const db = await deployment(t, engine, { GPT_LOAD_ENC: K1 });
    if (!db) return;
    const compose = join(db.envDir, 'docker-compose.yml');
    const override = join(db.envDir, 'docker-compose.override.yml');
    const migrate = (env: Record<string, string> = {}) =>
      cli(db.envDir, ['migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW', '--update-env', '--no-backup'], { NEW: K2, ...env });

    // 1. A literal key in environment: (list form) overrides env_file: .env.
    writeFileSync(compose, `services:\n${STOCK_GPT_LOAD_SERVICE}    environment:\n      - TZ=UTC\n      - ENCRYPTION_KEY=${K1}\n`);
    let before = await snapshot(db);
    let run = await migrate();
    assert.equal(run.code, 5, run.stderr);
    assert.match(run.stderr, /docker-compose\.yml:12 sets ENCRYPTION_KEY literally under environment: of service gpt-load; it overrides env_file:/);
    assert.match(run.stderr, /"- ENCRYPTION_KEY=\$\{ENCRYPTION_KEY\}"/);
    assert.ok(!run.stderr.includes(K1) && !run.stderr.includes(K2), 'no key printed');
    await assertNothingChanged(db, before, 'literal in environment:');
    // The same file elsewhere, named with --compose (its folder is then the Compose project).
    mkdirSync(join(db.envDir, 'stack'));
    renameSync(compose, join(db.envDir, 'stack', 'gpt-load.yml'));
    before = await snapshot(db);
    run = await cli(db.envDir, ['migrate-keys', '--compose', 'stack/gpt-load.yml', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW', '--update-env', '--no-backup'], { NEW: K2 });
    assert.equal(run.code, 5, run.stderr);
    assert.match(run.stderr, /gpt-load\.yml:12 sets ENCRYPTION_KEY literally/);
    await assertNothingChanged(db, before, '--compose');
    rmSync(join(db.envDir, 'stack'), { recursive: true });

    // 2. The override file (map form) takes it from another variable of the project .env.
    writeFileSync(compose, `services:\n${STOCK_GPT_LOAD_SERVICE}`);
    writeFileSync(override, 'services:\n  gpt-load:\n    environment:\n      ENCRYPTION_KEY: "${GPT_LOAD_ENC:?set it}"\n');
    before = await snapshot(db);
    run = await migrate();
    assert.equal(run.code, 5, run.stderr);
    assert.match(run.stderr, /docker-compose\.override\.yml:4 sets ENCRYPTION_KEY for GPT-Load's container from \$\{GPT_LOAD_ENC\}, which the change to .*\.env does not give it/);
    await assertNothingChanged(db, before, 'override interpolating another variable');

    // 3. ${ENCRYPTION_KEY} in environment: reads .env — unless the shell running compose sets it.
    writeFileSync(override, 'services:\n  gpt-load:\n    environment:\n      - ENCRYPTION_KEY=${ENCRYPTION_KEY}\n');
    before = await snapshot(db);
    run = await migrate({ ENCRYPTION_KEY: K1 });
    assert.equal(run.code, 5, run.stderr);
    assert.match(run.stderr, /docker-compose\.override\.yml:4 sets ENCRYPTION_KEY for GPT-Load's container from ENCRYPTION_KEY, which is set in this shell's environment .* "unset ENCRYPTION_KEY"/);
    await assertNothingChanged(db, before, 'shell variable wins');

    // 4. DATABASE_DSN in environment: names another database than the one being migrated.
    const otherDsn = db.target.kind === 'sqlite' ? './data/other.db' : db.dsn.replace(/glk_test_[0-9a-f]+/, 'glk_elsewhere');
    writeFileSync(override, `services:\n  gpt-load:\n    environment:\n      DATABASE_DSN: "${otherDsn}"\n`);
    before = await snapshot(db);
    run = await cli(db.envDir, ['migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW', '--no-backup'], { NEW: K2 });
    assert.equal(run.code, 5, run.stderr);
    assert.match(run.stderr, /GPT-Load's container \(service gpt-load\) uses .* \(set at docker-compose\.override\.yml:4\), not .*: after migrating this one, GPT-Load would restart on data still under the old key/);
    await assertNothingChanged(db, before, 'another database');

    // 5. As the docs ship it, with ${ENCRYPTION_KEY} in the override: the container gets the new key.
    writeFileSync(override, 'services:\n  gpt-load:\n    environment:\n      - ENCRYPTION_KEY=${ENCRYPTION_KEY}\n');
    run = await migrate();
    assert.equal(run.code, 0, run.stderr);
    assert.equal(resolveComposeDeployment(db.envDir)!.effectiveVariable('ENCRYPTION_KEY').value, K2);
    await assertReadsWith(db, K2);

    // lint on a Compose file: the daemon's finding, by name and by content.
    writeFileSync(compose, `services:\n${STOCK_GPT_LOAD_SERVICE}    environment:\n      AUTH_KEY: literal-admin-login-Wq3-Zr8\n`);
    const lint = await cli(db.envDir, ['lint', 'docker-compose.yml']);
    assert.equal(lint.code, 0, lint.stderr);
    assert.equal(lint.stdout, 'docker-compose.yml:11:17 warning compose-literal-secret AUTH_KEY is written literally in docker-compose.yml (service gpt-load): whoever reads this file or its Git history has it. Move it to .env and reference it as ${AUTH_KEY}.\n');
    writeFileSync(join(db.envDir, 'stack.yml'), readFileSync(compose));
    assert.deepEqual(JSON.parse((await cli(db.envDir, ['lint', 'stack.yml', '--format', 'json'])).stdout).map((f: { code: string }) => f.code), ['compose-literal-secret']);
    // Plain `lint` checks the .env and the Compose file beside it.
    const plain = JSON.parse((await cli(db.envDir, ['lint', '--format', 'json'])).stdout) as Array<{ file: string; code: string }>;
    assert.deepEqual(plain.filter((f) => f.file === 'docker-compose.yml').map((f) => f.code), ['compose-literal-secret']);
  });

  test(`${engine}: --from-env / --to-env take NAME from the process environment, else from the .env as GPT-Load reads it`, async (t) => {
    const db = await deployment(t, engine, { NEXT_ENCRYPTION_KEY: K2 });
    if (!db) return;
    // The process environment wins over the .env.
    const dry = await cli(db.envDir, ['migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEXT_ENCRYPTION_KEY', '--dry-run', '--json'], { NEXT_ENCRYPTION_KEY: 'Zx9-from-shell.Uh2-Rm7-Vc4-Np1-Wq8-Ed5' });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(JSON.parse(dry.stdout).toFingerprint, keyFingerprint('Zx9-from-shell.Uh2-Rm7-Vc4-Np1-Wq8-Ed5'));
    const missing = await cli(db.envDir, ['migrate-keys', '--from-env', 'NO_SUCH_KEY', '--to-env', 'NEXT_ENCRYPTION_KEY']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /--from-env NO_SUCH_KEY: NO_SUCH_KEY is set neither in the environment nor in .*\.env/);

    const run = await cli(db.envDir, ['migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEXT_ENCRYPTION_KEY', '--update-env', '--no-backup']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(envOf(db).get('ENCRYPTION_KEY'), K2);
    await assertReadsWith(db, K2);
  });

  test(`${engine}: a new key GPT-Load's dashboard would flag is refused where nobody confirms it, unless --allow-weak-key`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;
    const before = await snapshot(db);
    for (const [what, extra, env] of [
      ['no terminal', [], {}],
      ['--yes', ['--yes'], {}],
      ['CI', [], { CI: 'true' }],
    ] as const) {
      const run = await cli(db.envDir, ['migrate-keys', '--from-env', 'OLD', '--to-env', 'WEAK', '--update-env', ...extra], { OLD: K1, WEAK, ...env });
      assert.equal(run.code, 3, `${what}: ${run.stderr}`);
      assert.match(run.stderr, /the new key is one GPT-Load's dashboard would flag: ENCRYPTION_KEY is short \(27 characters\), recommend 32\+ characters; ENCRYPTION_KEY contains common weak password patterns: key\. .*--allow-weak-key/);
      await assertNothingChanged(db, before, what);
    }
    const allowed = await cli(db.envDir, ['migrate-keys', '--from-env', 'OLD', '--to-env', 'WEAK', '--update-env', '--allow-weak-key', '--no-backup'], { OLD: K1, WEAK });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /warning: ENCRYPTION_KEY contains common weak password patterns: key/);
    assert.match(allowed.stdout, /^Done: change the encryption key/);
    assert.doesNotMatch(allowed.stdout, /weak password/, 'the warnings came before the write, not after "Done"');
    await assertReadsWith(db, WEAK);
  });

  test(`${engine}: rerunning a finished command exits 0 with "nothing to do", changing nothing — also with GPT-Load running again`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;
    writeFileSync(join(db.envDir, 'docker-compose.yml'), `services:\n${STOCK_GPT_LOAD_SERVICE}`);
    const args = ['migrate-keys', '--from-env', 'OLD', '--to-env', 'NEW', '--update-env'];
    const first = await cli(db.envDir, args, { OLD: K1, NEW: K2 });
    assert.equal(first.code, 0, first.stderr);
    const before = await snapshot(db);

    const again = await cli(db.envDir, args, { OLD: K1, NEW: K2 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to do \(already done\): change the encryption key/);
    assert.match(again.stdout, /nothing to do: every stored key is already under key [0-9a-f]{16} and .*\.env already says so/);
    await assertNothingChanged(db, before, 'rerun');

    // Configuration management reruns it after the restart: GPT-Load answers /health again.
    const gptLoad = await startFakeGptLoad(t);
    writeFileSync(join(db.envDir, '.env'), readFileSync(join(db.envDir, '.env'), 'utf8').replace(/^PORT=\d+$/m, `PORT=${gptLoad.port}`));
    const running = await snapshot(db);
    const whileRunning = await cli(db.envDir, [...args, '--json'], { OLD: K1, NEW: K2 });
    assert.equal(whileRunning.code, 0, whileRunning.stderr);
    assert.equal(JSON.parse(whileRunning.stdout).outcome, 'nothing-to-do');
    await assertNothingChanged(db, running, 'rerun while running');
    // Anything left to do still waits for GPT-Load to stop.
    const other = await cli(db.envDir, ['migrate-keys', '--from-env', 'NEW', '--to-env', 'OLD'], { OLD: K1, NEW: K2 });
    assert.equal(other.code, 6, other.stderr);
  });

  test(`${engine}: rerunning "--from-env ENCRYPTION_KEY" (the .env's key) after it succeeded exits 0 with "nothing to do"`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;
    // ENCRYPTION_KEY is not in the process environment: --from-env reads it from the .env, which the first run rewrites.
    const args = ['migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW', '--update-env', '--no-backup'];
    const first = await cli(db.envDir, args, { NEW: K2 });
    assert.equal(first.code, 0, first.stderr);
    const before = await snapshot(db);
    const again = await cli(db.envDir, args, { NEW: K2 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to do \(already done\): every stored key is under key [0-9a-f]{16} and .*\.env already says so/);
    await assertNothingChanged(db, before, 'rerun');
    // The same key on both sides where the data is not under it is still the usage error.
    const wrong = await cli(db.envDir, ['migrate-keys', '--from-env', 'OLD', '--to-env', 'OLD'], { OLD: K1 });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /the new key is the same as the old key/);
  });
}

test("sqlite: on a terminal, a weak new key's warnings come with the plan, before the confirmation", async (t) => {
  const db = await deployment(t, 'sqlite');
  if (!db) return;
  const before = await snapshot(db);
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  let err = '';
  const stderr = new PassThrough().on('data', (d) => (err += d));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin, env: { OLD: K1, WEAK }, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
  const pending = runCli(['migrate-keys', '--from-env', 'OLD', '--to-env', 'WEAK', '--update-env'], io);
  while (!err.includes('Type "yes"')) await new Promise((r) => setTimeout(r, 20));
  assert.match(err, /About to change the encryption key[\s\S]*warning: ENCRYPTION_KEY is short \(27 characters\)[\s\S]*warning: ENCRYPTION_KEY contains common weak password patterns: key\n[\s\S]*Proceed\? Type "yes": $/);
  stdin.write('no\n');
  assert.equal(await pending, 130);
  await assertNothingChanged(db, before, 'not confirmed');
});
