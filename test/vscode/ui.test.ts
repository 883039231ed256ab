// UI test: the packaged .vsix installed into code-server, "GPT-Load: Migrate Keys" run from the
// command palette in headless Chromium and answered like a user would (a screenshot of a wizard step,
// its "Step n/m" title and Back button checked); then the database must be encrypted with the typed
// key and the .env must hold it, "GPT-Load: Create Backup" must show a working backup in the
// explorer, "Show Encryption Status" must open rendered (screenshot, text checked) and the hover on
// AUTH_KEY must be one short paragraph (screenshot). Screenshots on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { ensurePrerequisites, installExtension, openWorkbench, packageVsix, startCodeServer, type Workbench } from './support/codeServer';
import { REPO_ROOT } from './support/layout';
import { createTestDeployment } from './deployment';

const prerequisites = ensurePrerequisites();
if (!prerequisites.ok && process.env.CI) {
  test('VS Code e2e prerequisites are installed', () => assert.fail(prerequisites.reason));
}

/** The key the test types: 48 characters, strong as GPT-Load judges it, nothing .env or Compose treat specially. */
const NEW_KEY = 'Zq7-Wm4.Rx9_Vn2-Hb5.Jc8_Lf3-Pd6.Gs1_Ny0-Ek3.Tu7_';

/** Picks the quick-pick row labelled `label` from the keyboard (a hover over the row the mouse rests on would take the click). */
async function pick(workbench: Workbench, label: string): Promise<void> {
  const row = workbench.page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await workbench.page.locator('.quick-input-widget input.input').fill(label);
  await workbench.page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: label }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await workbench.page.keyboard.press('Enter');
}

async function type(workbench: Workbench, text: string): Promise<void> {
  const input = workbench.page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(text);
  await workbench.page.keyboard.press('Enter');
}

async function dialogButton(workbench: Workbench, title: string): Promise<void> {
  const button = workbench.page.locator('.monaco-dialog-box .dialog-buttons a.monaco-button', { hasText: title }).first();
  await button.waitFor({ state: 'visible', timeout: 30_000 });
  await button.click();
}

/** Quick Open (F1 without ">"): a file by path, or ":LINE:COL" in the active editor; Enter on the row matching `row`. */
async function quickOpen(workbench: Workbench, query: string, row?: string): Promise<void> {
  const { page } = workbench;
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(query);
  if (row) await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: row }).first().waitFor({ state: 'visible', timeout: 30_000 });
  else await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
}

