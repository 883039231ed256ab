/**
 * Quick fixes as an editor applies them: compose secrets moved to .env, .env added to .gitignore,
 * values quoted so godotenv reads them as written, ENCRYPTION_KEY generated only for a deployment
 * with no keys, a generated AUTH_KEY made only when the fix is picked (codeAction/resolve).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CodeAction, Diagnostic, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { parseDotenv } from '../../server/core/env/read';
import { createGptLoadDatabase } from '../support/databases';
import { fileUri, startDaemon, type Daemon } from './daemon';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-fixes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function offsetAt(text: string, p: { line: number; character: number }): number {
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < p.line; i++) offset += lines[i].length + 1;
  return offset + p.character;
}

function applyText(text: string, edits: TextEdit[]): string {
  for (const e of [...edits].sort((a, b) => offsetAt(text, b.range.start) - offsetAt(text, a.range.start))) {
    text = text.slice(0, offsetAt(text, e.range.start)) + e.newText + text.slice(offsetAt(text, e.range.end));
  }
  return text;
}

/** Applies a WorkspaceEdit to the files on disk, as an editor would (creates first, then edits). */
function applyEdit(edit: WorkspaceEdit): void {
  for (const change of edit.documentChanges ?? []) {
    if ('kind' in change) {
      assert.equal(change.kind, 'create');
      const path = fileURLToPath(change.uri);
      if (!existsSync(path)) writeFileSync(path, '');
      continue;
    }
    const doc = change;
    const path = fileURLToPath(doc.textDocument.uri);
    writeFileSync(path, applyText(readFileSync(path, 'utf8'), doc.edits as TextEdit[]));
  }
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    const path = fileURLToPath(uri);
    writeFileSync(path, applyText(readFileSync(path, 'utf8'), edits));
  }
}

async function actionsFor(daemon: Daemon, uri: string, diagnostics: Diagnostic[]): Promise<CodeAction[]> {
  const range = diagnostics[0].range;
  return (await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } })) as CodeAction[];
}

test('compose: literal AUTH_KEY / ENCRYPTION_KEY flagged, and moved to .env behind ${VAR}', async (t) => {
  const dir = tempDir(t);
  const composePath = join(dir, 'docker-compose.yml');
  const compose = [
    'services:',
    '  gpt-load:',
    '    image: ghcr.io/tbphp/gpt-load:latest',
    '    environment:',
    '      AUTH_KEY: "sk-compose-literal-auth-Q8w2"',
    '      ENCRYPTION_KEY: ${ENCRYPTION_KEY}',
    '  worker:',
    '    image: ghcr.io/tbphp/gpt-load:latest',
    '    environment:',
    '      - ENCRYPTION_KEY=compose-literal-enc-Zx71-Lm02',
    '      - TZ=UTC',
    '',
  ].join('\n');
  writeFileSync(composePath, compose);
  writeFileSync(join(dir, '.env'), 'HOST=0.0.0.0\n');
  const daemon = await startDaemon(t);
  const uri = fileUri(composePath);
  const flagged = daemon.diagnostics(uri, (d) => d.length > 0);
  daemon.open(uri, compose, 'yaml');
  const diagnostics = await flagged;
  assert.deepEqual(diagnostics.map((d) => [d.code, d.range.start.line]), [['compose-literal-secret', 4], ['compose-literal-secret', 9]]);
  assert.ok(diagnostics.every((d) => !String(d.message).includes('sk-compose') && !String(d.message).includes('compose-literal-enc')));

  for (const d of diagnostics) {
    const [move] = await actionsFor(daemon, uri, [d]);
    assert.match(move.title, /^Move (AUTH_KEY|ENCRYPTION_KEY) to \.env/);
    applyEdit(move.edit!);
    const text = readFileSync(composePath, 'utf8');
    daemon.close(uri);
    const reopened = daemon.diagnostics(uri);
    daemon.open(uri, text, 'yaml');
    await reopened;
  }
  const env = parseDotenv(readFileSync(join(dir, '.env'), 'utf8')).values!;
  assert.deepEqual(env, { HOST: '0.0.0.0', AUTH_KEY: 'sk-compose-literal-auth-Q8w2', ENCRYPTION_KEY: 'compose-literal-enc-Zx71-Lm02' });
  const moved = readFileSync(composePath, 'utf8');
  assert.match(moved, /AUTH_KEY: \$\{AUTH_KEY\}/);
  assert.match(moved, /- ENCRYPTION_KEY=\$\{ENCRYPTION_KEY\}/);
  const clean = daemon.diagnostics(uri);
  daemon.change(uri, moved, 9);
  assert.deepEqual(await clean, []);
});

