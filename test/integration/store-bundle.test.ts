/**
 * The store as esbuild bundles it (same `external` list as esbuild.mjs) opens all three engines with only
 * better-sqlite3 beside the bundle, as in the .vsix; without better-sqlite3, MySQL and PostgreSQL still work
 * and SQLite reports native-module-unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';

const PROBE = `
import { openStore } from './server/store/connect';
import { resolveDsn } from './server/store/dsn';
import { countRows } from './server/store/rows';

async function main() {
  const targets: Array<{ dsn: string; envDir: string }> = JSON.parse(process.env.GLK_PROBE_TARGETS ?? '[]');
  for (const { dsn, envDir } of targets) {
    try {
      const store = await openStore(resolveDsn(dsn, envDir));
      const keys = await countRows(store, 'api_keys');
      await store.close();
      console.log(JSON.stringify({ kind: store.kind, keys }));
    } catch (err) {
      console.log(JSON.stringify({ error: (err as { code?: string }).code ?? String(err) }));
    }
  }
}
void main();
`;

/** esbuild.mjs's own `external` list, so this bundle is built the way dist/*.js are. */
function externals(): string[] {
  const source = readFileSync(join(REPO_ROOT, 'esbuild.mjs'), 'utf8');
  const literal = /const external = (\[[\s\S]*?\]);/.exec(source);
  assert.ok(literal, 'esbuild.mjs declares `const external = [...]`');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluates the array literal esbuild.mjs itself declares.
  return new Function(`return ${literal[1]}`)() as string[];
}

test('the bundled store opens SQLite, MySQL and PostgreSQL, and needs better-sqlite3 only for SQLite', async (t) => {
  const dbs: GptLoadDatabase[] = [];
  for (const engine of ENGINES) {
    const db = await createGptLoadDatabase(t, engine, { keys: 12, logs: 0, encryptionKey: '' });
    if (db) dbs.push(db);
  }
  if (dbs.length === 0) return;

  const dir = mkdtempSync(join(tmpdir(), 'glk-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'probe.js');
  await build({
    stdin: { contents: PROBE, resolveDir: REPO_ROOT, loader: 'ts', sourcefile: 'probe.ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: externals(),
    logLevel: 'silent',
  });
  const bundle = readFileSync(outfile, 'utf8');
  for (const inlined of ['typeorm', 'mysql2', 'pg']) {
    assert.ok(!bundle.includes(`require("${inlined}")`), `${inlined} is bundled, not required at run time`);
  }

  const run = () => {
    const result = spawnSync(process.execPath, [outfile], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_PATH: '', NODE_OPTIONS: '', GLK_PROBE_TARGETS: JSON.stringify(dbs.map(({ dsn, envDir }) => ({ dsn, envDir }))) },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind?: string; keys?: number; error?: string });
  };

  // No node_modules beside the bundle: the native module cannot load.
  assert.deepEqual(
    run(),
    dbs.map((db) => (db.engine === 'sqlite' ? { error: 'native-module-unavailable' } : { kind: db.engine, keys: 12 })),
  );

  // better-sqlite3 shipped beside the bundle (as in the .vsix): all engines open.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(REPO_ROOT, 'node_modules', 'better-sqlite3'), join(dir, 'node_modules', 'better-sqlite3'), 'dir');
  assert.deepEqual(
    run(),
    dbs.map((db) => ({ kind: db.engine, keys: 12 })),
  );
});
