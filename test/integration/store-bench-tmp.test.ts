import { test } from 'node:test';
import { createGptLoadDatabase, ENGINES } from '../support/databases';
import { listKeys } from '../../server/store/rows';
for (const engine of ENGINES) test(`bench ${engine}`, { timeout: 900_000 }, async (t) => {
  let t0 = Date.now();
  const db = await createGptLoadDatabase(t, engine, { keys: 1_000_000, logs: 0, encryptionKey: '', });
  if (!db) return;
  console.log(engine, 'seed 1M ms', Date.now() - t0);
  const store = await db.open();
  if (engine === 'postgres') await store.query('ANALYZE');
  if (engine === 'mysql') await store.query('ANALYZE TABLE api_keys');
  if (engine === 'sqlite') await store.query('ANALYZE');
  for (const [label, opts] of [['g1 start', { groupId: 1 }], ['g1 after 900k', { groupId: 1, afterId: 900_000 }], ['g4 start', { groupId: 4 }], ['g4 after 990k', { groupId: 4, afterId: 990_000 }], ['g1 invalid after 500k', { groupId: 1, status: 'invalid', afterId: 500_000 }], ['all after 999k', { afterId: 999_000 }]] as const) {
    const s = process.hrtime.bigint();
    const r = await listKeys(store, { ...opts, limit: 100 });
    console.log(engine, label, r.rows.length, Number(process.hrtime.bigint() - s) / 1e6, 'ms');
  }
  const p = (n: number) => store.p(n);
  const sql = `SELECT id FROM api_keys WHERE id > ${p(1)} AND group_id = ${p(2)} ORDER BY id LIMIT ${p(3)}`;
  const explain = engine === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : engine === 'mysql' ? 'EXPLAIN ' : 'EXPLAIN ';
  console.log(engine, JSON.stringify(await store.query(explain + sql, [900000, 4, 101])));
});
