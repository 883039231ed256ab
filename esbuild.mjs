// Bundles the entry points (CLI, daemon, crypto worker, extension). Native and optional modules stay external: better-sqlite3 is
// loaded from node_modules (or, inside the .vsix, from the shipped native folder), and typeorm's
// drivers for engines GPT-Load does not use are never required.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');

/** typeorm requires every driver it knows lazily; those we do not ship must stay unresolved. */
const external = [
  'vscode',
  'better-sqlite3',
  '@google-cloud/spanner', '@sap/hana-client', '@sap/hana-client/extension/Stream', 'hdb-pool', 'mongodb', 'mssql',
  'oracledb', 'pg-native', 'pg-query-stream', 'redis', 'sql.js', 'sqlite3', 'ts-node', 'typeorm-aurora-data-api-driver',
  'react-native-sqlite-storage', 'mysql', '@capacitor-community/sqlite', 'nativescript-sqlite', 'expo-sqlite',
  'cloudflare:sockets', 'kerberos', '@mongodb-js/zstd', 'snappy', 'aws4', 'mongodb-client-encryption', 'gcp-metadata',
  'socks', 'pg-cloudflare',
];

/** The language client is ~1 MB: it loads on first use, not at activation (client/src/lsp.ts). */
const lazyClientLibraries = {
  name: 'lazy-client-libraries',
  setup(build) {
    build.onResolve({ filter: /^\.\/lsp(\.js)?$/ }, () => ({ path: './client-lsp.js', external: true }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  // GLK_NO_MINIFY=1 keeps the bundles readable, e.g. for a CPU profile of the daemon.
  minify: !process.env.GLK_NO_MINIFY,
  keepNames: true,
  logLevel: 'warning',
  external,
  logOverride: { 'require-resolve-not-external': 'silent' },
};

const entries = [
  { entryPoints: ['server/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['server/server.ts'], outfile: 'dist/server.js' },
  { entryPoints: ['server/keystore/worker.ts'], outfile: 'dist/worker.js' },
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', plugins: [lazyClientLibraries] },
  { entryPoints: ['client/src/lsp.ts'], outfile: 'dist/client-lsp.js' },
];

// `node esbuild.mjs cli server` builds only those outputs (dist/cli.js, dist/server.js).
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = entries.filter((e) => only.length === 0 || only.some((name) => e.outfile === `dist/${name}.js`));
if (watch) {
  for (const e of selected) await (await esbuild.context({ ...common, ...e })).watch();
} else {
  const results = await Promise.allSettled(selected.map((e) => esbuild.build({ ...common, ...e })));
  const failed = results.filter((r) => r.status === 'rejected').length;
  if (failed > 0) {
    console.error(`esbuild: ${failed} of ${selected.length} bundles failed`);
    process.exit(1);
  }
}
