// The daemon's runtime choice (client/src/runtime.ts) without VS Code: the setting, then node on PATH,
// then VS Code's own runtime — the first whose ABI matches the shipped SQLite module — and a reason
// when none does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseRuntime, probeRuntime, type RuntimeCandidate } from '../../client/src/runtime';

function packagedExtension(abi: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-runtime-'));
  mkdirSync(join(dir, 'dist', 'native'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'native', 'better_sqlite3.node'), '');
  writeFileSync(join(dir, 'dist', 'native', 'abi.json'), JSON.stringify({ abi, node: 'v20.0.0', binding: 'better_sqlite3.node' }));
  return dir;
}

/** A probe that reports fixed ABIs: setting → 127, PATH → 115, VS Code (Electron) → 132. */
const fakeProbe = (abis: Partial<Record<RuntimeCandidate['source'], string>>) => async (c: RuntimeCandidate) =>
  abis[c.source] ? { ...c, abi: abis[c.source], version: `v-${abis[c.source]}`, resolved: c.executable ?? 'electron' } : { ...c, error: 'not found' };

test('node on PATH is chosen when its ABI matches the shipped module and VS Code runs on Electron', async (t) => {
  const dir = packagedExtension('115');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const choice = await chooseRuntime({ extensionPath: dir, setting: '', probe: fakeProbe({ path: '115', vscode: '132' }) });
  assert.equal(choice.chosen.source, 'path');
  assert.equal(choice.nativeBinding, join(dir, 'dist', 'native', 'better_sqlite3.node'));
  assert.equal(choice.sqliteProblem, undefined);
});

test('the setting wins when it matches; a mismatching setting is passed over', async (t) => {
  const dir = packagedExtension('127');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const matching = await chooseRuntime({ extensionPath: dir, setting: '/opt/node22/bin/node', probe: fakeProbe({ setting: '127', path: '127', vscode: '132' }) });
  assert.equal(matching.chosen.source, 'setting');
  const other = await chooseRuntime({ extensionPath: dir, setting: '/opt/node20/bin/node', probe: fakeProbe({ setting: '115', path: '127', vscode: '132' }) });
  assert.equal(other.chosen.source, 'path');
});

test("VS Code's own runtime when it matches (code-server runs extensions on Node)", async (t) => {
  const dir = packagedExtension('115');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const choice = await chooseRuntime({ extensionPath: dir, setting: '', probe: fakeProbe({ vscode: '115' }) });
  assert.equal(choice.chosen.source, 'vscode');
  assert.equal(choice.chosen.executable, undefined);
  assert.ok(choice.nativeBinding);
});

test('no matching runtime: the daemon still runs on VS Code, and SQLite says which ABI it needs', async (t) => {
  const dir = packagedExtension('115');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const choice = await chooseRuntime({ extensionPath: dir, setting: '', probe: fakeProbe({ path: '127', vscode: '132' }) });
  assert.equal(choice.chosen.source, 'vscode');
  assert.equal(choice.nativeBinding, undefined);
  assert.deepEqual(choice.sqliteProblem && { kind: choice.sqliteProblem.kind, abi: 'abi' in choice.sqliteProblem ? choice.sqliteProblem.abi : '' }, { kind: 'abi', abi: '115' });
  assert.match('node' in choice.sqliteProblem! ? choice.sqliteProblem.node : '', /Node\.js 20/);
});

test('probing a real runtime reports its ABI, and a missing executable does not throw', async () => {
  const self = await probeRuntime({ source: 'setting', executable: process.execPath });
  assert.equal(self.abi, process.versions.modules);
  const missing = await probeRuntime({ source: 'setting', executable: join(tmpdir(), 'no-such-node') });
  assert.equal(missing.abi, undefined);
  assert.ok(missing.error);
});
