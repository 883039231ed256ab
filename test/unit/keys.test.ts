/**
 * Key pages as the explorer asks for them again and again: masks come from the cache only for the
 * same codec and the same stored value, so a refresh shows exactly what a first read shows. And the
 * timestamps of a page in ISO 8601 from each engine's spelling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFor } from '../../server/core/crypto';
import { maskSecret } from '../../server/core/secrets';
import { listKeyPage, UNDECRYPTABLE } from '../../server/keystore/keys';
import { isoTime } from '../../server/store/rows';
import { createGptLoadDatabase } from '../support/databases';

const KEY = 'my-32-char-secret-key-AbCdEf012345!';

test('key pages: a refresh shows what the first read showed; masks follow the codec and the stored value', async (t) => {
  const db = (await createGptLoadDatabase(t, 'sqlite', { keys: 150, encryptionKey: KEY, includeVectorRows: true }))!;
  const store = await db.open();
  const codec = codecFor(KEY);
  const query = { limit: 1000 };
  const first = await listKeyPage(store, codec, query);
  assert.ok(first.items.length > 150);
  for (const item of first.items) assert.equal(item.masked, maskSecret(db.plaintexts.get(item.id)!), `row ${item.id}`);
  assert.deepEqual(await listKeyPage(store, codec, query), first);

  // Another key opens nothing, whatever the first codec has seen.
  const wrong = await listKeyPage(store, codecFor('another-key-entirely-0123456789'), query);
  assert.ok(wrong.items.every((item) => item.masked === UNDECRYPTABLE));

  // A row given a new value shows the new value's mask; a damaged one shows as undecryptable.
  const [a, b] = first.items;
  await store.execute(`UPDATE api_keys SET key_value = ? WHERE id = ?`, [codec.encrypt('sk-replaced-value-0000000000000000000000000'), a.id]);
  const stored = await store.query<{ key_value: string }>(`SELECT key_value FROM api_keys WHERE id = ?`, [b.id]);
  const damaged = stored[0].key_value.slice(0, -2) + (stored[0].key_value.endsWith('00') ? '11' : '00');
  await store.execute(`UPDATE api_keys SET key_value = ? WHERE id = ?`, [damaged, b.id]);
  const after = await listKeyPage(store, codec, query);
  assert.equal(after.items[0].masked, maskSecret('sk-replaced-value-0000000000000000000000000'));
  assert.equal(after.items[1].masked, UNDECRYPTABLE);
  assert.deepEqual(after.items.slice(2), first.items.slice(2));

  // Masks are kept by row id: the same ids in another database under the same key show that database's keys.
  const other = (await createGptLoadDatabase(t, 'sqlite', { keys: 150, encryptionKey: KEY, seed: 2 }))!;
  const otherPage = await listKeyPage(await other.open(), codec, query);
  assert.deepEqual(otherPage.items.map((item) => item.id).slice(0, 100), first.items.map((item) => item.id).slice(0, 100));
  for (const item of otherPage.items) assert.equal(item.masked, maskSecret(other.plaintexts.get(item.id)!), `other database, row ${item.id}`);
  assert.ok(otherPage.items.some((item, i) => item.masked !== first.items[i].masked), 'the two databases hold different keys');
});

test('key pages: masks stay right when the cache turns over (more keys than it keeps)', async (t) => {
  const db = (await createGptLoadDatabase(t, 'sqlite', { keys: 25_000, encryptionKey: KEY }))!;
  const store = await db.open();
  const codec = codecFor(KEY);
  for (let pass = 0; pass < 2; pass++) {
    let afterId: number | undefined;
    let seen = 0;
    do {
      const page = await listKeyPage(store, codec, { limit: 1000, afterId });
      for (const item of page.items) assert.equal(item.masked, maskSecret(db.plaintexts.get(item.id)!), `pass ${pass}, row ${item.id}`);
      seen += page.items.length;
      afterId = page.nextAfterId ?? undefined;
    } while (afterId !== undefined);
    assert.equal(seen, 25_000);
  }
});

test('isoTime: GORM text, zones, MySQL wall-clock time and Date values', () => {
  const sqlite = { target: { kind: 'sqlite' as const, path: 'x.db' } };
  assert.equal(isoTime('2025-06-01 08:00:00.000+00:00', sqlite), '2025-06-01T08:00:00.000Z');
  assert.equal(isoTime('2025-06-01 08:00:00.123456789+00:00', sqlite), '2025-06-01T08:00:00.123Z');
  assert.equal(isoTime('2025-06-01 08:00:00Z', sqlite), '2025-06-01T08:00:00.000Z');
  assert.equal(isoTime('2025-06-01 08:00:00', sqlite), '2025-06-01T08:00:00.000Z');
  assert.equal(isoTime('2025-06-01 08:00:00.5+08:00', sqlite), '2025-06-01T00:00:00.500Z');
  assert.equal(isoTime('2025-06-01 08:00:00-0530', sqlite), '2025-06-01T13:30:00.000Z');
  assert.equal(isoTime('2025-06-01 08:00:00+02', sqlite), '2025-06-01T06:00:00.000Z');
  assert.equal(isoTime('not a time', sqlite), 'not a time');
  assert.equal(isoTime(null, sqlite), null);
  assert.equal(isoTime(new Date('2025-06-01T08:00:00Z'), sqlite), '2025-06-01T08:00:00.000Z');
  const mysqlLocal = { target: { kind: 'mysql' as const, params: { loc: 'Local' } } } as unknown as Parameters<typeof isoTime>[1];
  assert.equal(isoTime('2025-06-01 08:00:00', mysqlLocal), '2025-06-01T08:00:00.000');
});
