// Entry of the extension-host suite (extensionTestsPath), bundled by ../support/bundleSuite.ts and run
// by ../extension.test.ts in code-server, or by ../runElectron.ts in desktop VS Code.
import { runMochaSuite } from '../support/mochaSuite';

export function run(): Promise<void> {
  return runMochaSuite(__dirname, { timeout: 60_000 });
}
