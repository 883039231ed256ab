/**
 * `.env` rewrites keep every byte they do not change, and the file's mode, owner and group — or
 * refuse and say why (issue 12 item 7). Through `migrate-keys --update-env` (dist/cli.js) on a
 * `.env` holding non-UTF-8 bytes, CRLF and a group-readable mode; and through the daemon's
 * gptLoad/env/write run as an unprivileged user on a file it may write but not own.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { codecFor } from '../../server/core/crypto';
import { createGptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';
import { DEFAULT_CAPABILITIES, SERVER_JS } from '../protocol/daemon';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const OLD = 'env-bytes-old-key-Qm7-Lp2-Zx90-aa';
const NEW = 'env-bytes-new-Kv-Vb3-Nw8-Kq55-bb';
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Another user can reach the daemon's bundle: every folder above it searchable by others, the file readable. */
function othersCanRead(file: string): boolean {
  if ((statSync(file).mode & 0o004) === 0) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

test('migrate-keys --update-env changes only the ENCRYPTION_KEY bytes: non-UTF-8 values, CRLF, mode and group stay', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, encryptionKey: OLD, env: true });
  assert.ok(db);
  const envPath = join(db.envDir, '.env');
  const text = readFileSync(envPath, 'latin1');
  // A latin1 comment and note, a stray 0xFF, CRLF line ends.
  const before = Buffer.from(`# caf\xe9 cr\xe8me\r\n${text.replace(/\n/g, '\r\n')}NOTE=gr\xfc\xdfe \xff\r\n`, 'latin1');
  writeFileSync(envPath, before);
  chmodSync(envPath, 0o640);
  if (isRoot) chownSync(envPath, 0, NOBODY);
  const r = spawnSync(process.execPath, [CLI, 'migrate-keys', '--from-env', 'OLD_KEY', '--to-env', 'NEW_KEY', '--update-env', '--yes', '--no-backup'], {
    cwd: db.envDir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: process.env.PATH, LANG: 'C', OLD_KEY: OLD, NEW_KEY: NEW },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const after = readFileSync(envPath);
  const expected = Buffer.from(before.toString('latin1').replace(`ENCRYPTION_KEY=${OLD}`, `ENCRYPTION_KEY=${NEW}`), 'latin1');
  assert.ok(after.equals(expected), `bytes changed beyond the key:\n${JSON.stringify(after.toString('latin1'))}`);
  const st = statSync(envPath);
  assert.equal(st.mode & 0o777, 0o640);
  if (isRoot) assert.deepEqual([st.uid, st.gid], [0, NOBODY]);
  const store = await db.open({ readonly: true });
  try {
    const [row] = await store.query<{ key_value: string }>('SELECT key_value FROM api_keys ORDER BY id LIMIT 1');
    assert.doesNotThrow(() => codecFor(NEW).decrypt(row.key_value));
  } finally {
    await store.close();
  }
});

/** The daemon started as `nobody`, initialized; env/write answers or fails. */
async function daemonAsNobody(t: TestContext) {
  const child = spawn(process.execPath, [SERVER_JS, '--stdio'], { stdio: 'pipe', uid: NOBODY, gid: NOBODY });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  t.after(() => rpc.dispose());
  await rpc.sendRequest('initialize', { processId: process.pid, rootUri: null, locale: 'en', capabilities: DEFAULT_CAPABILITIES });
  await rpc.sendNotification('initialized', {});
  return rpc;
}

test('an unprivileged rewrite keeps owner, group and mode, or refuses and says why', { skip: !isRoot ? 'needs root to run the daemon as another user' : !othersCanRead(SERVER_JS) && `user nobody cannot read ${SERVER_JS} (a folder above it is private)` }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'glk-envown-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  const rpc = await daemonAsNobody(t);

  // Group-writable, owned by root: nobody may write it, but a rename would hand it to nobody.
  const shared = join(dir, 'shared.env');
  writeFileSync(shared, 'AUTH_KEY=old-shared-auth-key-Kp0w-Mn44\n');
  chownSync(shared, 0, NOBODY);
  chmodSync(shared, 0o660);
  const sharedBefore = readFileSync(shared);
  await assert.rejects(rpc.sendRequest('gptLoad/env/write', { envFile: shared, key: 'AUTH_KEY', value: 'new-shared-auth-key-Zq81-Lm2Kp0' }), (err: Error) => {
    assert.match(err.message, /owned by uid 0, gid 65534; rewriting it as uid 65534 cannot keep that owner and group .*left unchanged/);
    return true;
  });
  assert.ok(readFileSync(shared).equals(sharedBefore), 'left unchanged');
  assert.deepEqual([statSync(shared).uid, statSync(shared).gid, statSync(shared).mode & 0o777], [0, NOBODY, 0o660]);

  // Its own file: rewritten, mode kept.
  const own = join(dir, 'own.env');
  writeFileSync(own, 'AUTH_KEY=old-own-auth-key-Kp0w-Mn44\n');
  chownSync(own, NOBODY, NOBODY);
  chmodSync(own, 0o640);
  await rpc.sendRequest('gptLoad/env/write', { envFile: own, key: 'AUTH_KEY', value: 'new-own-auth-key-Zq81-Lm2Kp0-x' });
  assert.equal(readFileSync(own, 'utf8'), 'AUTH_KEY=new-own-auth-key-Zq81-Lm2Kp0-x\n');
  assert.deepEqual([statSync(own).uid, statSync(own).gid, statSync(own).mode & 0o777], [NOBODY, NOBODY, 0o640]);
});
