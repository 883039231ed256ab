// GPT-Load: Redact Keys in Request Logs in a real VS Code, on the trusted workspace's SQLite
// deployment (../deployment.ts): a request log quoting a stored key in its error_message, as GPT-Load
// wrote transport errors before v1.4.9; the modal confirmation shows the counts of the dry run; after
// it the row is masked as GPT-Load v1.4.9 masks keys and a backup was taken first.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RedactLogsSummary } from '../../../shared/protocol';
import { extensionApi, script } from './support/api';
import { readFixture } from './support/fixture';

suite('GPT-Load Keystore: redact keys in request logs', () => {
  test('the confirmation shows the counts; the quoted key is masked as GPT-Load v1.4.9 does, after a backup', async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    this.timeout(120_000);
    const fixture = readFixture();
    const api = await extensionApi();
    const key = fixture.samples[0].plaintext;
    const id = 'ffffffff-0000-4000-8000-00000000redact';
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const dbFile = join(fixture.workspace, 'data', 'gpt-load.db');
    const message = () => {
      const db = new Database(dbFile, { readonly: true });
      try {
        return (db.prepare('SELECT error_message FROM request_logs WHERE id = ?').get(id) as { error_message: string }).error_message;
      } finally {
        db.close();
      }
    };
    const db = new Database(dbFile);
    try {
      db.prepare(
        `INSERT INTO request_logs (id, timestamp, group_id, group_name, key_value, key_hash, model, is_success, status_code, duration, error_message, request_type, is_stream)
         VALUES (?, '2025-06-01 00:00:00.000+00:00', 1, 'gemini', '', '', 'gemini-pro', 0, 500, 12, ?, 'final', 0)`,
      ).run(id, `Post "https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent?key=${key}": EOF`);
    } finally {
      db.close();
    }

    const { ui } = script(api);
    ui.answer('redactLogsConfirm', 'redact');
    const result = await vscode.commands.executeCommand<RedactLogsSummary>('gptLoad.redactLogs', fixture.envFile);
    const confirm = ui.prompts.find((p) => p.step === 'redactLogsConfirm');
    assert.ok(confirm, `no confirmation: ${ui.steps().join(' → ')}`);
    assert.match(confirm.detail ?? '', /1 of \d+ error messages quote a stored key \(1 occurrences\)/);
    assert.ok(!`${confirm.message} ${confirm.detail}`.includes(key), 'the key is shown');
    assert.equal(result.rowsChanged, 1);
    assert.ok(result.backupFile && existsSync(result.backupFile), 'a backup first');
    assert.equal(message(), `Post "https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent?key=${key.slice(0, 4)}****${key.slice(-4)}": EOF`);
    assert.match(ui.messages('redactLogsDone')[0] ?? '', /Masked the keys in 1 request log rows/);
  });
});
