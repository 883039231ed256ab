// Proves the VS Code harness on a throwaway extension: the extension-host mocha suite (pass and fail)
// and a UI smoke test, all against one code-server session (each session costs 13–26 s).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleSuite } from './support/bundleSuite';
import {
  ensurePrerequisites,
  installExtension,
  openWorkbench,
  packageVsix,
  runExtensionTests,
  startCodeServer,
  type CodeServer,
} from './support/codeServer';
import { E2E_CACHE } from './support/layout';
import {
  SMOKE_COMMAND_TITLE,
  SMOKE_CONTAINER_TITLE,
  SMOKE_VIEW_NAME,
  writeSmokeExtension,
} from './fixtures/smokeExtension';

// Installs code-server and chromium when missing (CI starts clean); skips without them, except under CI.
const prerequisites = ensurePrerequisites();
if (!prerequisites.ok) {
  const reason = prerequisites.reason;
  if (process.env.CI) test('VS Code e2e prerequisites are installed', () => assert.fail(reason));
  else test('VS Code harness (code-server)', { skip: reason }, () => {});
} else describe('VS Code harness (code-server)', () => {
  let scratch: string;
  let suiteDir: string;
  let extensionDir: string;
  let workspace: string;
  let server: CodeServer;
  const timings: string[] = [];
  const timed = async <T>(label: string, work: () => T | Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await work();
    timings.push(`${label} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'glk-harness-'));
    extensionDir = writeSmokeExtension(join(scratch, 'extension'));
    workspace = join(scratch, 'workspace');
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'hello.txt'), 'hello\n');
    // Inside the repository, like dist-test/: the suite's require('mocha') walks up to <repo>/node_modules.
    mkdirSync(E2E_CACHE, { recursive: true });
    suiteDir = mkdtempSync(join(E2E_CACHE, 'smoke-suite-'));
    await timed('bundle suite', () => bundleSuite(join(__dirname, 'fixtures', 'smoke-suite'), suiteDir));

    // The same extension, packaged and installed, serves the UI test; the suite's window loads the
    // development copy instead (a development extension takes precedence over an installed one).
    const extensionsDir = join(scratch, 'extensions');
    const vsix = await timed('vsce package', () => packageVsix(extensionDir, join(scratch, 'glk-smoke.vsix')));
    await timed('install .vsix', () => installExtension(vsix, extensionsDir));
    server = await timed('start code-server', () => startCodeServer({
      workspace,
      extensionsDir,
      userSettings: { 'glkSmoke.greeting': 'Hi' },
      env: { GLK_E2E_MARKER: 'from-harness', GLK_SMOKE_WORKSPACE: workspace },
    }));
  });

  after(async () => {
    await timed('stop code-server', () => server?.stop());
    console.error(`[vscode-e2e] timings: ${timings.join(', ')}`);
    rmSync(scratch, { recursive: true, force: true });
    rmSync(suiteDir, { recursive: true, force: true });
  });

  test('the extension-host mocha suite runs and reports success', async () => {
    const result = await timed('suite run (pass)', () => runExtensionTests({
      server,
      extensionDevelopmentPath: extensionDir,
      extensionTestsPath: join(suiteDir, 'index.js'),
      workspace,
      timeoutMs: 120_000,
      name: 'harness-suite-pass',
    }));
    assert.equal(result.exitCode, 0, `suite failed (screenshot ${result.screenshot}):\n${result.log}`);
    assert.match(result.log, /^\s*4 passing/m, result.log);
    // The extension host runs on the Node running these tests (the system Node 20): same native ABI.
    assert.ok(
      result.log.includes(`extension host: Node ${process.version} (ABI ${process.versions.modules})`),
      result.log,
    );
  });

  test('a failing suite reports a non-zero exit code and leaves a screenshot', async () => {
    const marker = join(workspace, 'FAIL_ON_PURPOSE');
    writeFileSync(marker, '');
    try {
      const result = await timed('suite run (fail)', () => runExtensionTests({
        server,
        extensionDevelopmentPath: extensionDir,
        extensionTestsPath: suiteDir, // a folder holding index.js works too
        workspace,
        timeoutMs: 120_000,
        name: 'harness-suite-fail-on-purpose',
        artifactsDir: join(scratch, 'artifacts'), // expected failure: keep it out of the real artifacts
      }));
      assert.notEqual(result.exitCode, 0, result.log);
      assert.equal(result.timedOut, false);
      assert.match(result.log, /^\s*3 passing/m, result.log);
      assert.match(result.log, /^\s*1 failing/m, result.log);
      assert.match(result.log, /FAIL_ON_PURPOSE marker present/, result.log);
      assert.ok(result.screenshot && readFileSync(result.screenshot).length > 0, 'no screenshot');
    } finally {
      rmSync(marker, { force: true });
    }
  });

  test('UI: the installed .vsix shows its view, runs from the palette and notifies', async () => {
    const outputFile = join(workspace, 'smoke-output.txt');
    rmSync(outputFile, { force: true });
    const started = Date.now();
    const workbench = await openWorkbench({ server, folder: workspace });
    timings.push(`open workbench ${((Date.now() - started) / 1000).toFixed(1)} s`);
    try {
      await workbench.waitForActivityBarItem(SMOKE_CONTAINER_TITLE);
      timings.push(`activity-bar item ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await workbench.runCommand(SMOKE_COMMAND_TITLE);
      const message = await workbench.waitForNotification('from GLK smoke');
      assert.equal(message, 'Hi from GLK smoke (marker from-harness)');
      assert.equal(readFileSync(outputFile, 'utf8'), 'Hi from-harness\n');
      await workbench.openActivityBarItem(SMOKE_CONTAINER_TITLE);
      assert.deepEqual(await workbench.treeItems(SMOKE_VIEW_NAME), ['alpha', 'beta']);
      timings.push(`UI test ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      await workbench.saveFailure('harness-ui');
      throw error;
    } finally {
      await workbench.close();
    }
  });
});
