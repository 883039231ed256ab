import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createGptLoadDatabase } from '../support/databases';
import { createBackup } from '../../server/keystore/backup';
import { restoreBackup } from '../../server/keystore/backupRestore';
import { resolveDeployment } from '../../server/keystore/deployment';
import type { Store } from '../../server/store/connect';

const TABLES = ['system_settings', 'groups', 'group_sub_groups', 'api_keys', 'request_logs', 'group_hourly_stats'];
async function dump(store: Store) {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) out[t] = await store.query(`SELECT * FROM ${store.q(t)} ORDER BY id`);
  return out;
}

for (const engine of ['sqlite', 'mysql', 'postgres'] as const) {
  test(engine, async (t) => {
    const key = 'k-0123456789abcdef';
    const db = await createGptLoadDatabase(t, engine, { keys: 300, logs: 100, encryptionKey: key, env: true });
    if (!db) return;
    let store = await db.open();
    const before = await dump(store);
    const res = await createBackup(store, { encryptionKey: key, envDir: db.envDir });
    await store.execute(`DELETE FROM api_keys WHERE id < 50`);
    await store.execute(`UPDATE ${store.q('groups')} SET name = 'changed' WHERE id = 1`);
    await store.execute(`DELETE FROM request_logs`);
    await store.close();
    const deployment = resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} });
    const report = await restoreBackup({ deployment, file: res.file });
    console.log(JSON.stringify({ ...report, check: undefined, service: undefined }));
    store = await db.open();
    const after = await dump(store);
    assert.deepEqual(after, before);
  });
}
