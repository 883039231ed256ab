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
import type { DeploymentNode, GroupNode, KeyNode, LoadMoreNode } from '../../../client/src/views/keyExplorer';
import { EXTENSION_ID, extensionApi, script } from './support/api';
import { BACK, type Answer, type MemoryClipboard } from './support/scriptedUI';
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
      const item = api.explorer.getTreeItem(row);
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

  test('a copy message says when the key leaves the clipboard, or that this editor cannot clear it (a browser)', async () => {
    const { ui } = script(api);
    ui.answer('authKeyTarget', 'copy');
    await vscode.commands.executeCommand('gptLoad.generateAuthKey');
    assert.equal(ui.messages('authKeyCopied')[0], 'A new AUTH_KEY was copied. It is cleared from the clipboard in 2 s.');
    // Where the clipboard cannot be read (code-server, vscode.dev) nothing is promised.
    const { ui: ui2, clipboard: browser } = script(api);
    browser.canClear = false;
    ui2.answer('authKeyTarget', 'copy');
    await vscode.commands.executeCommand('gptLoad.generateAuthKey');
    assert.equal(ui2.messages('authKeyCopied')[0], 'A new AUTH_KEY was copied. This editor cannot clear the clipboard: clear it yourself after pasting.');
    assert.ok(ui2.prompts.find((p) => p.step === 'authKeyTarget')?.labels?.some((l) => l.includes('cannot clear the clipboard')));
    assert.ok(browser.text.length >= 32);
    assert.equal(await api.ctx.clipboard.clearIf(browser.text), false, 'a clipboard that cannot be read was cleared');
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

  /** What a Migrate Keys run may leave behind: the .env, the backups folder, the deployment's key copies. */
  const leftovers = () => ({
    env: readFileSync(fixture.envFile, 'utf8'),
    backups: existsSync(join(fixture.workspace, 'backups')) ? readdirSync(join(fixture.workspace, 'backups')).sort() : [],
    copies: api.ctx.keyCopies.list(fixture.envFile).map((c) => c.id),
  });
  /** The wizard's steps with a generated key, in order, and answers that go on from each. */
  const WIZARD_STEPS = ['action', 'newKeyMethod', 'saveKey', 'showKey', 'confirmLast4', 'backup', 'confirm'];
  const goOn = (clipboard: MemoryClipboard): Record<string, Answer> => ({
    action: 'enable',
    newKeyMethod: 'generate',
    saveKey: ['secretStorage', 'clipboard'],
    showKey: 'saved',
    // The key was just shown and copied: the user reads its end from there.
    confirmLast4: () => clipboard.text.slice(-4),
    backup: 'backup',
    confirm: 'migrate',
  });

  test('Migrate Keys is a multi-step input: "Step n/m" in every title, Back on every later step, Back past "save" removes the copy', async () => {
    const before = leftovers();
    const { ui, clipboard } = script(api);
    const answers = goOn(clipboard);
    ui.answer('action', answers.action)
      .answer('newKeyMethod', answers.newKeyMethod)
      .answer('saveKey', answers.saveKey)
      .answer('showKey', BACK, 'saved')
      .answer('confirmLast4', answers.confirmLast4)
      .answer('backup', BACK, 'skip')
      .answer('confirm', 'back', undefined);
    let copiesAtSecondSave: number | undefined;
    const wrappedPickMany = ui.pickMany.bind(ui);
    ui.pickMany = async (step, items, options) => {
      if (step === 'saveKey' && ui.steps().includes('showKey')) copiesAtSecondSave = api.ctx.keyCopies.list(fixture.envFile).length;
      return wrappedPickMany(step, items, options);
    };
    assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined);
    assert.deepEqual(ui.steps().filter((s) => s !== 'keyCopied'), [
      'action', 'newKeyMethod', 'saveKey', 'showKey', 'saveKey', 'showKey', 'confirmLast4', 'backup', 'confirmLast4', 'backup', 'confirm', 'backup', 'confirm', 'migrateCancelled',
    ]);
    // Going back from "show" to "save" undid the save: the copy was gone before the second save.
    assert.equal(copiesAtSecondSave, before.copies.length);
    const asked = ui.prompts.filter((p) => p.kind === 'pick' || p.kind === 'pickMany' || p.kind === 'input');
    for (const prompt of asked) {
      const [, n, m] = /^Step (\d+)\/(\d+): /.exec(prompt.message ?? '') ?? [];
      assert.ok(n && m === '7', `${prompt.step}: ${prompt.message}`);
      assert.equal(prompt.back, prompt.step !== 'action', `${prompt.step} Back button`);
    }
    assert.deepEqual(asked.map((p) => Number(/^Step (\d+)/.exec(p.message!)![1])), [1, 2, 3, 4, 3, 4, 5, 6, 5, 6, 6]);
    // The final question can be answered, Back included.
    assert.deepEqual(ui.prompts.find((p) => p.step === 'confirm')?.items, ['migrate', 'back']);
    assert.deepEqual(leftovers(), before);
    assert.equal(clipboard.text, '', 'the new key stayed on the clipboard');
    assert.match(ui.messages('migrateCancelled')[0] ?? '', /unchanged.*removed from secret storage.*cleared from the clipboard/);
  });

  test('Migrate Keys cancelled at each step leaves the .env, the backups and the key copies as they were, and says so', async () => {
    const before = leftovers();
    for (const [index, cancelAt] of WIZARD_STEPS.entries()) {
      const { ui, clipboard } = script(api);
      const answers = goOn(clipboard);
      for (const step of WIZARD_STEPS.slice(0, index)) ui.answer(step, answers[step]);
      ui.answer(cancelAt, undefined);
      assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined, cancelAt);
      assert.deepEqual(ui.steps().filter((s) => s !== 'keyCopied').slice(0, -1), WIZARD_STEPS.slice(0, index + 1), cancelAt);
      assert.deepEqual(leftovers(), before, `left behind when cancelled at ${cancelAt}`);
      assert.equal(clipboard.text, '', `the new key stayed on the clipboard (${cancelAt})`);
      const message = ui.messages('migrateCancelled')[0] ?? '';
      assert.match(message, /the stored keys and .* are unchanged/, cancelAt);
      assert.equal(/removed from secret storage/.test(message), index > WIZARD_STEPS.indexOf('saveKey'), `${cancelAt}: ${message}`);
    }
  });

  test('Migrate Keys waits while GPT-Load runs ("Check again"); a cancel after the backup names the backup it kept', async () => {
    // "GPT-Load" answers /health on the .env's PORT until the user stops it.
    const gptLoad: Server = createServer((_req, res) => res.end('{"status":"healthy"}'));
    await new Promise<void>((resolve) => gptLoad.listen(0, '127.0.0.1', resolve));
    const port = (gptLoad.address() as AddressInfo).port;
    const envBefore = readFileSync(fixture.envFile, 'utf8');
    writeFileSync(fixture.envFile, `${envBefore.replace(/\n?$/, '\n')}PORT=${port}\n`);
    const before = leftovers();
    const changed = api.ctx.backups.changed.bind(api.ctx.backups);
    let kept: string | undefined;
    try {
      // Running: the wizard ends there, nothing backed up, the key copy removed.
      const { ui, clipboard } = script(api);
      const answers = goOn(clipboard);
      for (const step of WIZARD_STEPS) ui.answer(step, answers[step]);
      ui.answer('serviceRunning', undefined);
      assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined);
      assert.deepEqual(ui.steps().filter((s) => s !== 'keyCopied'), [...WIZARD_STEPS, 'serviceRunning', 'migrateCancelled']);
      const refusal = ui.prompts.find((p) => p.step === 'serviceRunning')!;
      assert.ok(refusal.message?.includes(`127.0.0.1:${port}/health`), `the daemon's finding is not shown: ${refusal.message}`);
      assert.deepEqual(refusal.items, ['checkAgain']);
      assert.deepEqual(leftovers(), before);

      // Stopped, "Check again": the backup is taken — and GPT-Load starts again before the switch.
      api.ctx.backups.changed = (deployment) => {
        if (!gptLoad.listening) gptLoad.listen(port, '127.0.0.1');
        changed(deployment);
      };
      const { ui: ui2, clipboard: clipboard2 } = script(api);
      const answers2 = goOn(clipboard2);
      for (const step of WIZARD_STEPS) ui2.answer(step, answers2[step]);
      ui2.answer(
        'serviceRunning',
        () => {
          gptLoad.close();
          gptLoad.closeAllConnections();
          return 'checkAgain';
        },
        undefined,
      );
      assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined);
      assert.deepEqual(ui2.steps().filter((s) => s !== 'keyCopied'), [...WIZARD_STEPS, 'serviceRunning', 'serviceRunning', 'migrateCancelled']);
      const after = leftovers();
      assert.equal(after.env, before.env, 'the .env changed');
      assert.deepEqual(after.copies, before.copies, 'the unused key copy was kept');
      const added = after.backups.filter((b) => !before.backups.includes(b) && !b.endsWith('.sha256'));
      assert.equal(added.length, 1, `backups: ${after.backups.join(', ')}`);
      kept = join(fixture.workspace, 'backups', added[0]);
      const message = ui2.messages('migrateCancelled')[0] ?? '';
      assert.ok(message.includes(kept), `the kept backup is not named: ${message}`);
      assert.match(message, /unchanged/);
    } finally {
      api.ctx.backups.changed = changed;
      gptLoad.close();
      gptLoad.closeAllConnections();
      writeFileSync(fixture.envFile, envBefore);
      if (kept) for (const file of [kept, `${kept}.sha256`]) rmSync(file, { force: true });
    }
  });

  test('Migrate Keys with the weak ENCRYPTION_KEY already in .env shows GPT-Load\'s warnings and needs "Use it anyway"', async () => {
    const envBefore = readFileSync(fixture.envFile, 'utf8');
    writeFileSync(fixture.envFile, envBefore.replace(/^ENCRYPTION_KEY=.*$/m, 'ENCRYPTION_KEY=abc123'));
    try {
      const before = leftovers();
      const { ui } = script(api);
      ui.answer('action', 'enable')
        .answer('newKeyMethod', 'env', 'env')
        .answer('weakKey', 'other', 'use')
        .answer('saveKey', [])
        .answer('backup', 'skip')
        .answer('confirm', 'migrate');
      // The migration request is caught on its way to the daemon (and answered "cancelled"): it must carry allowWeakKey.
      const request = api.ctx.daemon.request.bind(api.ctx.daemon);
      let sent: Record<string, unknown> | undefined;
      api.ctx.daemon.request = (async (type: { method: string }, params: Record<string, unknown>, options: unknown) => {
        if (type.method !== 'gptLoad/migrate') return request(type as never, params as never, options as never);
        sent = params;
        throw Object.assign(new Error('cancelled'), { code: -32800 });
      }) as typeof api.ctx.daemon.request;
      try {
        assert.equal(await vscode.commands.executeCommand('gptLoad.migrateKeys', fixture.envFile), undefined);
      } finally {
        api.ctx.daemon.request = request;
      }
      assert.equal(sent?.allowWeakKey, true, 'the daemon was not told the weak key was accepted');
      // "Choose another" went back to the method; a key from the .env is neither shown nor asked for again.
      assert.deepEqual(ui.steps(), ['action', 'newKeyMethod', 'weakKey', 'newKeyMethod', 'weakKey', 'saveKey', 'backup', 'confirm', 'migrateCancelled']);
      assert.match(ui.messages('migrateCancelled')[0] ?? '', /unchanged/);
      const weak = ui.prompts.find((p) => p.step === 'weakKey')!;
      assert.deepEqual(weak.items, ['other', 'use']);
      assert.ok(weak.back, 'the weak-key step has no Back button');
      // GPT-Load's own warnings: migrate-keys' length check and the dashboard's verdict on ENCRYPTION_KEY.
      assert.match(weak.placeHolder ?? '', /shorter than 16 characters/);
      assert.match(weak.placeHolder ?? '', /ENCRYPTION_KEY/);
      assert.match(weak.message ?? '', /weak/);
      assert.deepEqual(leftovers(), before);
    } finally {
      writeFileSync(fixture.envFile, envBefore);
    }
  });

  test('restart advice names the command only for the deployment found beside the .env, with Copy', async () => {
    const layouts: Array<{ file?: string; text?: string; command: string | null }> = [
      { file: 'docker-compose.yml', text: 'services:\n  gpt-load-app:\n    image: ghcr.io/tbphp/gpt-load:latest\n    env_file: .env\n', command: 'docker compose up -d --force-recreate gpt-load-app' },
      { file: 'Makefile', text: 'run:\n\tgo run .\n', command: 'make run' },
      { file: 'gpt-load', text: '', command: './gpt-load' },
      { command: null },
    ];
    for (const layout of layouts) {
      const path = layout.file ? join(fixture.workspace, layout.file) : undefined;
      if (path) writeFileSync(path, layout.text ?? '');
      try {
        const { ui, clipboard } = script(api);
        ui.answer('rotateConfirm', 'rotate').answer('removeOldProxyKey', 'keep').answer('authKeyRotated', 'copyCommand');
        await vscode.commands.executeCommand('gptLoad.rotateAuthKey', fixture.envFile);
        const notice = ui.prompts.find((p) => p.step === 'authKeyRotated')!;
        const sentences = (notice.message ?? '').split(/(?<=\.) /);
        const restart = sentences.filter((s) => /restart/i.test(s));
        assert.equal(restart.length, 1, `one restart sentence: ${notice.message}`);
        if (layout.command) {
          assert.ok(restart[0].includes(layout.command), restart[0]);
          assert.ok(notice.items?.includes('copyCommand'));
          assert.equal(clipboard.text, layout.command);
        } else {
          assert.doesNotMatch(notice.message ?? '', /\.\/gpt-load|make run|docker compose/);
          assert.ok(!notice.items?.includes('copyCommand'), 'Copy offered without a command');
        }
      } finally {
        if (path) rmSync(path, { force: true });
      }
    }
  });

  test('the quick fix of "AUTH_KEY is also a proxy key" removes it from the stored proxy keys after asking', async () => {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const dbFile = join(fixture.workspace, 'data', 'gpt-load.db');
    const globalProxyKeys = (value?: string) => {
      const db = new Database(dbFile);
      try {
        if (value !== undefined) db.prepare("UPDATE system_settings SET setting_value = ? WHERE setting_key = 'proxy_keys'").run(value);
        return (db.prepare("SELECT setting_value FROM system_settings WHERE setting_key = 'proxy_keys'").get() as { setting_value: string }).setting_value;
      } finally {
        db.close();
      }
    };
    const authKey = envValue(fixture.envFile, 'AUTH_KEY')!;
    const before = globalProxyKeys(`${authKey},client-Kq7-proxy-key-0123456789`);
    try {
      const { ui } = script(api);
      ui.answer('removeProxyKeyConfirm', undefined);
      await vscode.commands.executeCommand('gptLoad.removeAuthKeyFromProxyKeys', vscode.Uri.file(fixture.envFile).toString());
      assert.equal(globalProxyKeys(), before, 'changed without a yes');
      ui.answer('removeProxyKeyConfirm', 'remove');
      await vscode.commands.executeCommand('gptLoad.removeAuthKeyFromProxyKeys', vscode.Uri.file(fixture.envFile).toString());
      assert.equal(globalProxyKeys(), 'client-Kq7-proxy-key-0123456789');
      const message = ui.messages('proxyKeyRemoved')[0] ?? '';
      assert.match(message, /^AUTH_KEY was removed from GPT-Load's stored proxy keys \(global\)/);
      assert.match(message, /restart|next start/i);
      assert.ok(!message.includes(authKey), 'the key is shown');
    } finally {
      globalProxyKeys('');
    }
  });

  test('Migrate Keys enables encryption end to end: database encrypted, .env updated, keys still reveal', async () => {
    const { ui } = script(api);
    ui.answer('action', 'enable')
      .answer('newKeyMethod', 'generate')
      .answer('backup', 'backup')
      .answer('saveKey', ['secretStorage'])
      .answer('showKey', 'saved')
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
    // GPT-Load was not running: the service check passed silently before the backup.
    assert.deepEqual(ui.steps().slice(0, -1), WIZARD_STEPS);
    assert.ok(!ui.steps().includes('serviceRunning'), ui.steps().join(' → '));
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
    // Nothing beside this .env says how GPT-Load runs: one sentence says how to restart, no command guessed.
    assert.match(ui.messages('migrated')[0] ?? '', /ENCRYPTION_KEY in \.env is updated\. Restart GPT-Load the way it is run here/);
    assert.ok(!ui.prompts.find((p) => p.step === 'migrated')?.items?.includes('copyCommand'));
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

  test('Show Status opens its report rendered (Markdown preview), in a tab titled by what it is', async () => {
    const { ui } = script(api);
    await vscode.commands.executeCommand('gptLoad.showStatus', fixture.envFile);
    const tab = await waitFor('the rendered status report', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.includes('Encryption status — ')),
    );
    assert.match((tab.input as vscode.TabInputWebview).viewType, /markdown\.preview/);
    assert.ok(!tab.label.endsWith('.md'), tab.label);
    // The Markdown source is not opened as an editor tab of its own.
    assert.ok(!vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'gptload-report'));
    const deployment = await api.ctx.deployments.forEnvFile(fixture.envFile);
    assert.ok(tab.label.includes(`Encryption status — ${deployment.label}`), tab.label);
    const uri = api.ctx.reports.uriOf(`Encryption status — ${deployment.label}`, fixture.envFile);
    const source = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(source, /^# GPT-Load encryption status/);
    assert.match(source, new RegExp(`\\| api_keys \\| ${fixture.keys.toLocaleString('en-US')} \\|`));
    await vscode.window.tabGroups.close(tab);
    assert.deepEqual(ui.steps(), []);
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