test('.env not ignored by git: the fix creates .gitignore with it', async (t) => {
  const dir = tempDir(t);
  execFileSync('git', ['init', '-q', dir]);
  const envPath = join(dir, '.env');
  writeFileSync(envPath, 'AUTH_KEY=Zk3-strong-auth-key-Lp0q-Wx72-Mn4\n');
  const daemon = await startDaemon(t);
  const uri = fileUri(envPath);
  const warned = daemon.diagnostics(uri, (d) => d.some((x) => x.code === 'env-not-ignored'));
  daemon.open(uri, readFileSync(envPath, 'utf8'));
  const diagnostics = (await warned).filter((d) => d.code === 'env-not-ignored');
  const [fix] = await actionsFor(daemon, uri, diagnostics);
  assert.equal(fix.title, 'Add .env to .gitignore');
  applyEdit(fix.edit!);
  assert.equal(readFileSync(join(dir, '.gitignore'), 'utf8'), '.env\n');
  assert.equal(execFileSync('git', ['check-ignore', '.env'], { cwd: dir, encoding: 'utf8' }).trim(), '.env');
});

test('quote fix: godotenv then reads the value as written', async (t) => {
  const dir = tempDir(t);
  const envPath = join(dir, '.env');
  const text = 'AUTH_KEY=sk-Ab$9Xyz-7Lq2-strong-Kp0w-Mn44\n';
  writeFileSync(envPath, text);
  const daemon = await startDaemon(t, { initializationOptions: { databaseDiagnostics: false } });
  const uri = fileUri(envPath);
  const expands = daemon.diagnostics(uri, (d) => d.some((x) => x.code === 'secret-expands'));
  daemon.open(uri, text);
  const diagnostics = (await expands).filter((d) => d.code === 'secret-expands');
  const fix = (await actionsFor(daemon, uri, diagnostics)).find((a) => a.title.startsWith('Quote'))!;
  applyEdit(fix.edit!);
  assert.equal(parseDotenv(readFileSync(envPath, 'utf8')).values!.AUTH_KEY, 'sk-Ab$9Xyz-7Lq2-strong-Kp0w-Mn44');
});

test('ENCRYPTION_KEY is offered for generation only while no keys are stored; AUTH_KEY is generated on resolve', async (t) => {
  const empty = await createGptLoadDatabase(t, 'sqlite', { keys: 0, env: { ENCRYPTION_KEY: '' } });
  const full = await createGptLoadDatabase(t, 'sqlite', { keys: 10, env: { ENCRYPTION_KEY: '' } });
  assert.ok(empty && full);
  const daemon = await startDaemon(t, { capabilities: { textDocument: { codeAction: { dataSupport: true, resolveSupport: { properties: ['edit'] } }, publishDiagnostics: {} } } });
  const offered = async (envDir: string) => {
    const uri = fileUri(join(envDir, '.env'));
    // The database check lands after the lint (and maybe after a git answer's republish): wait for
    // the publication that follows its status notification.
    const checked = daemon.diagnostics(uri, () => daemon.databaseChecked(uri));
    daemon.open(uri, readFileSync(join(envDir, '.env'), 'utf8'));
    const diagnostics = (await checked).filter((d) => d.code === 'encryption-key-missing');
    return (await actionsFor(daemon, uri, diagnostics)).map((a) => a.title);
  };
  assert.deepEqual(await offered(empty.envDir), ['Generate an ENCRYPTION_KEY (new deployment: no keys stored yet)']);
  assert.deepEqual(await offered(full.envDir), ['Migrate keys…']);

  mkdirSync(join(full.envDir, 'auth'));
  const authPath = join(full.envDir, 'auth', '.env');
  writeFileSync(authPath, 'AUTH_KEY=\n');
  const uri = fileUri(authPath);
  const missing = daemon.diagnostics(uri, (d) => d.some((x) => x.code === 'auth-key-missing'));
  daemon.open(uri, 'AUTH_KEY=\n');
  const [generate] = await actionsFor(daemon, uri, (await missing).filter((d) => d.code === 'auth-key-missing'));
  assert.equal(generate.edit, undefined, 'no secret made before the fix is picked');
  const resolved = (await daemon.rpc.sendRequest('codeAction/resolve', generate)) as CodeAction;
  applyEdit(resolved.edit!);
  assert.match(parseDotenv(readFileSync(authPath, 'utf8')).values!.AUTH_KEY, /^[A-Za-z0-9._-]{32}$/);
});
