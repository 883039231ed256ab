#!/usr/bin/env node
// Ships SQLite with the extension: copies better-sqlite3's native addon into dist/native/ with the
// ABI it was built for (dist/native/abi.json, read by client/src/runtime.ts to choose the daemon's
// Node), and better-sqlite3's JavaScript into dist/node_modules/, where `require('better-sqlite3')`
// from dist/server.js, dist/cli.js and dist/worker.js finds it inside the .vsix (esbuild keeps
// better-sqlite3 external and `vsce --no-dependencies` ships no node_modules of the root).
// better-sqlite3 finds its addon through the `bindings` package; the stub written here loads
// $GPT_LOAD_KEYSTORE_NATIVE (set by the extension for the runtime it chose) or dist/native/.
// Usage: node scripts/copy-native.mjs
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const packageDir = dirname(require.resolve('better-sqlite3/package.json'));
const addon = join(packageDir, 'build', 'Release', 'better_sqlite3.node');
if (!existsSync(addon)) {
  console.error(`copy-native: ${addon} is missing (npm install did not build better-sqlite3)`);
  process.exit(1);
}
const version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;

// The addon and its ABI. npm built it with the Node running this script (the one on PATH).
const nativeDir = join(root, 'dist', 'native');
rmSync(nativeDir, { recursive: true, force: true });
mkdirSync(nativeDir, { recursive: true });
cpSync(addon, join(nativeDir, 'better_sqlite3.node'));
const abi = {
  abi: process.versions.modules,
  node: process.version,
  platform: process.platform,
  arch: process.arch,
  binding: 'better_sqlite3.node',
  betterSqlite3: version,
};
writeFileSync(join(nativeDir, 'abi.json'), `${JSON.stringify(abi, null, 2)}\n`);

// better-sqlite3's JavaScript (lib/ and package.json only) and the bindings stub.
const modules = join(root, 'dist', 'node_modules');
rmSync(modules, { recursive: true, force: true });
const target = join(modules, 'better-sqlite3');
mkdirSync(target, { recursive: true });
cpSync(join(packageDir, 'lib'), join(target, 'lib'), { recursive: true });
cpSync(join(packageDir, 'LICENSE'), join(target, 'LICENSE'));
writeFileSync(join(target, 'package.json'), `${JSON.stringify({ name: 'better-sqlite3', version, main: 'lib/index.js' }, null, 2)}\n`);
mkdirSync(join(modules, 'bindings'));
writeFileSync(join(modules, 'bindings', 'package.json'), `${JSON.stringify({ name: 'bindings', version: '0.0.0-glk', main: 'index.js' }, null, 2)}\n`);
writeFileSync(
  join(modules, 'bindings', 'index.js'),
  `'use strict';
// Stands in for the bindings package inside the GPT-Load Keystore extension: the addon is the one
// the extension chose for this runtime ($GPT_LOAD_KEYSTORE_NATIVE), else the one shipped in dist/native.
const path = require('path');
module.exports = (name) => require(process.env.GPT_LOAD_KEYSTORE_NATIVE || path.join(__dirname, '..', '..', 'native', name));
`,
);
console.log(`copy-native: better-sqlite3 ${version} for ABI ${abi.abi} (${abi.node} ${abi.platform}-${abi.arch}) → dist/native, dist/node_modules`);
