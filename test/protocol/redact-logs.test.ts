/** gptLoad/redactLogs over the protocol: a dry run counts, the run masks with progress on the client's token. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { RedactLogsRequest } from '../../shared/protocol';
import { closedPort } from '../support/gptload';
import { createHistoryDatabase } from '../support/history';
import { startDaemon } from './daemon';

test('redactLogs: a dry run counts, the run masks every quoted key after a backup, with work-done progress', async (t) => {
  const db = await createHistoryDatabase(t, 'sqlite', { tempMigration: true, env: { PORT: String(await closedPort()) } });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const deployment = { envFile: join(db.envDir, '.env') };
  const occurrences = [...db.leakedKeys.values()].reduce((sum, keys) => sum + keys.length, 0);
  const plan = await daemon.rpc.sendRequest(RedactLogsRequest.type, { deployment, dryRun: true });
  assert.deepEqual([plan.rows, plan.occurrences, plan.rowsChanged, plan.tempMigration?.rows], [db.leakedKeys.size, occurrences, 0, 5]);
  const phases: string[] = [];
  daemon.rpc.onNotification('$/progress', (p: { token: string; value: { kind: string; phase?: string } }) => {
    if (p.token === 'redact-1' && p.value.phase) phases.push(p.value.phase);
  });
  const done = await daemon.rpc.sendRequest(RedactLogsRequest.type, { deployment, workDoneToken: 'redact-1' });
  assert.equal(done.rowsChanged, db.leakedKeys.size);
  assert.equal(done.tempMigrationDropped, true);
  assert.ok(done.backupFile, 'a backup first');
  assert.ok(phases.includes('redact request_logs'), `phases: ${phases.join(', ')}`);
  const again = await daemon.rpc.sendRequest(RedactLogsRequest.type, { deployment, dryRun: true });
  assert.equal(again.rows, 0);
});
