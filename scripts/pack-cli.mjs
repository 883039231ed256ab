#!/usr/bin/env node
// Packs the command-line tool on its own, for servers that have Node but not this repository:
//   npm run pack:cli [-- --out DIR]   →   DIR/gpt-load-keystore-<version>.tgz   (DIR: the repository root)
//   npm install -g ./gpt-load-keystore-<version>.tgz   →   `gpt-load-keystore` on PATH
// The repository's package.json is the VS Code extension's manifest (private, never published; a
// "files" list there would change what vsce ships), so the CLI gets a manifest of its own, written
// here into a staging folder that `npm pack` packs. esbuild has bundled everything into dist/cli.js
// and dist/worker.js except better-sqlite3 (a native addon: npm installs it for the server's Node,
// from a prebuilt binary or by compiling it), so that is the package's only dependency.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// As the root's `prepack`: `npm pack` there would pack the extension's sources without dist/ (git-ignored).
if (process.argv.includes('--refuse-root-pack')) {
  console.error('npm pack: the repository root is the VS Code extension (private, packaged by `npm run package`); `npm run pack:cli` packs the command line');
  process.exit(1);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outAt = process.argv.indexOf('--out');
const out = resolve(outAt >= 0 ? process.argv[outAt + 1] ?? '' : root);
const extension = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** What `node dist/cli.js` loads at run time: the two bundles (the CLI starts dist/worker.js for crypto threads). */
const RUNTIME_FILES = ['dist/cli.js', 'dist/worker.js'];

const manifest = {
  name: extension.name,
  version: extension.version,
  description: `${extension.displayName} command line: ${extension.description}`,
  license: extension.license,
  keywords: extension.keywords,
  bin: extension.bin,
  files: RUNTIME_FILES,
  engines: { node: extension.engines.node },
  dependencies: { 'better-sqlite3': extension.dependencies['better-sqlite3'] },
};

const build = spawnSync(process.execPath, ['esbuild.mjs', 'cli', 'worker'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const staging = mkdtempSync(join(tmpdir(), 'glk-pack-'));
try {
  mkdirSync(join(staging, 'dist'));
  for (const file of [...RUNTIME_FILES, 'README.md', 'LICENSE']) copyFileSync(join(root, file), join(staging, file));
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(out, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const pack = spawnSync(npm, ['pack', '--pack-destination', out, '--json'], { cwd: staging, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (pack.status !== 0) process.exit(pack.status ?? 1);
  const [{ filename, size, entryCount }] = JSON.parse(pack.stdout);
  console.error(`pack-cli: ${entryCount} files, ${(size / 1024).toFixed(0)} KiB; install with: npm install -g ${join(out, filename)}`);
  console.log(join(out, filename));
} finally {
  rmSync(staging, { recursive: true, force: true });
}
