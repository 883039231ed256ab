// Backups and copies of ENCRYPTION_KEY in a real VS Code, on the trusted workspace's SQLite deployment
// (../deployment.ts): Save a Copy of ENCRYPTION_KEY, Create Backup and the explorer's Backups node,
// Check Key Backups (a saved copy and a pasted wrong key) and its reminder, a corrupted backup, a
// Restore Backup round trip that first waits for a running GPT-Load to stop, previews each table's
// rows now against the backup's and warns when GPT-Load's Redis cache could not be cleared, and a backup that needs
// the old key after a key change (found by fingerprint among the saved copies). Runs after
// extension.test.ts (files run sorted), whose migration encrypted the keys; run alone, it encrypts them.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BackupCheckResult, BackupInfo, StatusReport } from '../../../shared/protocol';
import type { KeyCheckReport } from '../../../client/src/commands/checkKeyBackups';
import type { RestoreOutcome } from '../../../client/src/commands/restoreBackup';
import type { TestApi } from '../../../client/src/extension';
import type { BackupNode } from '../../../client/src/views/backupNodes';
import type { DeploymentNode, ExplorerNode } from '../../../client/src/views/keyExplorer';
import { extensionApi, script } from './support/api';
import { envValue, readFixture, type Fixture } from './support/fixture';

const DAY_MS = 24 * 3600 * 1000;
const WRONG_KEY = 'not-the-key-0123456789abcdefghijklmn';

/** Everything a tree row shows. */
function shown(api: TestApi, node: ExplorerNode): string {
  const item = api.explorer.getTreeItem(node);
  return [typeof item.label === 'string' ? item.label : item.label?.label, item.description, typeof item.tooltip === 'string' ? item.tooltip : ''].join(' ');
}

