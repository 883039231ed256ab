// Builds an extension-host mocha suite: each `*.ts` directly in the source folder (index.ts and the
// `*.suite.ts` files; helpers in subfolders are bundled into them) becomes one CommonJS bundle in the
// out folder. `vscode` is provided by the extension host and `mocha` is resolved at run time from the
// out folder upwards, so both stay external.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SUITE_OUT, SUITE_SOURCE } from './layout';

/**
 * Returns the entry's path (the extensionTestsPath). `external` adds modules to leave to run-time
 * resolution besides vscode and mocha: native ones such as better-sqlite3.
 */
export async function bundleSuite(sourceDir = SUITE_SOURCE, outDir = SUITE_OUT, external: string[] = []): Promise<string> {
  const entryPoints = readdirSync(sourceDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(sourceDir, name));
  if (!entryPoints.some((path) => path.endsWith('index.ts'))) throw new Error(`${sourceDir} has no index.ts`);
  await esbuild.build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    logLevel: 'warning',
    external: ['vscode', 'mocha', ...external],
  });
  return join(outDir, 'index.js');
}
