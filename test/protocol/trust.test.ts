/**
 * Restricted Mode (issue 12 item 1): a hostile repository whose git config runs a command
 * (core.fsmonitor), whose .env points every connection (database, Redis, GPT-Load's health port) at
 * a listener of the test. Untrusted, the daemon lints and runs nothing, connects nowhere, and every
 * keystore request answers the 'untrusted' error; trusted, git runs hardened and the command never runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { Hover } from 'vscode-languageserver-protocol';
import { KeystoreErrorCodes } from '../../shared/protocol';
import { fileUri, startDaemon } from './daemon';

interface HostileRepo {
  dir: string;
  envPath: string;
  text: string;
  pwned: string;
  connections: () => number;
}

/** A git work tree whose fsmonitor hook would create PWNED, and a .env whose every host is our listener. */
async function hostileRepo(t: TestContext): Promise<HostileRepo> {
  const dir = mkdtempSync(join(tmpdir(), 'glk-trust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pwned = join(dir, 'PWNED');
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['config', 'core.fsmonitor', `touch '${pwned}'; false`], { cwd: dir });
  execFileSync('git', ['config', 'core.hooksPath', join(dir, 'hooks')], { cwd: dir });
  let connections = 0;
  const listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const port = (listener.address() as AddressInfo).port;
  const text = [
    `DATABASE_DSN=gptload:s3cret-db-pass@tcp(127.0.0.1:${port})/gptload`,
    `REDIS_DSN=redis://:s3cret-redis@127.0.0.1:${port}/0`,
    'HOST=127.0.0.1',
    `PORT=${port}`,
    'AUTH_KEY=sk-trust-test-admin-Kp0w-Mn44-Zq81',
    'ENCRYPTION_KEY=trust-test-encryption-key-Lq2-Xyz-7',
    '',
  ].join('\n');
  const envPath = join(dir, '.env');
  writeFileSync(envPath, text);
  return { dir, envPath, text, pwned, connections: () => connections };
}

/** A `git` first on PATH that records that it ran, then runs nothing. */
function gitSpy(t: TestContext): { env: NodeJS.ProcessEnv; ran: () => boolean } {
  const bin = mkdtempSync(join(tmpdir(), 'glk-gitspy-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const marker = join(bin, 'git-ran');
  mkdirSync(join(bin, 'bin'));
  writeFileSync(join(bin, 'bin', 'git'), `#!/bin/sh\ntouch '${marker}'\nexit 128\n`);
  chmodSync(join(bin, 'bin', 'git'), 0o755);
  return { env: { PATH: `${join(bin, 'bin')}${delimiter}${process.env.PATH ?? ''}` }, ran: () => existsSync(marker) };
}

const KEYSTORE_REQUESTS: Array<[string, (envFile: string) => object]> = [
  ['gptLoad/status', (envFile) => ({ envFile })],
  ['gptLoad/status/summary', (envFile) => ({ envFile })],
  ['gptLoad/service/check', (envFile) => ({ envFile })],
  ['gptLoad/groups', (envFile) => ({ envFile })],
  ['gptLoad/keys', (envFile) => ({ envFile })],
  ['gptLoad/revealKey', (envFile) => ({ envFile, id: 1 })],
  ['gptLoad/migrate', (envFile) => ({ envFile, dryRun: true })],
  ['gptLoad/keyBackups', (envFile) => ({ envFile, copies: [] })],
  ['gptLoad/proxyKeys/list', (envFile) => ({ envFile })],
  ['gptLoad/backup/create', (envFile) => ({ envFile })],
  ['gptLoad/backup/list', (envFile) => ({ envFile })],
  ['gptLoad/backup/check', (envFile) => ({ envFile, file: join(envFile, '..', 'data', 'backups', 'x.db') })],
  ['gptLoad/backup/restore', (envFile) => ({ envFile, file: join(envFile, '..', 'data', 'backups', 'x.db'), dryRun: true })],
];

test('untrusted: lint only — no git, no connection, every keystore request refused as untrusted', async (t) => {
  const repo = await hostileRepo(t);
  const spy = gitSpy(t);
  const daemon = await startDaemon(t, { env: spy.env, initializationOptions: { trusted: false, databaseDiagnostics: false } });
  const uri = fileUri(repo.envPath);
  const linted = daemon.diagnostics(uri);
  daemon.open(uri, repo.text);
  await linted;

  const hover = (await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 5, character: 2 } })) as Hover;
  // The hover still reads the .env, but says nothing of the stored keys: no database was asked.
  assert.match(JSON.stringify(hover.contents), /GPT-Load reads/);
  assert.doesNotMatch(JSON.stringify(hover.contents), /Stored keys/);
  for (const [method, params] of KEYSTORE_REQUESTS) {
    await assert.rejects(daemon.rpc.sendRequest(method, params(repo.envPath)), (err: ResponseError<{ code: string }>) => {
      assert.equal(err.code, KeystoreErrorCodes.untrusted, method);
      assert.equal(err.data?.code, 'untrusted');
      assert.match(err.message, /workspace is not trusted/);
      return true;
    });
  }
  // Offline requests still work: the .env is read and secrets generated without any process or connection.
  const read = (await daemon.rpc.sendRequest('gptLoad/env/read', { envFile: repo.envPath })) as object;
  assert.ok(read);
  await daemon.rpc.sendRequest('gptLoad/generateSecret', { name: 'AUTH_KEY' });
  await daemon.stop();

  assert.equal(spy.ran(), false, 'git was never started');
  assert.equal(existsSync(repo.pwned), false, 'the repository command never ran');
  assert.equal(repo.connections(), 0, 'no connection was opened');
  assert.doesNotMatch(daemon.stderr(), /s3cret/);
});

test('a client that sends trusted: false without databaseDiagnostics is untrusted all the same', async (t) => {
  const repo = await hostileRepo(t);
  const daemon = await startDaemon(t, { initializationOptions: { trusted: false } });
  const uri = fileUri(repo.envPath);
  const linted = daemon.diagnostics(uri);
  daemon.open(uri, repo.text);
  await linted;
  await assert.rejects(daemon.rpc.sendRequest('gptLoad/status', { envFile: repo.envPath }), { code: KeystoreErrorCodes.untrusted });
  await daemon.stop();
  assert.equal(existsSync(repo.pwned), false);
  assert.equal(repo.connections(), 0);
});

test('trusted: git answers with fsmonitor and hooks switched off — the repository command never runs', async (t) => {
  const repo = await hostileRepo(t);
  const daemon = await startDaemon(t, { initializationOptions: { trusted: true, databaseDiagnostics: false } });
  const uri = fileUri(repo.envPath);
  // git's answer lands as a new publication: "not ignored".
  const gitAnswered = daemon.diagnostics(uri, (d) => d.some((x) => x.code === 'env-not-ignored'));
  daemon.open(uri, repo.text);
  await gitAnswered;
  await daemon.stop();
  assert.equal(existsSync(repo.pwned), false, 'core.fsmonitor did not run');
  assert.equal(repo.connections(), 0, 'databaseDiagnostics: false still opens nothing');
});
