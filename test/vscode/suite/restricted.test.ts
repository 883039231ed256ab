// The extension in a restricted (untrusted) workspace: .env linting runs; nothing opens a database,
// and commands that would say so and point at workspace trust.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TestApi } from '../../../client/src/extension';
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
});
