// Where the VS Code tests find things. Both runners (code-server here, test-electron on machines with
// internet) use these paths, so the same suite runs in both.
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The extension under test: package.json (`main: ./dist/client.js`) at the repository root. */
export const EXTENSION_ROOT = REPO_ROOT;

/** Sources of the extension-host mocha suite: `index.ts` (entry) and `*.test.ts`. */
export const SUITE_SOURCE = join(REPO_ROOT, 'test', 'vscode', 'suite');

/** Where {@link bundleSuite} writes the suite; `index.js` there is the extensionTestsPath. */
export const SUITE_OUT = join(REPO_ROOT, 'dist-test', 'vscode', 'suite');

/** Files the suite's window opens, copied fresh for each run by makeWorkspace(). */
export const WORKSPACE_FIXTURE = join(REPO_ROOT, 'test', 'vscode', 'fixtures', 'workspace');

/** Scratch space the tests may write (ignored by git): built fixture suites, screenshots. */
export const E2E_CACHE = join(REPO_ROOT, '.cache', 'vscode-e2e');

/** Screenshots and logs of failed runs; CI may upload this folder. */
export const ARTIFACTS_DIR = resolve(process.env.GLK_VSCODE_ARTIFACTS ?? join(E2E_CACHE, 'artifacts'));

/** A fresh temp copy of `fixture` (an empty folder when it does not exist) for a window to open and change. */
export function makeWorkspace(fixture = WORKSPACE_FIXTURE): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-ws-'));
  if (existsSync(fixture)) cpSync(fixture, dir, { recursive: true });
  return dir;
}
