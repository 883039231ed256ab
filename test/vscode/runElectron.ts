// Runs the extension-host mocha suite in desktop VS Code through @vscode/test-electron, for machines
// that can reach update.code.visualstudio.com (the CI machines cannot: they run the same suite in
// code-server, see README.md). Downloads VS Code into .vscode-test/ on first use.
// Usage: npm run build && npx tsx test/vscode/runElectron.ts
//   GLK_VSCODE_VERSION=stable|1.100.3 (default: the VS Code inside our code-server), GLK_VSCODE_GREP=pattern
// Desktop VS Code runs extensions on Electron's Node (another ABI than Node 20): native modules built
// for the system Node do not load there, which this runner exposes and code-server does not.
import { runTests } from '@vscode/test-electron';
import { rmSync } from 'node:fs';
import versions from '../../scripts/vscode-e2e/code-server.json';
import { bundleSuite } from './support/bundleSuite';
import { EXTENSION_ROOT, makeWorkspace } from './support/layout';

async function main(): Promise<number> {
  const extensionTestsPath = await bundleSuite(undefined, undefined, ['better-sqlite3']);
  const workspace = makeWorkspace();
  try {
    return await runTests({
      version: process.env.GLK_VSCODE_VERSION ?? versions.vscode,
      extensionDevelopmentPath: EXTENSION_ROOT,
      extensionTestsPath,
      extensionTestsEnv: { GLK_VSCODE_GREP: process.env.GLK_VSCODE_GREP },
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (error) {
    console.error(`VS Code tests failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
