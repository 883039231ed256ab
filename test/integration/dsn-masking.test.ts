/**
 * DSN passwords never echoed (issue 12 item 3): DSNs GPT-Load reads as SQLite paths (libpq
 * key/value, MySQL `@unix(…)`, URLs of other schemes) and the forms it connects with, given in
 * `.env` or `--dsn`, through dist/cli.js and through the daemon's replies, hovers and diagnostics.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Hover } from 'vscode-languageserver-protocol';
import { maskDsn } from '../../server/store/dsn';
import { REPO_ROOT } from '../support/paths';
import { fileUri, startDaemon } from '../protocol/daemon';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const PASSWORD = 'Pw-leak-9q7Z';

const DSNS = [
  `host=db port=5432 user=gptload password=${PASSWORD} dbname=gptload sslmode=disable`,
  `host=db user=gptload password='${PASSWORD} with space' dbname=gptload`,
  `gptload:${PASSWORD}@unix(/run/mysqld/mysqld.sock)/gptload?charset=utf8mb4`,
  `mysql://gptload:${PASSWORD}@db:3306/gptload`,
  `gptload:${PASSWORD}@tcp(127.0.0.1:1)/gptload?timeout=1s`,
  `postgres://gptload:${PASSWORD}@127.0.0.1:1/gptload?connect_timeout=1`,
];

function deploymentDir(t: TestContext, dsn: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-dsnmask-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.env'), `DATABASE_DSN=${dsn.includes("'") ? `"${dsn}"` : dsn}\nENCRYPTION_KEY=\n`);
  return dir;
}

test('maskDsn masks the password of every DSN form and leaves other text alone', () => {
  for (const dsn of DSNS) {
    const masked = maskDsn(`No SQLite database at /srv/gpt-load/${dsn}. Check DATABASE_DSN.`);
    assert.ok(!masked.includes(PASSWORD), masked);
    assert.match(masked, /\*\*\*\*/);
  }
  assert.equal(maskDsn('postgres://u@h/db?password=x&sslmode=require'), 'postgres://u@h/db?password=****&sslmode=require');
  const plain = 'Error: No SQLite database at /srv/data/gpt-load.db (see https://example.com/docs).';
  assert.equal(maskDsn(plain), plain);
});

for (const dsn of DSNS) {
  test(`CLI: status with DATABASE_DSN ${maskDsn(dsn)} fails without echoing the password (.env and --dsn)`, (t) => {
    const dir = deploymentDir(t, dsn);
    for (const args of [['status'], ['status', '--dsn', dsn], ['backup', 'create']]) {
      const r = spawnSync(process.execPath, [CLI, ...args, '--timeout', '2'], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, LANG: 'C' } });
      assert.notEqual(r.status, 0, `${args.join(' ')} fails`);
      assert.ok(r.stderr.length > 0);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), `${args.join(' ')} echoed the password: ${r.stderr}`);
    }
  });
}

test('daemon: replies, hovers, diagnostics and logs never carry the password', async (t) => {
  const daemon = await startDaemon(t, { args: ['--log-level', 'trace'] });
  for (const dsn of DSNS) {
    const dir = deploymentDir(t, dsn);
    const envFile = join(dir, '.env');
    await assert.rejects(daemon.rpc.sendRequest('gptLoad/status', { deployment: { envFile } }), (err: Error) => {
      assert.ok(!err.message.includes(PASSWORD), err.message);
      return true;
    });
    await assert.rejects(daemon.rpc.sendRequest('gptLoad/status', { deployment: { envFile, dsn } }), (err: Error) => !err.message.includes(PASSWORD));
    const uri = fileUri(envFile);
    let published = 0;
    // Lint first, then the database check's findings.
    const checked = daemon.diagnostics(uri, () => ++published === 2);
    const text = `DATABASE_DSN=${dsn.includes("'") ? `"${dsn}"` : dsn}\n`;
    daemon.open(uri, text);
    const diagnostics = await checked;
    assert.ok(!JSON.stringify(diagnostics).includes(PASSWORD), JSON.stringify(diagnostics));
    const hover = (await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 2 } })) as Hover | null;
    assert.ok(!JSON.stringify(hover).includes(PASSWORD), JSON.stringify(hover));
    daemon.close(uri);
  }
  await daemon.stop();
  assert.ok(!daemon.stderr().includes(PASSWORD), 'the log');
});
