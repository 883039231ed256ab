/**
 * Diagnostic codes link to their documentation (codeDescription.href = docsUrl#code, as ESLint's
 * rules do) when the client says where the docs are, and hovers are one short paragraph — what
 * GPT-Load reads, the verdict, one link — without "checking…" noise. Without docsUrl, no links.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Hover } from 'vscode-languageserver-protocol';
import { fileUri, startDaemon } from './daemon';

const DOCS = 'file:///opt/extension/README.md';

function envFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-docs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, '.env');
  writeFileSync(path, 'AUTH_KEY=admin123\nENCRYPTION_KEY=\n');
  return path;
}

test('with docsUrl every diagnostic code links to its README section and the hover links once', async (t) => {
  const path = envFile(t);
  const uri = fileUri(path);
  const daemon = await startDaemon(t, { initializationOptions: { databaseDiagnostics: false, docsUrl: DOCS } });
  const diagnostics = daemon.diagnostics(uri, (d) => d.length > 0);
  daemon.open(uri, 'AUTH_KEY=admin123\nENCRYPTION_KEY=\n');
  const found = await diagnostics;
  assert.ok(found.length >= 2);
  for (const d of found) assert.equal(d.codeDescription?.href, `${DOCS}#${d.code}`, String(d.code));

  const hover = (await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 2 } })) as Hover;
  const text = (hover.contents as { value: string }).value;
  assert.ok(!text.includes('\n'), `one paragraph: ${text}`);
  assert.match(text, /^\*\*AUTH_KEY\*\* — GPT-Load reads `[^`]+`, 8 bytes\. ⚠ Dashboard: .+\./);
  assert.ok(!text.includes('admin123'), 'the value is masked');
  assert.equal(text.match(/\]\(/g)?.length, 1, 'one link');
  assert.ok(text.endsWith(`(${DOCS}#diagnostic-codes)`), text);
  const encryption = (await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 2 } })) as Hover;
  assert.doesNotMatch((encryption.contents as { value: string }).value, /checking|not checked/);
});

test('without docsUrl no diagnostic carries a link', async (t) => {
  const path = envFile(t);
  const uri = fileUri(path);
  const daemon = await startDaemon(t, { initializationOptions: { databaseDiagnostics: false } });
  const diagnostics = daemon.diagnostics(uri, (d) => d.length > 0);
  daemon.open(uri, 'AUTH_KEY=admin123\n');
  for (const d of await diagnostics) assert.equal(d.codeDescription, undefined);
});
