// The body of an extension-host suite entry: `export function run() { return runMochaSuite(__dirname); }`.
// Runs inside VS Code's extension host (code-server or test-electron), bundled into the suite's
// index.js by bundleSuite(). `mocha` stays external there, so Node resolves it from the bundle's own
// folder upwards: dist-test/vscode/suite/index.js → <repo>/node_modules/mocha.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The suite's test files as built. Name the sources `*.suite.ts`: scripts/test.mjs runs every
 * `test/**\/*.test.ts` with node's test runner, where `vscode` does not exist. `*.test.js` (built from
 * a `*.test.ts`) is still accepted.
 */
const SUITE_FILE = /\.(suite|test)\.js$/;

/** Runs every suite file beside the entry (sorted); rejects when any test fails. GLK_VSCODE_GREP filters. */
export function runMochaSuite(dir: string, options: Mocha.MochaOptions = {}): Promise<void> {
  const grep = process.env.GLK_VSCODE_GREP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, ...(grep ? { grep } : {}), ...options });
  const files = readdirSync(dir).filter((name) => SUITE_FILE.test(name)).sort();
  for (const name of files) mocha.addFile(join(dir, name));
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
}
