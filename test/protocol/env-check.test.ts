/**
 * The daemon's background check of an open .env and `gpt-load-keystore status` classify stored
 * keys alike: for the same database the editor's state and figures are the CLI's — rows GPT-Load's
 * history leaves (no key_hash, a wrong key_hash, another key's ciphertexts) included.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EnvDatabaseStatusNotification, type EnvDatabaseStatus, type StatusReport } from '../../shared/protocol';
import { createHistoryDatabase, type HistoryOptions } from '../support/history';
import { REPO_ROOT } from '../support/paths';
import { fileUri, startDaemon } from './daemon';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

const cases: Array<{ name: string; options: HistoryOptions; state: StatusReport['state'] }> = [
  { name: 'encryption off, a plaintext row without key_hash', options: { encryptionKey: '' }, state: 'not-encrypted' },
  { name: "under a key, rows with a missing or wrong key_hash and another key's row", options: { undecryptable: true }, state: 'mixed' },
];

for (const { name, options, state } of cases) {
  test(`the .env check and status classify api_keys alike: ${name} (SQLite)`, async (t) => {
    const db = await createHistoryDatabase(t, 'sqlite', options);
    assert.ok(db);
    const cli = spawnSync(process.execPath, [CLI, 'status', '--json', '--skip-logs'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
    assert.ok(cli.status === 0 || cli.status === 1, `exit ${cli.status}: ${cli.stderr}`);
    const report = JSON.parse(cli.stdout) as StatusReport;
    assert.equal(report.state, state);

    const daemon = await startDaemon(t);
    const envFile = join(db.envDir, '.env');
    const uri = fileUri(envFile);
    const checked = new Promise<EnvDatabaseStatus>((resolve) =>
      daemon.rpc.onNotification(EnvDatabaseStatusNotification.method, (p: EnvDatabaseStatusNotification.Params) => {
        if (p.uri === uri) resolve(p.status);
      }),
    );
    daemon.open(uri, readFileSync(envFile, 'utf8'));
    const status = await checked;

    const keys = report.apiKeys;
    assert.deepEqual(
      { state: status.state, basis: status.basis, sampled: status.sampled, totalKeys: status.totalKeys, keyFingerprint: status.keyFingerprint },
      { state: report.state, basis: 'exact', sampled: keys.total, totalKeys: keys.total, keyFingerprint: report.keyFingerprint },
    );
    // The editor's figures fold status's finer kinds: plaintext with or without key_hash, decrypting with a right or wrong one.
    assert.equal(status.plaintext, keys.plaintext + (keys.noHash ?? 0));
    assert.equal(status.decrypting, keys.encrypted + (keys.wrongHash ?? 0));
  });
}
