// Runs the extension-host mocha suite (suite/) in code-server: once in a trusted workspace holding a
// GPT-Load SQLite deployment, once in a restricted one. Each session costs 13–26 s, so each runs the
// whole suite of its mode. On machines that can download VS Code, runElectron.ts runs the same suite.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundleSuite } from './support/bundleSuite';
import { ensurePrerequisites, runExtensionTests, startCodeServer } from './support/codeServer';
import { EXTENSION_ROOT, REPO_ROOT } from './support/layout';
import { createTestDeployment } from './deployment';

const prerequisites = ensurePrerequisites();
if (!prerequisites.ok && process.env.CI) {
  test('VS Code e2e prerequisites are installed', () => assert.fail(prerequisites.reason));
}

/** The shipped SQLite module and its ABI (dist/native), as in the .vsix. */
function copyNative(): void {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'copy-native.mjs')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

describe('GPT-Load Keystore extension in VS Code (code-server)', { skip: prerequisites.ok ? false : prerequisites.reason }, () => {
  let bundled: Promise<string> | undefined;
  // better-sqlite3 stays external: the suite edits the fixture database directly (native, loaded at run time).
  const suiteEntry = () => (bundled ??= (copyNative(), bundleSuite(undefined, undefined, ['better-sqlite3'])));

  test('extension-host suite in a trusted workspace', async (t) => {
    const deployment = await createTestDeployment(t);
    const entry = await suiteEntry();
    const server = await startCodeServer({ workspace: deployment.fixture.workspace, env: deployment.env });
    try {
      const result = await runExtensionTests({
        server,
        extensionDevelopmentPath: EXTENSION_ROOT,
        extensionTestsPath: entry,
        workspace: deployment.fixture.workspace,
        timeoutMs: 240_000,
        name: 'extension-suite-trusted',
      });
      t.diagnostic(result.log.split('\n').filter((l) => /activation:|migrate wizard:|passing|failing|pending/.test(l)).join('\n'));
      assert.equal(result.exitCode, 0, `suite failed (screenshot ${result.screenshot}):\n${result.log}`);
      assert.match(result.log, /^\s*\d+ passing/m);
      assert.doesNotMatch(result.log, /^\s*\d+ failing/m);
    } finally {
      await server.stop();
    }
  });

  test('extension-host suite in a restricted workspace', async (t) => {
    const deployment = await createTestDeployment(t, 20);
    const entry = await suiteEntry();
    const server = await startCodeServer({
      workspace: deployment.fixture.workspace,
      workspaceTrust: true,
      userSettings: { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never', 'security.workspace.trust.emptyWindow': false },
      env: { ...deployment.env, GLK_VSCODE_GREP: 'restricted workspace' },
    });
    try {
      const result = await runExtensionTests({
        server,
        extensionDevelopmentPath: EXTENSION_ROOT,
        extensionTestsPath: entry,
        workspace: deployment.fixture.workspace,
        timeoutMs: 180_000,
        name: 'extension-suite-restricted',
      });
      assert.equal(result.exitCode, 0, `suite failed (screenshot ${result.screenshot}):\n${result.log}`);
      assert.match(result.log, /^\s*5 passing/m, result.log);
    } finally {
      await server.stop();
    }
  });
});
