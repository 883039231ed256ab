// The extension's manifest and translations, checked without VS Code: every %placeholder% and every
// t('…') message has its English and Chinese text, and the .vsix allowlist ships the bundles but no
// sources. The command ids against package.json: test/unit/commandIds.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backupContextValue, restorableHere } from '../../client/src/backupVerdicts';
import { BACKUP_VERDICTS } from '../../shared/types';
import { CommandIds } from '../../shared/commands';
import { REPO_ROOT } from './support/layout';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const json = (path: string) => JSON.parse(read(path));
const pkg = json('package.json');

function sources(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(REPO_ROOT, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The English messages passed to t('…') in the client (string literals only, as the code uses). */
function messages(): Set<string> {
  const found = new Set<string>();
  for (const file of sources('client/src')) {
    for (const match of read(file).matchAll(/\bt\(\s*'((?:[^'\\]|\\.)*)'/g)) found.add(match[1].replace(/\\'/g, "'"));
    // tn(count, 'one', 'other'): both English templates are messages.
    for (const match of read(file).matchAll(/\btn\([^,]+,\s*'((?:[^'\\]|\\.)*)',\s*'((?:[^'\\]|\\.)*)'/g)) for (const m of [match[1], match[2]]) found.add(m.replace(/\\'/g, "'"));
  }
  return found;
}

test('package.nls.json and package.nls.zh-cn.json cover every %placeholder% of package.json', () => {
  const used = new Set([...JSON.stringify(pkg).matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]));
  const en = json('package.nls.json');
  const zh = json('package.nls.zh-cn.json');
  for (const key of used) {
    assert.ok(en[key], `package.nls.json lacks ${key}`);
    assert.ok(zh[key], `package.nls.zh-cn.json lacks ${key}`);
  }
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
});

test('every message of the client has a Simplified Chinese translation with the same placeholders', () => {
  const bundle: Record<string, string> = json('l10n/bundle.l10n.zh-cn.json');
  const placeholders = (text: string) => [...new Set(text.match(/\{\d+\}/g) ?? [])].sort();
  const missing = [...messages()].filter((m) => !(m in bundle));
  assert.deepEqual(missing, [], 'add these to l10n/bundle.l10n.zh-cn.json');
  for (const [en, zh] of Object.entries(bundle)) assert.deepEqual(placeholders(zh), placeholders(en), en);
});

test('activation is lazy and the workspace-trust restrictions name the settings that decide what runs', () => {
  assert.ok(!pkg.activationEvents.includes('*'));
  assert.deepEqual(pkg.activationEvents.sort(), ['onLanguage:dotenv', 'workspaceContains:**/.env']);
  const trust = pkg.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, 'limited');
  // A workspace must not keep a copied secret on the clipboard longer (clipboard.clearAfterSeconds).
  assert.deepEqual(trust.restrictedConfigurations.sort(), ['gptLoad.clipboard.clearAfterSeconds', 'gptLoad.daemon.runtime', 'gptLoad.database.dsn', 'gptLoad.database.host', 'gptLoad.redis.host']);
  for (const key of trust.restrictedConfigurations) assert.equal(pkg.contributes.configuration.properties[key].restricted, true, key);
  assert.equal(pkg.engines.vscode, '^1.100.0');
});

test('.vscodeignore is an allowlist of bundles, manifest, translations, README, LICENSE and icon', () => {
  const lines = read('.vscodeignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '**');
  const allowed = lines.slice(1);
  assert.ok(allowed.every((l) => l.startsWith('!')));
  for (const needed of ['!dist/client.js', '!dist/server.js', '!dist/cli.js', '!dist/worker.js', '!dist/native/**', '!LICENSE', '!README.md', '!l10n/**', `!${pkg.icon}`]) {
    assert.ok(allowed.includes(needed), needed);
  }
  assert.ok(!allowed.some((l) => /\.ts$|\.map|client\/src|server\/|test\//.test(l)), 'a source or test path is allowed');
});

test('backups and key copies: commands, explorer menus and the reminder setting', () => {
  const nls = json('package.nls.json');
  const zh = json('package.nls.zh-cn.json');
  const titles = Object.fromEntries(pkg.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title.replace(/^%|%$/g, '')]));
  const expected: Record<string, [string, string]> = {
    [CommandIds.createBackup]: ['Create Backup', '创建备份'],
    [CommandIds.checkBackup]: ['Check Backup', '检查备份'],
    [CommandIds.restoreBackup]: ['Restore Backup', '恢复备份'],
    [CommandIds.checkKeyBackups]: ['Check Key Backups', '检查密钥备份'],
    [CommandIds.saveKeyCopy]: ['Save a Copy of ENCRYPTION_KEY', '保存 ENCRYPTION_KEY 副本'],
    [CommandIds.forgetKeyCopy]: ['Forget a Copy of ENCRYPTION_KEY', '删除 ENCRYPTION_KEY 副本'],
  };
  for (const [id, [en, cn]] of Object.entries(expected)) {
    assert.equal(nls[titles[id]], en, id);
    assert.equal(zh[titles[id]], cn, id);
  }

  type Menu = { command: string; when: string; group?: string };
  const menus = pkg.contributes.menus as Record<string, Menu[]>;
  assert.ok(menus['view/title'].some((m) => m.command === CommandIds.createBackup && m.when === 'view == gptLoad.keys' && m.group?.startsWith('navigation')), 'Create Backup is not a view title action');
  // `when` clauses of backup rows, evaluated for each row's contextValue (client/src/backupVerdicts.ts).
  const matches = (when: string, contextValue: string) => {
    const clause = when.split('&&').map((c) => c.trim()).find((c) => c.startsWith('viewItem'))!;
    const regex = clause.match(/^viewItem =~ \/(.*)\/$/);
    return regex ? new RegExp(regex[1]).test(contextValue) : clause === `viewItem == ${contextValue}`;
  };
  const rowMenus = (command: string) => menus['view/item/context'].filter((m) => m.command === command && m.when.includes('viewItem =~ /^gptLoad\\.backup\\.'));
  for (const verdict of [...BACKUP_VERDICTS, undefined]) {
    const value = backupContextValue(verdict);
    assert.ok(rowMenus(CommandIds.checkBackup).some((m) => matches(m.when, value)), `no Check Backup on ${value}`);
    assert.equal(rowMenus(CommandIds.restoreBackup).some((m) => matches(m.when, value)), restorableHere(verdict), `Restore Backup on ${value}`);
  }
  assert.ok(!rowMenus(CommandIds.restoreBackup).some((m) => m.group?.startsWith('inline')), 'Restore Backup must not be one click away');
  assert.ok(menus['view/item/context'].some((m) => m.command === CommandIds.createBackup && m.when.includes('viewItem == gptLoad.backups')));

  const reminder = pkg.contributes.configuration.properties['gptLoad.keyBackups.reminderDays'];
  assert.equal(reminder.default, 30);
  assert.equal(reminder.minimum, 0);
});
