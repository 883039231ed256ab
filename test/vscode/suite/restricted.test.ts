// The extension in a restricted (untrusted) workspace: .env linting runs; nothing opens a database,
// and commands that would say so and point at workspace trust.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { TestApi } from '../../../client/src/extension';
import { EnvReadRequest } from '../../../shared/protocol';
import { extensionApi, script } from './support/api';
import { readFixture, type Fixture } from './support/fixture';
import { waitFor } from './support/wait';

suite('GPT-Load Keystore (restricted workspace)', () => {
  let api: TestApi;
  let fixture: Fixture;

  suiteSetup(async function () {
    if (vscode.workspace.isTrusted) this.skip();
    fixture = readFixture();
    api = await extensionApi();
  });

  test('activates in limited mode and lints .env files', async () => {
    const uri = vscode.Uri.file(fixture.weakEnvFile);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostics = await waitFor('gpt-load diagnostics in restricted mode', () => {
      const found = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'gpt-load');
      return found.length > 0 && found;
    });
    assert.ok(diagnostics.every((d) => !String(typeof d.code === 'object' ? d.code.value : d.code).startsWith('db-')), 'a database check ran in restricted mode');
    assert.match(api.statusBar.text, /shield/);
  });

  test('commands that need the database say that the workspace must be trusted', async () => {
    const { ui } = script(api);
    ui.answer('error', undefined);
    await vscode.commands.executeCommand('gptLoad.showStatus', fixture.envFile, { open: false });
    await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile);
    const errors = ui.prompts.filter((p) => p.step === 'error');
    assert.equal(errors.length, 2);
    for (const e of errors) assert.ok(e.items?.includes('trust'), `no trust action: ${e.message}`);
    assert.ok(!ui.steps().includes('action'), 'the wizard started in a restricted workspace');
  });

  test('the explorer offers trust instead of keys', async () => {
    const [root] = await api.explorer.getChildren();
    const children = await api.explorer.getChildren(root);
    assert.ok(children.some((n) => n.kind === 'message'));
    assert.ok(!children.some((n) => n.kind === 'group'));
  });

  test('backup commands need trust; saving a copy of ENCRYPTION_KEY does not touch the database', async () => {
    const { ui } = script(api);
    ui.answer('error', undefined);
    for (const command of ['gptLoad.createBackup', 'gptLoad.checkBackup', 'gptLoad.restoreBackup', 'gptLoad.checkKeyBackups']) {
      await vscode.commands.executeCommand(command, fixture.envFile);
    }
    const errors = ui.prompts.filter((p) => p.step === 'error');
    assert.equal(errors.length, 4, ui.steps().join(' → '));
    for (const e of errors) assert.ok(e.items?.includes('trust'), `no trust action: ${e.message}`);

    const typed = 'restricted-copy-0123456789abcdefghij';
    ui.answer('keyCopyValue', typed);
    const saved = await vscode.commands.executeCommand<{ id: string; existed: boolean }>('gptLoad.saveKeyCopy', fixture.weakEnvFile);
    assert.equal(saved?.existed, false);
    const [copy] = api.ctx.keyCopies.list(fixture.weakEnvFile);
    assert.equal(await api.ctx.keyCopies.value(copy), typed);
    assert.ok(!ui.prompts.some((p) => `${p.message} ${p.detail ?? ''}`.includes(typed)), 'the key is shown');
    // No reminder in a restricted workspace: the check needs the database.
    assert.deepEqual(await api.remindKeyBackupCheck(Date.now() + 365 * 24 * 3600 * 1000), []);
  });

  test('no secret of the .env is revealed: its AUTH_KEY and ENCRYPTION_KEY are not even asked for', async () => {
    const { ui } = script(api);
    ui.answer('error', undefined);
    const daemon = api.ctx.daemon;
    // Every request starts a stopped daemon: while it stays stopped, nothing was sent.
    await daemon.stop();
    try {
      for (const command of ['gptLoad.rotateAuthKey', 'gptLoad.removeAuthKeyFromProxyKeys']) {
        await vscode.commands.executeCommand(command, fixture.envFile);
      }
      const errors = ui.prompts.filter((p) => p.step === 'error');
      assert.equal(errors.length, 2, ui.steps().join(' → '));
      for (const e of errors) assert.ok(e.items?.includes('trust'), `no trust action: ${e.message}`);
      // The one way to send a request refuses the reveal itself, whichever command would ask.
      const reveal = daemon.request(EnvReadRequest.type, { envFile: fixture.envFile, reveal: 'AUTH_KEY' }, { needsTrust: true });
      await assert.rejects(reveal, (err: Error) => err.message === errors[0].message);
      assert.equal(daemon.state, 'stopped', 'a request reached the daemon');
      assert.equal(daemon.pid, undefined);
    } finally {
      await daemon.start();
    }

    // Save a Copy of ENCRYPTION_KEY takes a typed key only: the .env's is not offered (an offer would be an unanswered prompt).
    const envBefore = readFileSync(fixture.weakEnvFile, 'utf8');
    writeFileSync(fixture.weakEnvFile, envBefore.replace(/^ENCRYPTION_KEY=.*$/m, 'ENCRYPTION_KEY=restricted-env-key-0123456789abcdef'));
    try {
      ui.answer('keyCopyValue', 'restricted-typed-0123456789abcdefghij');
      const saved = await vscode.commands.executeCommand<{ fingerprint: string }>('gptLoad.saveKeyCopy', fixture.weakEnvFile);
      assert.ok(saved?.fingerprint);
      assert.ok(!ui.steps().includes('keyCopySource'), ui.steps().join(' → '));
    } finally {
      writeFileSync(fixture.weakEnvFile, envBefore);
    }
  });
});
