// The body of an extension-host suite entry: `export function run() { return runMochaSuite(__dirname); }`.
// Runs inside VS Code's extension host (code-server or test-electron), bundled into the suite's
// index.js by bundleSuite(). `mocha` stays external there, so Node resolves it from the bundle's own
// folder upwards: dist-test/vscode/suite/index.js → <repo>/node_modules/mocha.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs every `*.test.js` beside the entry (sorted); rejects when any test fails. */
export function runMochaSuite(dir: string, options: Mocha.MochaOptions = {}): Promise<void> {
  const grep = process.env.GLK_VSCODE_GREP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, ...(grep ? { grep } : {}), ...options });
  const files = readdirSync(dir).filter((name) => name.endsWith('.test.js')).sort();
  for (const name of files) mocha.addFile(join(dir, name));
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
}
