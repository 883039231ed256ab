/**
 * The CLI as an operator installs it on a server without the repository (#13 item 8): `npm run
 * pack:cli` makes gpt-load-keystore-<version>.tgz, `npm install -g --prefix TMP` installs it (npm
 * builds or fetches better-sqlite3 for this Node), and the installed `bin` works from folders outside
 * the repository on real SQLite, MariaDB and PostgreSQL deployments. .ci/run installs the tarball
 * itself and passes the prefix in GLK_CLI_PREFIX, so the slow install happens once.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { createGptLoadDatabase, ENGINES } from '../support/databases';
import { closedPort } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const NEW = 'Qm4-second_Kv.9876543210zyxwvuTS';
const VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
let bin = '';

/** The installed bin runs with a bare environment: nothing of the repository or of `npm test` leaks in. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = { PATH: process.env.PATH }) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', input: '', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** npm needs this machine's settings (proxy, CA certificates) but none of the `npm test` run's npm_* variables. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

before(() => {
  let prefix = process.env.GLK_CLI_PREFIX;
  if (!prefix) {
    const dir = mkdtempSync(join(tmpdir(), 'glk-install-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const pack = run(process.execPath, [join(REPO_ROOT, 'scripts', 'pack-cli.mjs'), '--out', dir], REPO_ROOT);
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = pack.stdout.trim();
    assert.equal(tarball, join(dir, `gpt-load-keystore-${VERSION}.tgz`));
    prefix = join(dir, 'prefix');
    const install = run('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, tarball], dir, npmEnv());
    assert.equal(install.code, 0, install.stderr);
  }
  bin = join(prefix, 'bin', 'gpt-load-keystore');
  assert.ok(existsSync(bin), `${bin} installed`);
});

test('the installed gpt-load-keystore answers --version and "did you mean" from a folder outside the repository', (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'glk-elsewhere-'));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  const version = run(bin, ['--version'], elsewhere);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `${VERSION}\n`);
  const typo = run(bin, ['stauts'], elsewhere);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command 'stauts'; did you mean 'status'\?/);
});

for (const engine of ENGINES) {
  test(`${engine}: the installed gpt-load-keystore runs status and migrate-keys in a deployment folder`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 40, logs: 10, env: { PORT: String(await closedPort()) } });
    if (!db) return;
    const before = run(bin, ['status', '--json'], db.envDir);
    // Plaintext keys need attention (exit 1), as GPT-Load's dashboard says of unencrypted data.
    assert.equal(before.code, 1, before.stderr);
    assert.deepEqual([JSON.parse(before.stdout).keyFingerprint, JSON.parse(before.stdout).apiKeys.plaintext], ['plaintext', 40]);

    const migrate = run(bin, ['migrate-keys', '--to-env', 'NEW', '--update-env', '--yes'], db.envDir, { PATH: process.env.PATH, NEW });
    assert.equal(migrate.code, 0, migrate.stderr + migrate.stdout);
    assert.match(migrate.stdout, /rewrote 40 keys and 10 request logs/);

    const after = run(bin, ['status', '--json'], db.envDir);
    assert.equal(after.code, 0, after.stderr + after.stdout);
    const report = JSON.parse(after.stdout);
    assert.deepEqual([report.state, report.dashboard.verdict, report.keyFingerprint, report.apiKeys.encrypted], ['ok', null, codecFor(NEW).fingerprint, 40]);
  });
}