suite('GPT-Load Keystore backups and key copies', () => {
  let api: TestApi;
  let fixture: Fixture;
  let encryptionKey: string;
  let backup: BackupInfo;
  /** A backup taken under the first key, for the key-change test. */
  let beforeChange: BackupInfo;

  async function backupRows(): Promise<BackupNode[]> {
    const root = (await api.explorer.getChildren()).find((n): n is DeploymentNode => n.kind === 'deployment' && n.deployment.envFile === fixture.envFile);
    assert.ok(root, 'no node for the SQLite deployment');
    const node = (await api.explorer.getChildren(root)).find((n) => n.kind === 'backups');
    assert.ok(node, 'no Backups node');
    return (await api.explorer.getChildren(node)).filter((n): n is BackupNode => n.kind === 'backup');
  }

  /** No prompt or notification of the run shows a key. */
  function assertNoKeyShown(ui: ReturnType<typeof script>['ui'], keys: string[]): void {
    for (const prompt of ui.prompts) {
      const text = `${prompt.message ?? ''} ${prompt.detail ?? ''}`;
      for (const key of keys) assert.ok(!text.includes(key), `a key is shown in '${prompt.step}'`);
    }
  }

  suiteSetup(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    this.timeout(180_000);
    fixture = readFixture();
    api = await extensionApi();
    const status = await vscode.commands.executeCommand<StatusReport>('gptLoad.showStatus', fixture.envFile, { open: false });
    if (!status.encryptionEnabled) {
      const { ui } = script(api);
      ui.answer('action', 'enable').answer('newKeyMethod', 'generate').answer('backup', 'skip').answer('saveKey', ['clipboard']).answer('confirm', 'migrate');
      ui.answer('confirmLast4', () => (api.ctx.clipboard.target as unknown as { text: string }).text.slice(-4));
      await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile);
    }
    encryptionKey = envValue(fixture.envFile, 'ENCRYPTION_KEY') ?? '';
    assert.ok(encryptionKey.length >= 16, 'the deployment is not encrypted');
  });

  test('Save a Copy of ENCRYPTION_KEY keeps the .env\'s key once, labelled by deployment and date', async () => {
    const { ui } = script(api);
    ui.answer('keyCopySource', 'env');
    const saved = await vscode.commands.executeCommand<{ id: string; fingerprint: string; existed: boolean }>('gptLoad.saveKeyCopy', fixture.envFile);
    assert.ok(saved?.id);
    const copies = api.ctx.keyCopies.list(fixture.envFile).filter((c) => c.fingerprint === saved.fingerprint);
    assert.equal(copies.length, 1, 'the same key was saved twice');
    assert.equal(await api.ctx.keyCopies.value(copies[0]), encryptionKey);
    assert.equal(copies[0].deployment, (await api.ctx.deployments.forEnvFile(fixture.envFile)).label);
    assert.ok(!Number.isNaN(Date.parse(copies[0].savedAt)));
    // Saved again: recognised, not duplicated.
    ui.answer('keyCopySource', 'env');
    const again = await vscode.commands.executeCommand<{ id: string; existed: boolean }>('gptLoad.saveKeyCopy', fixture.envFile);
    assert.deepEqual([again?.id, again?.existed], [saved.id, true]);
    // The labels live in globalState, the key only in secret storage.
    assert.ok(!JSON.stringify(api.ctx.extension.globalState.get('gptLoad.keyCopies')).includes(encryptionKey), 'a key is in globalState');
    assertNoKeyShown(ui, [encryptionKey]);
  });

  test('Create Backup writes a verified backup; the Backups node lists it as working with the current key', async () => {
    const { ui } = script(api);
    backup = await vscode.commands.executeCommand<BackupInfo>('gptLoad.createBackup', fixture.envFile);
    assert.ok(backup && existsSync(backup.path), `no backup file: ${backup?.path}`);
    assert.equal(backup.rows.api_keys, fixture.keys);
    assert.equal(backup.keyFingerprint, api.ctx.keyCopies.list(fixture.envFile)[0].fingerprint);
    const [created] = ui.prompts.filter((p) => p.step === 'backupCreated');
    assert.ok(created?.message?.includes(backup.path), `backupCreated: ${created?.message}`);
    assert.ok(!created.items?.includes('saveKey'), 'offers to save a key that is saved');

    const row = (await backupRows()).find((n) => n.entry.path === backup.path);
    assert.ok(row, 'the backup is not in the Backups node');
    assert.equal(row.entry.verdict, 'ok');
    assert.match(shown(api, row), /works with the current key/);
    assert.equal(api.explorer.getTreeItem(row).contextValue, 'gptLoad.backup.ok');
    for (const secret of [encryptionKey, ...fixture.samples.map((s) => s.plaintext)]) assert.ok(!shown(api, row).includes(secret), 'a secret is shown in the tree');
  });

  test('Check Key Backups: the saved copy works and matches the backup, a pasted wrong key does not decrypt', async () => {
    const { ui } = script(api);
    const copy = api.ctx.keyCopies.list(fixture.envFile).find((c) => c.fingerprint === backup.keyFingerprint)!;
    ui.answer('keyCandidates', [copy.id, 'paste']).answer('pastedKey', WRONG_KEY);
    const report = await vscode.commands.executeCommand<KeyCheckReport>('gptLoad.checkKeyBackups', fixture.envFile);
    assert.ok(report && report.sampled > 0, 'no encrypted key was sampled');
    const [saved, pasted] = report.lines;
    assert.equal(saved.copyId, copy.id);
    assert.equal(saved.works, true);
    assert.equal(saved.matchesEnv, true);
    assert.equal(saved.backups.length >= 1, true, 'the copy matches no backup');
    assert.match(saved.verdict, /works with the database; matches backups /);
    assert.equal(pasted.copyId, undefined);
    assert.equal(pasted.works, false);
    assert.equal(pasted.verdict, 'does not decrypt');
    assert.notEqual(pasted.fingerprint, saved.fingerprint);
    assert.match(ui.messages('keyBackupsChecked')[0] ?? '', /1 of 2 keys work/);
    assertNoKeyShown(ui, [encryptionKey, WRONG_KEY]);

    // The check is remembered: the reminder is due again only after gptLoad.keyBackups.reminderDays (30).
    assert.equal(api.ctx.keyCopies.list(fixture.envFile).find((c) => c.id === copy.id)?.lastCheck?.works, true);
    ui.answer('keyCheckDue', undefined);
    assert.deepEqual(await api.remindKeyBackupCheck(Date.now()), []);
    assert.deepEqual(await api.remindKeyBackupCheck(Date.now() + 31 * DAY_MS), [fixture.envFile]);
    assert.match(ui.messages('keyCheckDue')[0] ?? '', /31 days/);
  });

  test('a flipped byte makes a backup corrupt: in the Backups node, in Check Backup, and Restore refuses it', async () => {
    const bytes = readFileSync(backup.path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(backup.path, bytes);

    const row = (await backupRows()).find((n) => n.entry.path === backup.path);
    assert.ok(row, 'the backup is gone from the Backups node');
    assert.equal(row.entry.verdict, 'corrupt');
    assert.match(shown(api, row), /corrupt/);
    assert.equal(api.explorer.getTreeItem(row).contextValue, 'gptLoad.backup.corrupt');

    const { ui } = script(api);
    const result = await vscode.commands.executeCommand<BackupCheckResult>('gptLoad.checkBackup', row);
    assert.equal(result?.valid, false);
    assert.equal(result.verdict, 'corrupt');
    assert.ok(result.problems.length > 0);
    assert.match(ui.messages('backupChecked')[0] ?? '', /corrupt/);

    ui.answer('error', undefined);
    assert.equal(await vscode.commands.executeCommand('gptLoad.restoreBackup', row), undefined);
    const [error] = ui.prompts.filter((p) => p.step === 'error');
    assert.match(error?.message ?? '', /cannot be restored/);
    assert.ok(!ui.steps().includes('restoreConfirm'), 'a corrupt backup reached the confirmation');
  });

  test('Restore Backup waits for GPT-Load to stop, previews the dry run, brings changed notes and a deleted key back, and warns about Redis', async function () {
    this.timeout(120_000);
    const { ui } = script(api);
    const fresh = (beforeChange = await vscode.commands.executeCommand<BackupInfo>('gptLoad.createBackup', fixture.envFile));
    const sample = fixture.samples[2];
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const dbFile = join(fixture.workspace, 'data', 'gpt-load.db');
    const notesOf = () => {
      const db = new Database(dbFile, { readonly: true });
      try {
        return (db.prepare('SELECT notes FROM api_keys WHERE id = ?').get(sample.id) as { notes: string | null }).notes;
      } finally {
        db.close();
      }
    };
    const original = notesOf();
    const db = new Database(dbFile);
    db.prepare('UPDATE api_keys SET notes = ? WHERE id = ?').run('changed after the backup', sample.id);
    const sampleIds = fixture.samples.map((s) => s.id);
    const deleted = db.prepare(`DELETE FROM api_keys WHERE id = (SELECT MAX(id) FROM api_keys WHERE id NOT IN (${sampleIds.join(', ')}))`).run();
    db.close();
    assert.equal(notesOf(), 'changed after the backup');
    assert.equal(deleted.changes, 1);

    // "GPT-Load" answers /health on the .env's PORT until the user has stopped it and checks again.
    const gptLoad: Server = createServer((_req, res) => res.end('{"status":"healthy"}'));
    await new Promise<void>((resolve) => gptLoad.listen(0, '127.0.0.1', resolve));
    const envBefore = readFileSync(fixture.envFile, 'utf8');
    let safety: string | undefined;
    // REDIS_DSN names a Compose service; gptLoad.redis.host points the cache clearing at a port where nothing listens.
    writeFileSync(fixture.envFile, `${envBefore.replace(/\n?$/, '\n')}PORT=${(gptLoad.address() as AddressInfo).port}\nREDIS_DSN=redis://redis:6379/0\n`);
    const settings = vscode.workspace.getConfiguration('gptLoad');
    await settings.update('redis.host', '127.0.0.1:1', vscode.ConfigurationTarget.Global);
    try {
      ui.answer('serviceRunning', () => {
        gptLoad.close();
        gptLoad.closeAllConnections();
        return 'checkAgain';
      });
      ui.answer('restoreConfirm', 'restore');
      const outcome = await vscode.commands.executeCommand<RestoreOutcome>('gptLoad.restoreBackup', fresh.path);
      assert.ok(outcome?.result, `no restore; prompts: ${ui.steps().join(' → ')}; messages: ${ui.messages().join(' | ')}`);
      const steps = ui.steps();
      assert.ok(steps.indexOf('serviceRunning') >= 0 && steps.indexOf('serviceRunning') < steps.indexOf('restoreConfirm'), `steps: ${steps.join(' → ')}`);
      assert.match(ui.prompts.find((p) => p.step === 'serviceRunning')?.message ?? '', /health/);
      const confirm = ui.prompts.find((p) => p.step === 'restoreConfirm')!;
      assert.ok(confirm.detail?.includes(`api_keys: ${fixture.keys - 1} now → ${fixture.keys} from the backup`), confirm.detail);
      // What the restore changes besides the keys (a forged backup would show its upstreams here): nothing.
      assert.ok(confirm.detail?.includes('Besides the keys, the restore changes:\n  groups, upstreams, proxy keys and settings: as they are now'), confirm.detail);
      assert.deepEqual(outcome.preview.plan.restored, outcome.result.restored);
      assert.equal(outcome.preview.plan.current?.api_keys, fixture.keys - 1);
      assert.equal(outcome.result.restored.api_keys, fixture.keys);
      // Restored, but the cache was not cleared: said with the restore, through the configured host.
      assert.equal(outcome.result.cacheCleared, null);
      const restored = ui.prompts.find((p) => p.step === 'restored')!;
      assert.match(restored.detail ?? '', /Redis cache was not cleared.*127\.0\.0\.1:1.*clear gpt-load:key:\* before starting GPT-Load/);
      safety = outcome.result.safetyBackup?.path;
      assert.ok(safety && existsSync(safety), 'no backup of the state before');
      assert.equal(notesOf(), original);
      assert.match(ui.messages('restored')[0] ?? '', /Restart GPT-Load/);
      assertNoKeyShown(ui, [encryptionKey]);
    } finally {
      gptLoad.close();
      writeFileSync(fixture.envFile, envBefore);
      await settings.update('redis.host', undefined, vscode.ConfigurationTarget.Global);
    }
    // The safety backup is listed beside the restored one, both working with the current key.
    const rows = await backupRows();
    for (const path of [fresh.path, safety]) assert.equal(rows.find((n) => n.entry.path === path)?.entry.verdict, 'ok', path);
  });

  test('after a key change an old backup needs the old key: the saved copy with its fingerprint opens it, and Restore re-encrypts to the new key', async function () {
    this.timeout(120_000);
    const { ui, clipboard } = script(api);
    ui.answer('action', 'change').answer('newKeyMethod', 'generate').answer('backup', 'skip').answer('saveKey', ['clipboard']).answer('showKey', 'saved').answer('confirm', 'migrate');
    ui.answer('confirmLast4', () => clipboard.text.slice(-4));
    await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile);
    const newKey = envValue(fixture.envFile, 'ENCRYPTION_KEY');
    assert.ok(newKey && newKey !== encryptionKey, 'the key did not change');

    const row = (await backupRows()).find((n) => n.entry.path === beforeChange.path);
    assert.ok(row, 'the backup is gone from the Backups node');
    assert.equal(row.entry.verdict, 'needs-key');
    assert.match(shown(api, row), new RegExp(`needs another key \\(${beforeChange.keyFingerprint}\\)`));

    // Check Backup takes the saved copy of the old key by its fingerprint, without asking.
    const checked = await vscode.commands.executeCommand<BackupCheckResult>('gptLoad.checkBackup', row);
    assert.equal(checked?.decryptsWithKey, true, `check: ${JSON.stringify(checked)}`);
    assert.ok(!ui.steps().includes('backupNeedsKey') && !ui.steps().includes('backupKey'), `asked for a key: ${ui.steps().join(' → ')}`);
    assert.match(ui.messages('backupChecked')[0] ?? '', /Checked with /);

    ui.answer('restoreConfirm', 'restore');
    const outcome = await vscode.commands.executeCommand<RestoreOutcome>('gptLoad.restoreBackup', row);
    assert.equal(outcome?.result.restored.api_keys, fixture.keys);
    assert.match(ui.prompts.find((p) => p.step === 'restoreConfirm')?.detail ?? '', new RegExp(`re-encrypted from the key ${beforeChange.keyFingerprint}`));
    const status = await vscode.commands.executeCommand<StatusReport>('gptLoad.showStatus', fixture.envFile, { open: false });
    assert.equal(status.state, 'ok', 'the restored keys do not all open with the new key');
    assert.equal(status.apiKeys.encrypted, fixture.keys);
    assertNoKeyShown(ui, [encryptionKey, newKey]);
  });

  test('the backup taken before encryption was enabled shows as a plaintext risk; Prune Backups deletes it after a confirmation listing it', async function () {
    // extension.test.ts's migration took it (files run sorted); run alone, this suite skipped that backup.
    const plaintext = (await backupRows()).filter((n) => n.entry.plaintext !== null);
    if (plaintext.length === 0) this.skip();
    for (const row of plaintext) {
      assert.match(shown(api, row), /keys in PLAINTEXT \(a risk\)/);
      assert.doesNotMatch(shown(api, row), /works with the current key/);
      assert.equal(api.explorer.getTreeItem(row).contextValue, 'gptLoad.backup.ok', 'a plaintext backup still restores');
    }
    const { ui } = script(api);
    ui.answer('pruneRule', 'plaintext').answer('pruneConfirm', 'delete');
    const result = await vscode.commands.executeCommand<{ deleted: Array<{ path: string; reason: string }> }>('gptLoad.pruneBackups', fixture.envFile);
    assert.deepEqual(result.deleted.map((e) => [e.path, e.reason]).sort(), plaintext.map((n) => [n.entry.path, 'plaintext']).sort());
    const confirm = ui.prompts.find((p) => p.step === 'pruneConfirm');
    for (const row of plaintext) {
      assert.ok(confirm?.detail?.includes(row.entry.path.split('/').pop()!), `the confirmation lists ${row.entry.path}`);
      assert.ok(!existsSync(row.entry.path) && !existsSync(`${row.entry.path}.sha256`), `${row.entry.path} is deleted`);
    }
    assert.deepEqual((await backupRows()).filter((n) => n.entry.plaintext !== null), []);
    assert.match(ui.messages('pruned')[0] ?? '', new RegExp(`Deleted ${plaintext.length} backup`));
  });
});
