/**
 * migrate-keys stages the new values during its read-only pre-check and writes them in one
 * transaction afterwards: a row changed or added between the two (here from the confirmation
 * hook, which runs right between them) must refuse the run with nothing written, on every engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { KeystoreError } from '../../server/core/errors';
import { resolveDeployment } from '../../server/keystore/deployment';
import { migrateKeys } from '../../server/keystore/migrate/migrateKeys';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, ENGINES } from '../support/databases';
import { closedPort, dumpDatabase, GPT_LOAD_TABLES, tableNames } from '../support/gptload';

const K1 = 'Kx7-first_Zq.0192837465fedcbaGHIJ';
const K2 = 'Qm4-second_Wv.9876543210zyxwvuTS';

/** What another writer does between the pre-check and the write. */
const CHANGES: Record<string, (store: Store) => Promise<unknown>> = {
  // The same key in upper-case hex (GPT-Load decodes either): MySQL's case-insensitive collations must not hide it.
  'a row changed': async (store) => {
    const [row] = await store.query<{ id: number | string; key_value: string }>('SELECT id, key_value FROM api_keys ORDER BY id LIMIT 1');
    return store.execute(`UPDATE api_keys SET key_value = ${store.p(1)} WHERE id = ${store.p(2)}`, [row.key_value.toUpperCase(), row.id]);
  },
  'a row added': async (store) => {
    const codec = codecFor(K1);
    const plain = 'sk-added-between-the-passes-0123456789';
    const [row] = await store.query<{ group_id: number | string }>('SELECT group_id FROM api_keys ORDER BY id LIMIT 1');
    return store.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (${store.params(4)})`, [codec.encrypt(plain), codec.hash(plain), row.group_id, 'active']);
  },
};

for (const engine of ENGINES) {
  for (const [what, change] of Object.entries(CHANGES)) {
    test(`${engine}: ${what} between the pre-check and the write refuses the run, nothing written, nothing left behind`, async (t) => {
      const db = await createGptLoadDatabase(t, engine, { keys: 60, logs: 20, encryptionKey: K1, env: { PORT: String(await closedPort()) } });
      if (!db) return;
      const deployment = resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} });
      let changed = '';
      await assert.rejects(
        migrateKeys({
          deployment,
          fromKey: K1,
          toKey: K2,
          force: true,
          threads: 0,
          batchSize: 25,
          hooks: {
            confirm: async () => {
              // The other writer's connection is closed again before the run goes on.
              const other = await db.open();
              await change(other);
              changed = await dumpDatabase(other);
              await other.close();
              return true;
            },
          },
        }),
        (e: unknown) => e instanceof KeystoreError && e.code === 'refused-by-check' && /api_keys changed while migrating .*nothing changed/.test(e.message),
      );
      const store = await db.open();
      assert.equal(await dumpDatabase(store), changed, 'the database as the other writer left it');
      assert.deepEqual(await tableNames(store), GPT_LOAD_TABLES);
    });
  }
}
