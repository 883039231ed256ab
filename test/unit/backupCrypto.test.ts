/**
 * The per-row crypto of backup create and check (cryptoPool createKeyRunner: classify and open), on
 * GPT-Load's own ciphertexts: worker threads and the main thread give the same answers, and both
 * agree with the vectors-checked codec row by row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRows, codecFor, sha256Hex, type KeyCodec } from '../../server/core/crypto';
import { createKeyRunner, INLINE_BELOW_ROWS, OrderedResults, type CryptoRunner } from '../../server/keystore/cryptoPool';
import { stateUnderKey, type RowsIn } from '../../server/keystore/migrate/crypto';
import { gptLoadVectors } from '../support/gptload';

const vectors = gptLoadVectors();
const passwords = [...new Set(vectors.map((v) => v.password))];

/** Every vector under every key, plus rows no key opens. */
function sampleRows(): RowsIn {
  const good = vectors.find((v) => v.password !== '' && v.plaintext !== '')!;
  const corrupted = good.ciphertext.slice(0, -2) + (good.ciphertext.endsWith('00') ? '11' : '00');
  const extra: Array<[string, string]> = [
    [corrupted, good.hash],
    [good.ciphertext, sha256Hex('another key')],
    ['sk-not-hex', 'not-a-hash'],
    ['', ''],
    ['', good.hash],
  ];
  return {
    values: [...vectors.map((v) => v.ciphertext), ...extra.map(([value]) => value)],
    hashes: [...vectors.map((v) => v.hash), ...extra.map(([, hash]) => hash)],
  };
}

/** What backup check did row by row before the runner: plaintext, or opened by the key and re-hashed to key_hash. */
function expectedOpen(value: string, hash: string, codec: KeyCodec): string | null {
  if (sha256Hex(value) === hash) return value;
  if (!codec.enabled) return null;
  try {
    const plain = codec.decrypt(value);
    return codec.hash(plain) === hash ? plain : null;
  } catch {
    return null;
  }
}

async function judge(runner: CryptoRunner, rows: RowsIn) {
  // In four batches at once, so the pool spreads them over its workers.
  const size = Math.ceil(rows.values.length / 4);
  const batches = [0, 1, 2, 3].map((i) => ({ values: rows.values.slice(i * size, (i + 1) * size), hashes: rows.hashes.slice(i * size, (i + 1) * size) }));
  const classified = await Promise.all(batches.map((b) => runner.classify(b)));
  const opened = await Promise.all(batches.map((b) => runner.open(b)));
  return {
    states: classified.flatMap((s) => [...s]),
    openedStates: opened.flatMap((o) => [...o.states]),
    digests: opened.flatMap((o) => o.digests),
  };
}

test('backup key checks: the worker pool and the main thread agree with the codec on every GPT-Load vector, under every key', async () => {
  const rows = sampleRows();
  for (const password of passwords) {
    const codec = codecFor(password);
    const label = password === '' ? 'disabled' : `key #${passwords.indexOf(password)}`;
    const inline = await createKeyRunner(codec, { rows: rows.values.length, threads: 2 });
    const pool = await createKeyRunner(codec, { rows: INLINE_BELOW_ROWS, threads: 2 });
    try {
      assert.equal(inline.threads, 0);
      assert.equal(pool.threads, 2);
      const fromMain = await judge(inline, rows);
      const fromWorkers = await judge(pool, rows);
      assert.deepEqual(fromWorkers, fromMain, label);

      rows.values.forEach((value, i) => {
        const hash = rows.hashes[i];
        const expected = value === '' && hash === '' ? 'empty' : classifyRows([{ key_value: value, key_hash: hash }], codec)[0];
        assert.equal(stateUnderKey(fromMain.states[i], codec.enabled), expected, `${label}, row ${i}`);
        assert.equal(fromMain.openedStates[i], fromMain.states[i], `${label}, row ${i}: open classifies as classify does`);
        const plain = expected === 'empty' ? null : expectedOpen(value, hash, codec);
        assert.equal(fromMain.digests[i], plain === null ? '' : sha256Hex(plain), `${label}, row ${i}: digest`);
      });
      // Each key opens its own vectors (and the plaintext ones), nothing else.
      const own = vectors.filter((v) => v.password === password && v.plaintext !== '').length;
      assert.ok(fromMain.digests.filter((d) => d !== '').length >= own, label);
    } finally {
      await inline.close();
      await pool.close();
    }
  }
});

test('runner results are used in the order their batches went in, a few batches in flight', async () => {
  const results = new OrderedResults({ threads: 2 });
  const used: number[] = [];
  const resolvers: Array<(n: number) => void> = [];
  for (let i = 0; i < 5; i++) results.push(new Promise<number>((resolve) => resolvers.push(resolve)), (n) => used.push(n));
  // The last batch finishes first.
  for (let i = 4; i >= 0; i--) resolvers[i](i);
  await results.settle();
  assert.deepEqual(used, [0, 1], 'down to threads + 1 in flight');
  await results.settle(0);
  assert.deepEqual(used, [0, 1, 2, 3, 4]);

  const failing = new OrderedResults({ threads: 0 });
  failing.push(Promise.reject(new Error('worker failed')), () => assert.fail('a failed batch is never used'));
  await assert.rejects(failing.settle(0), /worker failed/);
});
