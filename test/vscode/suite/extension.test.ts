// The extension in a real VS Code with a trusted workspace holding a GPT-Load SQLite deployment
// (built by ../deployment.ts): activation and the status bar, .env diagnostics and their quick fix,
// the key explorer, reveal/copy, AUTH_KEY generation and rotation, and Migrate Keys end to end.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { spawnSync } from 'node:child_process';
import type { AuditResult, KeyListItem, MigrationSummary, StatusReport } from '../../../shared/protocol';
import type { AuditFindingNode, AuditItemNode } from '../../../client/src/views/auditNodes';
import type { TestApi } from '../../../client/src/extension';
import type { MigrateOutcome } from '../../../client/src/wizard/migrateWizard';
import type { DeploymentNode, ExplorerNode, GroupNode, KeyNode, LoadMoreNode } from '../../../client/src/views/keyExplorer';
import { EXTENSION_ID, extensionApi, script } from './support/api';
import { envValue, readFixture, type Fixture } from './support/fixture';
import { waitFor } from './support/wait';

suite('GPT-Load Keystore (trusted workspace)', () => {
  let api: TestApi;
  let fixture: Fixture;

  suiteSetup(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    fixture = readFixture();
    api = await extensionApi();
    await vscode.workspace.getConfiguration('gptLoad').update('explorer.pageSize', 10, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('gptLoad').update('clipboard.clearAfterSeconds', 2, vscode.ConfigurationTarget.Global);
  });

  test('activates on the workspace .env without blocking on the daemon', async () => {
    // Activation = loading dist/client.js + activate(). Loading a second copy measures the first part
    // (its top level has no side effects); printed for the report, not asserted (speed belongs to bench/).
    const bundle = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'client.js');
    const loadStarted = performance.now();
    delete require.cache[require.resolve(bundle)];
    require(bundle);
    const loadMs = performance.now() - loadStarted;
    console.log(`activation: load dist/client.js ${loadMs.toFixed(1)} ms + activate() ${api.activationMs.toFixed(1)} ms; extension host Node ${process.version} (ABI ${process.versions.modules})`);
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['migrateKeys', 'generateAuthKey', 'rotateAuthKey', 'showStatus', 'revealKey', 'copyKey', 'refresh', 'selectDeployment', 'restartDaemon']) {
      assert.ok(commands.includes(`gptLoad.${id}`), `gptLoad.${id} is not registered`);
    }
    const deployments = await api.ctx.deployments.all();
    assert.deepEqual(
      deployments.map((d) => d.envFile).sort(),
      [fixture.envFile, fixture.weakEnvFile].sort(),
    );
    assert.equal((await api.ctx.deployments.active())?.envFile, fixture.envFile);
    await api.ctx.daemon.start();
    assert.equal(api.ctx.daemon.state, 'running');
    assert.ok(api.ctx.daemon.runtime?.nativeBinding, `SQLite unavailable: ${JSON.stringify(api.ctx.daemon.runtime?.sqliteProblem)}`);
    const text = await waitFor('the status bar to show the encryption state', () => !api.statusBar.text.includes('sync~spin') && api.statusBar.text);
    // From the daemon's status summary: plaintext keys, no ENCRYPTION_KEY. No document was opened for it.
    assert.match(text, /GPT-Load: not encrypted/);
    assert.ok(api.statusBar.summaryCount >= 1, 'the status bar did not use gptLoad/status/summary');
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.fsPath === fixture.envFile), 'the .env was opened to get the status');
  });

  test('a weak .env gets diagnostics and a quick fix that replaces AUTH_KEY', async () => {
    const uri = vscode.Uri.file(fixture.weakEnvFile);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const diagnostics = await waitFor('gpt-load diagnostics on the weak .env', () => {
      const found = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'gpt-load');
      return found.some((d) => document.getText(d.range).includes('AUTH_KEY') || d.range.start.line === 0) && found;
    });
    const authLine = document.getText().split('\n').findIndex((l) => l.startsWith('AUTH_KEY='));
    const onAuth = diagnostics.filter((d) => d.range.start.line === authLine);
    assert.ok(onAuth.length > 0, `no diagnostic on AUTH_KEY: ${diagnostics.map((d) => `${d.range.start.line}:${d.message}`).join('; ')}`);
    // The daemon fills in a generated key's edit when the fix is picked (codeAction/resolve): resolve them.
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, onAuth[0].range, vscode.CodeActionKind.QuickFix.value, 10);
    const fix = actions.find((a) => a.edit && a.edit.size > 0 && /AUTH_KEY/.test(a.title));
    assert.ok(fix, `no AUTH_KEY quick fix among: ${actions.map((a) => a.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    const line = document.lineAt(authLine).text;
    const value = line.slice('AUTH_KEY='.length).replace(/^(['"])(.*)\1$/, '$2');
    assert.ok(value.length >= 32 && value !== 'admin123', 'AUTH_KEY was not replaced by a strong key');
    await document.save();
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the explorer lists deployment → groups → keys, paged with "Load more…"', async () => {
    const roots = await api.explorer.getChildren();
    const root = roots.find((n): n is DeploymentNode => n.kind === 'deployment' && n.deployment.envFile === fixture.envFile);
    assert.ok(root, 'no node for the SQLite deployment');
    const children = await api.explorer.getChildren(root);
    const groups = children.filter((n): n is GroupNode => n.kind === 'group');
    assert.deepEqual(
      groups.map((g) => [g.group.name, g.group.channelType, g.group.active, g.group.invalid]).sort(),
      fixture.groups.map((g) => [g.name, g.channelType, g.active, g.invalid]).sort(),
    );
    const biggest = groups.reduce((a, b) => (a.group.active + a.group.invalid >= b.group.active + b.group.invalid ? a : b));
    const total = biggest.group.active + biggest.group.invalid;
    assert.ok(total > 20, 'fixture group too small to page');
    let rows = await api.explorer.getChildren(biggest);
    assert.equal(rows.filter((n) => n.kind === 'key').length, 10);
    const seen = new Set<number>();
    for (let pages = 0; pages < 100; pages++) {
      for (const row of rows) if (row.kind === 'key') seen.add(row.key.id);
      const more = rows.find((n): n is LoadMoreNode => n.kind === 'loadMore');
      if (!more) break;
      await vscode.commands.executeCommand('gptLoad.loadMore', more);
      rows = await api.explorer.getChildren(biggest);
    }
    assert.equal(seen.size, total, 'paging did not reach every key exactly once');

    // The security node is the audit's checklist by heading: here, no ENCRYPTION_KEY.
    const security = children.find((n) => n.kind === 'security');
    assert.ok(security, 'no security node');
    const encryption = (await api.explorer.getChildren(security)).find((n) => n.kind === 'auditItem' && n.item === 'encryption');
    assert.ok(encryption, 'no ENCRYPTION_KEY item under Security');
    const findings = (await api.explorer.getChildren(encryption)).map((n) => (n.kind === 'auditFinding' ? `${n.finding.code}:${n.finding.severity}` : ''));
    assert.ok(findings.includes('data-not-encrypted:fail'), `findings: ${findings.join(' | ')}`);

    // No plaintext key in any label, description or tooltip.
    const plaintexts = fixture.samples.map((s) => s.plaintext);
    for (const row of rows) {
      const item = api.explorer.getTreeItem(row as ExplorerNode);
      const shown = `${typeof item.label === 'string' ? item.label : item.label?.label} ${item.description ?? ''} ${typeof item.tooltip === 'string' ? item.tooltip : ''}`;
      for (const p of plaintexts) assert.ok(!shown.includes(p), 'a plaintext key is shown in the tree');
    }
  });

  test('Security: the audit checklist with the CLI\'s counts, findings open their file at their line, the report renders', async () => {
    const root = (await api.explorer.getChildren()).find((n): n is DeploymentNode => n.kind === 'deployment' && n.deployment.envFile === fixture.envFile)!;
    const security = (await api.explorer.getChildren(root)).find((n) => n.kind === 'security')!;
    const items = (await api.explorer.getChildren(security)).filter((n): n is AuditItemNode => n.kind === 'auditItem');
    const cli = spawnSync(process.execPath, [join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js'), 'audit', '--json', '--env', fixture.envFile], { encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
    const expected = JSON.parse(cli.stdout) as AuditResult;
    const countsText = (counts: AuditResult['summary']) => (['fail', 'warn', 'unknown', 'pass'] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`).join(' · ');
    // Same headings, same counts as `gpt-load-keystore audit`.
    for (const item of items) {
      const { title, ...counts } = expected.items[item.item];
      const shown = api.explorer.getTreeItem(item);
      assert.equal(shown.label, title);
      assert.equal(shown.description, countsText(counts));
    }
    assert.deepEqual(items.map((i) => i.item), Object.keys(expected.items).filter((k) => expected.findings.some((f) => f.item === k)));
    const securityItem = api.explorer.getTreeItem(security);
    assert.equal(securityItem.description, countsText(expected.summary));

    // A finding with a place opens it at its line; one with a fix offers it.
    const all = (await Promise.all(items.map((i) => api.explorer.getChildren(i)))).flat().filter((n): n is AuditFindingNode => n.kind === 'auditFinding');
    const placed = all.find((f) => f.finding.file === fixture.envFile && f.finding.line);
    assert.ok(placed, 'no finding in the .env');
    const command = api.explorer.getTreeItem(placed).command!;
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    const editor = await waitFor('the .env open at the finding', () => vscode.window.activeTextEditor?.document.uri.fsPath === fixture.envFile && vscode.window.activeTextEditor);
    assert.equal(editor.selection.active.line, placed.finding.line! - 1);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    // Every warning or failure with a place is a diagnostic in its file.
    for (const { finding } of all.filter((f) => f.finding.file && f.finding.line && (f.finding.severity === 'warn' || f.finding.severity === 'fail'))) {
      const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.file(finding.file!)).filter((d) => d.source === 'gpt-load audit');
      assert.ok(diagnostics.some((d) => d.code === finding.code && d.range.start.line === finding.line! - 1), `no diagnostic for ${finding.code}`);
    }
    const fixable = all.find((f) => f.finding.code === 'data-not-encrypted');
    assert.equal(api.explorer.getTreeItem(fixable!).contextValue, 'gptLoad.auditFinding.fixable');

    const shown = await vscode.commands.executeCommand<{ summary: AuditResult['summary']; viewType: string; scripts: boolean }>('gptLoad.showAuditReport', fixture.envFile);
    assert.deepEqual(shown, { summary: expected.summary, findings: expected.findings.length, viewType: 'gptLoad.auditReport', scripts: false });
  });

  test('the status filter shows only invalid keys', async () => {
    await vscode.commands.executeCommand('gptLoad.filterKeys', 'invalid');
    try {
      const root = (await api.explorer.getChildren()).find((n): n is DeploymentNode => n.kind === 'deployment' && n.deployment.envFile === fixture.envFile)!;
      const group = (await api.explorer.getChildren(root)).find((n): n is GroupNode => n.kind === 'group' && n.group.invalid > 0);
      assert.ok(group, 'fixture has no invalid keys');
      const keys = (await api.explorer.getChildren(group)).filter((n): n is KeyNode => n.kind === 'key');
      assert.ok(keys.length > 0);
      assert.ok(keys.every((k) => k.key.status === 'invalid'));
    } finally {
      await vscode.commands.executeCommand('gptLoad.filterKeys', 'all');
    }
  });

  test('a key is found by its exact value, revealed and copied with the right plaintext', async () => {
    const { ui, clipboard } = script(api);
    const sample = fixture.samples[0];
    ui.answer('findKeyValue', sample.plaintext);
    const ids = await vscode.commands.executeCommand<number[]>('gptLoad.findKey', fixture.envFile);
    assert.deepEqual(ids, [sample.id]);
    const root = (await api.explorer.getChildren()).find((n): n is DeploymentNode => n.kind === 'deployment' && n.deployment.envFile === fixture.envFile)!;
    const search = (await api.explorer.getChildren(root)).find((n) => n.kind === 'search');
    assert.ok(search, 'no search result node');
    const [found] = (await api.explorer.getChildren(search)) as KeyNode[];
    assert.equal(found.key.id, sample.id);

    await vscode.commands.executeCommand('gptLoad.revealKey', found);
    const revealed = ui.prompts.find((p) => p.kind === 'secret');
    assert.ok(revealed?.secret === sample.plaintext, 'Reveal Key did not show the stored plaintext');

    await vscode.commands.executeCommand('gptLoad.copyKey', found);
    assert.ok(clipboard.text === sample.plaintext, 'Copy Key did not copy the stored plaintext');
    // Cleared after gptLoad.clipboard.clearAfterSeconds (2 s here) since it is still there.
    await waitFor('the copied key to leave the clipboard', () => clipboard.text === '');
    api.explorer.clearSearch(found.deployment);
  });

  test('Generate AUTH_KEY copies a strong key; Rotate AUTH_KEY replaces it in .env and remembers when', async () => {
    const { ui, clipboard } = script(api);
    ui.answer('authKeyTarget', 'copy');
    const generated = await vscode.commands.executeCommand<{ target: string; length: number }>('gptLoad.generateAuthKey');
    assert.deepEqual(generated, { target: 'copy', length: 32 });
    assert.match(clipboard.text, /^[A-Za-z0-9._-]{32}$/);

    const before = envValue(fixture.envFile, 'AUTH_KEY');
    // A Compose deployment: the daemon names the service to recreate (the client alone would not know it).
    const compose = join(fixture.workspace, 'docker-compose.yml');
    writeFileSync(compose, 'services:\n  gpt-load-app:\n    image: ghcr.io/tbphp/gpt-load:latest\n    env_file: .env\n');
    try {
      ui.answer('rotateConfirm', 'rotate').answer('removeOldProxyKey', 'remove').answer('authKeyRotated', 'copyCommand');
      const rotated = await vscode.commands.executeCommand<{ envFile: string; removedOld: boolean }>('gptLoad.rotateAuthKey', fixture.envFile);
      assert.deepEqual(rotated, { envFile: fixture.envFile, removedOld: true });
    } finally {
      rmSync(compose, { force: true });
    }
    const after = envValue(fixture.envFile, 'AUTH_KEY');
    assert.ok(after && after !== before && after.length >= 32, 'AUTH_KEY was not rotated');
    const rotatedMessage = ui.messages('authKeyRotated')[0] ?? '';
    assert.match(rotatedMessage, /AUTH_KEY/);
    // The seeded AUTH_KEY was GPT-Load's only global proxy key: removed, with the daemon's notes and restart command.
    assert.match(rotatedMessage, /removed from GPT-Load's stored proxy keys \(global\)/);
    assert.match(rotatedMessage, /global proxy keys are now empty/);
    assert.ok(rotatedMessage.includes('docker compose up -d --force-recreate gpt-load-app'), rotatedMessage);
    assert.equal(clipboard.text, 'docker compose up -d --force-recreate gpt-load-app');
    const rotations = api.ctx.extension.globalState.get<Record<string, string>>('gptLoad.authKeyRotations', {});
    assert.ok(rotations[fixture.envFile], 'rotation date not remembered');
    // 91 days later the reminder is due (gptLoad.authKey.rotationReminderDays = 90).
    assert.deepEqual(await api.remindOverdueRotations(Date.now()), []);
    ui.answer('authKeyDue', undefined);
    assert.deepEqual(await api.remindOverdueRotations(Date.now() + 91 * 24 * 3600 * 1000), [fixture.envFile]);
    assert.match(ui.messages('authKeyDue')[0] ?? '', /91 days/);
  });

  test('Migrate Keys asks the daemon whether GPT-Load runs before the backup step, with "Check again"', async () => {
    // "GPT-Load" answers /health on the .env's PORT until the user stops it.
    const gptLoad: Server = createServer((_req, res) => res.end('{"status":"healthy"}'));
    await new Promise<void>((resolve) => gptLoad.listen(0, '127.0.0.1', resolve));
    const port = (gptLoad.address() as AddressInfo).port;
    const envBefore = readFileSync(fixture.envFile, 'utf8');
    const backups = () => (existsSync(join(fixture.workspace, 'backups')) ? readdirSync(join(fixture.workspace, 'backups')) : []);
    const backupsBefore = backups();
    writeFileSync(fixture.envFile, `${envBefore.replace(/\n?$/, '\n')}PORT=${port}\n`);
    try {
      // Not stopped: the wizard ends there, nothing backed up.
      const { ui } = script(api);
      ui.answer('action', 'enable').answer('newKeyMethod', 'generate').answer('serviceRunning', undefined);
      assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined);
      assert.deepEqual(ui.steps(), ['action', 'newKeyMethod', 'serviceRunning']);
      const refusal = ui.prompts.find((p) => p.step === 'serviceRunning')!;
      assert.ok(refusal.message?.includes(`127.0.0.1:${port}/health`), `the daemon's finding is not shown: ${refusal.message}`);
      assert.deepEqual(refusal.items, ['checkAgain']);

      // Stopped, then "Check again": on to the backup step (cancelled there).
      const { ui: ui2 } = script(api);
      ui2.answer('action', 'enable').answer('newKeyMethod', 'generate').answer('backup', undefined);
      ui2.answer('serviceRunning', () => {
        gptLoad.close();
        gptLoad.closeAllConnections();
        return 'checkAgain';
      });
      assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined);
      assert.deepEqual(ui2.steps(), ['action', 'newKeyMethod', 'serviceRunning', 'backup']);
    } finally {
      gptLoad.close();
      writeFileSync(fixture.envFile, envBefore);
    }
    assert.deepEqual(backups(), backupsBefore, 'a backup was taken while GPT-Load ran');
    assert.equal(envValue(fixture.envFile, 'ENCRYPTION_KEY') ?? '', '', 'the .env changed');
  });

  test('Migrate Keys enables encryption end to end: database encrypted, .env updated, keys still reveal', async () => {
    const { ui } = script(api);
    ui.answer('action', 'enable')
      .answer('newKeyMethod', 'generate')
      .answer('backup', 'backup')
      .answer('saveKey', ['secretStorage'])
      .answer('confirm', 'migrate');
    // The last 4 characters come from the copy the wizard just stored, as a user reads them there.
    let stored: string | undefined;
    ui.answer('confirmLast4', () => {
      if (!stored) throw new Error('the new key was not in secret storage before the confirmation');
      return stored.slice(-4);
    });
    // The newest labelled copy of the deployment (client/src/keyCopies.ts).
    const storedKey = async () => {
      const [copy] = api.ctx.keyCopies.list(fixture.envFile);
      return copy?.source === 'migration' ? api.ctx.keyCopies.value(copy) : undefined;
    };
    const wrappedInput = ui.input.bind(ui);
    ui.input = async (step, options) => {
      if (step === 'confirmLast4') stored = await storedKey();
      return wrappedInput(step, options);
    };

    const summariesBefore = api.statusBar.summaryCount;
    const outcome = await vscode.commands.executeCommand<MigrateOutcome>('gptLoad.migrateKeys', fixture.envFile);
    assert.ok(outcome?.summary, `migration did not complete; prompts: ${ui.steps().join(' → ')}; messages: ${ui.messages().join(' | ')}`);
    // GPT-Load was not running: the service check passed silently before the backup step.
    assert.ok(ui.steps().indexOf('backup') > ui.steps().indexOf('newKeyMethod') && !ui.steps().includes('serviceRunning'), ui.steps().join(' → '));
    console.log(`migrate wizard: ${ui.steps().join(' → ')}`);
    // A verified backup was taken first, and the summary names it.
    assert.ok(outcome.backup && existsSync(outcome.backup), `no backup: ${outcome.backup}`);
    const summary: MigrationSummary = outcome.summary;
    assert.equal(summary.mode, 'enable');
    assert.equal(summary.apiKeys, fixture.keys);
    assert.equal(summary.envUpdated, true);
    const newKey = await storedKey();
    assert.ok(newKey && newKey.length >= 32);
    assert.ok(envValue(fixture.envFile, 'ENCRYPTION_KEY') === newKey, '.env does not hold the new ENCRYPTION_KEY');
    assert.match(ui.messages('migrated')[0] ?? '', /gpt-load|docker|make/);
    assert.ok(ui.messages('migrated')[0]?.includes(outcome.backup), 'the summary does not name the backup');

    const report = await vscode.commands.executeCommand<StatusReport>('gptLoad.showStatus', fixture.envFile, { open: false });
    assert.equal(report.encryptionEnabled, true);
    assert.equal(report.state, 'ok');
    assert.equal(report.apiKeys.encrypted, fixture.keys);
    // The status bar asked the daemon again after the migration.
    await waitFor('a status summary after the migration', () => api.statusBar.summaryCount > summariesBefore);
    await waitFor('the status bar to say encrypted', () => /\$\(lock\) GPT-Load: encrypted/.test(api.statusBar.text));

    // The explorer and reveal work with the new key.
    const { ui: ui2 } = script(api);
    const sample = fixture.samples[1];
    ui2.answer('findKeyValue', sample.plaintext);
    const ids = await vscode.commands.executeCommand<number[]>('gptLoad.findKey', fixture.envFile);
    assert.deepEqual(ids, [sample.id]);
    const node = { kind: 'key', deployment: await api.ctx.deployments.forEnvFile(fixture.envFile), key: { id: sample.id } as KeyListItem } as KeyNode;
    await vscode.commands.executeCommand('gptLoad.revealKey', node);
    assert.ok(ui2.prompts.find((p) => p.kind === 'secret')?.secret === sample.plaintext, 'the key did not reveal after migration');
  });

  test('the status bar follows saves of the .env', async () => {
    const uri = vscode.Uri.file(fixture.envFile);
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    const original = document.getText();
    const line = original.split('\n').findIndex((l) => l.startsWith('ENCRYPTION_KEY='));
    const keyLine = document.lineAt(line).text;
    const setLine = async (text: string) => {
      assert.ok(await editor.edit((edit) => edit.replace(document.lineAt(line).range, text)));
      const before = api.statusBar.summaryCount;
      assert.ok(await document.save());
      await waitFor('a status summary after the save', () => api.statusBar.summaryCount > before);
    };
    try {
      await setLine('ENCRYPTION_KEY=a-wrong-key-for-the-status-bar-0123456789');
      await waitFor('the status bar to say the key is wrong', () => /GPT-Load: wrong ENCRYPTION_KEY/.test(api.statusBar.text));
    } finally {
      await setLine(keyLine);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    }
    assert.equal(readFileSync(fixture.envFile, 'utf8'), original);
    await waitFor('the status bar to say encrypted again', () => /\$\(lock\) GPT-Load: encrypted/.test(api.statusBar.text));
  });

  test('Restart Daemon restarts it; a failing request says what failed', async () => {
    const { ui } = script(api);
    await vscode.commands.executeCommand('gptLoad.restartDaemon');
    assert.equal(api.ctx.daemon.state, 'running');
    // A DSN override pointing nowhere: the command reports the connection error with its fix.
    await vscode.workspace.getConfiguration('gptLoad').update('database.dsn', 'postgres://nobody@127.0.0.1:1/none', vscode.ConfigurationTarget.Global);
    try {
      ui.answer('error', undefined);
      await vscode.commands.executeCommand('gptLoad.showStatus', fixture.envFile, { open: false });
      const errors = ui.prompts.filter((p) => p.step === 'error');
      assert.equal(errors.length, 1, 'no error reported');
      assert.ok(errors[0].items?.includes('setHost'), `no "Set Database Host" action: ${errors[0].message}`);
    } finally {
      await vscode.workspace.getConfiguration('gptLoad').update('database.dsn', undefined, vscode.ConfigurationTarget.Global);
    }
  });
  test('Select Deployment switches the active .env used by commands and the status bar', async () => {
    const { ui } = script(api);
    ui.answer('deployment', fixture.weakEnvFile);
    assert.equal(await vscode.commands.executeCommand('gptLoad.selectDeployment'), fixture.weakEnvFile);
    assert.equal((await api.ctx.deployments.active())?.envFile, fixture.weakEnvFile);
    ui.answer('deployment', fixture.envFile);
    await vscode.commands.executeCommand('gptLoad.selectDeployment');
    assert.equal((await api.ctx.deployments.active())?.envFile, fixture.envFile);
  });

  test('gptLoad.language = zh-cn: the extension and the daemon speak Simplified Chinese', async () => {
    const { ui } = script(api);
    const config = vscode.workspace.getConfiguration('gptLoad');
    const before = api.ctx.daemon.pid;
    await config.update('language', 'zh-cn', vscode.ConfigurationTarget.Global);
    try {
      // The daemon restarts to take the new locale in its initialize request.
      await waitFor('the daemon to restart in Chinese', () => api.ctx.daemon.state === 'running' && api.ctx.daemon.pid !== before);
      await config.update('database.dsn', 'postgres://nobody@127.0.0.1:1/none', vscode.ConfigurationTarget.Global);
      ui.answer('error', undefined);
      await vscode.commands.executeCommand('gptLoad.showStatus', fixture.envFile, { open: false });
      const [error] = ui.prompts.filter((p) => p.step === 'error');
      assert.ok(error, 'no error reported');
      assert.match(error.message ?? '', /[\u4e00-\u9fff]/, `the daemon's message is not in Chinese: ${error.message}`);
      ui.answer('authKeyTarget', undefined);
      await vscode.commands.executeCommand('gptLoad.generateAuthKey');
      const picker = ui.prompts.find((p) => p.step === 'authKeyTarget');
      assert.equal(picker?.message, '生成 AUTH_KEY');
    } finally {
      await config.update('database.dsn', undefined, vscode.ConfigurationTarget.Global);
      await config.update('language', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('a crashed daemon restarts; when it keeps crashing, commands say so and offer a restart', async () => {
    const { ui } = script(api);
    const daemon = api.ctx.daemon;
    await daemon.start();
    const first = daemon.pid;
    assert.ok(first);
    process.kill(first, 'SIGKILL');
    const second = await waitFor('the daemon to restart after a crash', () => daemon.state === 'running' && daemon.pid !== first && daemon.pid);
    assert.ok(second);

    // Keep killing it: after the restart budget (4 in 3 minutes) it stays down.
    ui.answer('daemonDown', undefined);
    for (let i = 0; i < 6 && daemon.state !== 'failed'; i++) {
      const pid = await waitFor('a running daemon', () => daemon.state === 'running' && daemon.pid);
      process.kill(pid, 'SIGKILL');
      await waitFor('the crash to be handled', () => daemon.pid !== pid || daemon.state === 'failed');
    }
    await waitFor('the daemon to be given up', () => daemon.state === 'failed');
    ui.answer('daemonDown', 'restart');
    await vscode.commands.executeCommand('gptLoad.showStatus', fixture.envFile, { open: false });
    const down = ui.prompts.filter((p) => p.step === 'daemonDown');
    assert.ok(down.length >= 1 && down.at(-1)!.items?.includes('restart'), 'the command did not offer a restart');
    await waitFor('the daemon to run again after "Restart Daemon"', () => daemon.state === 'running');
  });
});