/** The text of the first webview frame (a rendered report) whose text matches. */
async function renderedText(workbench: Workbench, match: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of workbench.page.frames()) {
      const text = await frame.locator('body').innerText({ timeout: 1_000 }).catch(() => '');
      if (match.test(text)) return text;
    }
    if (Date.now() > deadline) throw new Error(`no rendered page matches ${match}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The first finished backup (not a partial, not a digest sidecar) to appear in `folder`. */
async function waitForBackupFile(folder: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = existsSync(folder) ? readdirSync(folder).find((f) => f.endsWith('.db')) : undefined;
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no backup appeared in ${folder} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('UI: Migrate Keys from the command palette encrypts the database and updates .env', { skip: prerequisites.ok ? false : prerequisites.reason }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'glk-ui-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'copy-native.mjs')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  const vsix = packageVsix(REPO_ROOT, join(scratch, 'gpt-load-keystore.vsix'));
  const extensionsDir = join(scratch, 'extensions');
  installExtension(vsix, extensionsDir);

  const deployment = await createTestDeployment(t, 40);
  const { fixture } = deployment;
  const server = await startCodeServer({ workspace: fixture.workspace, extensionsDir });
  t.after(() => server.stop());
  const workbench = await openWorkbench({ server, folder: fixture.workspace });
  t.after(() => workbench.close());
  try {
    await workbench.waitForActivityBarItem('GPT-Load');
    await workbench.runCommand('GPT-Load: Migrate Keys');
    await pick(workbench, 'Enable encryption');
    await pick(workbench, 'Type a key');
    // The key's input box replaces the pick: typing before it is there would go to the old one.
    await workbench.page.locator('.quick-input-widget .quick-input-title', { hasText: 'New ENCRYPTION_KEY' }).waitFor({ state: 'visible', timeout: 30_000 });
    await type(workbench, NEW_KEY);
    await workbench.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'secret storage' }).first().waitFor({ state: 'visible' });
    // The save step: "Step 3/5" in its title and a Back button, as the user sees it.
    const title = (await workbench.page.locator('.quick-input-widget .quick-input-title').textContent()) ?? '';
    assert.match(title, /^Step 3\/5: Save the new ENCRYPTION_KEY/);
    assert.ok(await workbench.page.locator('.quick-input-widget .quick-input-titlebar a[aria-label="Back"], .quick-input-widget .quick-input-titlebar .codicon-quick-input-back').first().isVisible());
    t.diagnostic(`wizard step: ${await workbench.screenshot('ui-wizard-step')}`);
    await workbench.page.keyboard.press('Enter'); // keep the preselected "store in secret storage"
    await pick(workbench, 'Skip: I have a current backup');
    await dialogButton(workbench, 'Migrate');
    const message = await workbench.waitForNotification(/Encrypted \d+ keys/, 120_000);
    assert.match(message, new RegExp(`Encrypted ${fixture.keys} keys`));

    // A backup from the palette; it shows in the explorer's Backups node with its verdict. The workbench
    // shows at most 3 toasts: the migration's (result, closing progress) would push the backup's into the
    // notification centre when the backup's progress toast is still up.
    await workbench.runCommand('Notifications: Clear All Notifications');
    await workbench.runCommand('GPT-Load: Create Backup');
    // The result toast can come and go while a loaded machine repaints: the file is the proof, the
    // toast (when still up) must name the key count.
    const backupFile = await waitForBackupFile(join(fixture.workspace, 'backups'), 60_000);
    assert.match(backupFile, /^gpt-load-sqlite-.*\.db$/);
    const toast = (await workbench.notifications()).find((text) => /written and verified/.test(text));
    if (toast !== undefined) assert.match(toast, new RegExp(`\\(${fixture.keys} keys\\)`));
    await workbench.openActivityBarItem('GPT-Load');
    await workbench.page.locator('.monaco-list-row', { has: workbench.page.locator('.label-name', { hasText: /^Backups$/ }) }).first().click();
    const row = workbench.page.locator('.monaco-list-row', { has: workbench.page.locator('.label-name', { hasText: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/ }) }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await row.locator('.label-description').textContent()) ?? '', /works with the current key/);

    // The status report opens rendered (Markdown preview) in a tab named for what it is.
    await workbench.runCommand('GPT-Load: Show Encryption Status');
    const tab = workbench.page.locator('.tabs-container .tab', { hasText: 'Encryption status — ' }).first();
    await tab.waitFor({ state: 'visible', timeout: 60_000 });
    const report = await renderedText(workbench, /GPT-Load encryption status/, 60_000);
    assert.match(report, /api_keys/);
    assert.match(report, new RegExp(`State:?\\s*encrypted`, 'i'));
    assert.doesNotMatch(report, /\| ---|\*\*/, 'the report shows Markdown source');
    t.diagnostic(`rendered report: ${await workbench.screenshot('ui-status-report')}`);

    // The hover on the weak sample's AUTH_KEY: one short paragraph, what GPT-Load reads and the verdict, one link.
    const authLine = readFileSync(fixture.weakEnvFile, 'utf8').split('\n').findIndex((l) => l.startsWith('AUTH_KEY=')) + 1;
    await quickOpen(workbench, 'lint-sample/.env', 'lint-sample');
    await workbench.page.locator('.monaco-editor .view-lines', { hasText: 'AUTH_KEY=' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await quickOpen(workbench, `:${authLine}:3`);
    await workbench.runCommand('Show or Focus Hover');
    const hover = workbench.page.locator('.monaco-hover-content').filter({ hasText: 'AUTH_KEY' }).first();
    await hover.waitFor({ state: 'visible', timeout: 30_000 });
    const hoverText = (await hover.textContent()) ?? '';
    assert.match(hoverText, /AUTH_KEY — GPT-Load reads .+ bytes\. (⚠ )?Dashboard: /);
    assert.equal(await hover.locator('a').count(), 1);
    t.diagnostic(`hover: ${await workbench.screenshot('ui-hover')}`);  } catch (error) {
    await workbench.saveFailure('ui-migrate-keys');
    throw error;
  }

  // .env holds the new key, and every stored key decrypts with it to the seeded plaintext.
  assert.match(readFileSync(fixture.envFile, 'utf8'), new RegExp(`^ENCRYPTION_KEY=['"]?${NEW_KEY}['"]?$`, 'm'));
  const store = await deployment.db.open();
  try {
    const codec = codecFor(NEW_KEY);
    const rows = (await store.query('SELECT id, key_value, key_hash FROM api_keys ORDER BY id')) as Array<{ id: number; key_value: string; key_hash: string }>;
    assert.equal(rows.length, fixture.keys);
    for (const row of rows) {
      const plaintext = deployment.db.plaintexts.get(Number(row.id));
      assert.notEqual(row.key_value, plaintext);
      assert.equal(codec.decrypt(row.key_value), plaintext);
      assert.equal(row.key_hash, codec.hash(plaintext!));
    }
  } finally {
    await store.close();
  }
});
