import { test } from 'node:test';
import { createGptLoadDatabase, ENGINES } from '../support/databases';
import { listKeys } from '../../server/store/rows';
for (const engine of ENGINES) test(`bench ${engine}`, { timeout: 900_000 }, async (t) => {
  let t0 = Date.now();
  const db = await createGptLoadDatabase(t, engine, { keys: 1_000_000, logs: 0, encryptionKey: '', });
  if (!db) return;
  console.log(engine, 'seed 1M ms', Date.now() - t0);
  const store = await db.open();
  await store.query(engine === 'mysql' ? 'ANALYZE TABLE api_keys' : 'ANALYZE');
  for (const [label, opts] of [['g1 start', { groupId: 1 }], ['g1 after 900k', { groupId: 1, afterId: 900_000 }], ['g4 start', { groupId: 4 }], ['g4 after 990k', { groupId: 4, afterId: 990_000 }], ['g1 invalid after 500k', { groupId: 1, status: 'invalid', afterId: 500_000 }], ['all after 999k', { afterId: 999_000 }], ['g5 (empty aggregate)', { groupId: 5 }]] as const) {
    const s = process.hrtime.bigint();
    const r = await listKeys(store, { ...opts, limit: 100 });
    console.log(engine, label, r.rows.length, (Number(process.hrtime.bigint() - s) / 1e6).toFixed(1), 'ms');
  }
  const p = (n: number) => store.p(n);
  for (const [sql, params] of [[`SELECT id FROM api_keys WHERE id > ${p(1)} AND group_id = ${p(2)} ORDER BY id LIMIT ${p(3)}`, [900000, 4, 101]], [`SELECT id FROM api_keys WHERE id > ${p(1)} AND group_id = ${p(2)} ORDER BY id LIMIT ${p(3)}`, [0, 5, 101]]] as const) {
    const explain = engine === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN ';
    console.log(engine, JSON.stringify(await store.query(explain + sql, [...params])));
  }
});
