import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyRow, codecFor, DecryptError, deriveKey, keyFingerprint, sha256Hex } from '../../server/core/crypto';
import { sharedPath } from '../support/paths';

interface Vector {
  password: string;
  plaintext: string;
  derived_key_hex: string;
  ciphertext: string;
  hash: string;
}

const vectors: Vector[] = readFileSync(join(sharedPath('vectors'), 'gpt-load-crypto.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));

const codecs = new Map<string, ReturnType<typeof codecFor>>();
const codec = (password: string) => {
  if (!codecs.has(password)) codecs.set(password, codecFor(password));
  return codecs.get(password)!;
};

test('the shared vectors are present', () => {
  assert.ok(vectors.length >= 50, `only ${vectors.length} vectors`);
});

test('derived keys match GPT-Load for every password', () => {
  for (const password of new Set(vectors.map((v) => v.password))) {
    const expected = vectors.find((v) => v.password === password)!.derived_key_hex;
    if (password === '') assert.equal(expected, '');
    else assert.equal(deriveKey(password).toString('hex'), expected, `password #${[...codecs.keys()].length}`);
  }
});

test('every GPT-Load ciphertext decrypts to its plaintext and hashes to its key_hash', () => {
  vectors.forEach((v, i) => {
    const c = codec(v.password);
    assert.equal(c.decrypt(v.ciphertext, i), v.plaintext, `vector ${i}`);
    assert.equal(c.hash(v.plaintext), v.hash, `vector ${i} hash`);
  });
});

test('our ciphertexts decrypt by the same rules and are fresh each time', () => {
  for (const v of vectors) {
    const c = codec(v.password);
    const a = c.encrypt(v.plaintext);
    assert.equal(c.decrypt(a), v.plaintext);
    if (v.password !== '') {
      assert.match(a, /^[0-9a-f]+$/);
      assert.equal(a.length, v.ciphertext.length, 'same layout as GPT-Load');
      assert.notEqual(a, c.encrypt(v.plaintext), 'random nonce');
    }
  }
});

test('malformed values are errors naming the row, never pass-through', () => {
  const c = codec('my-32-char-secret-key-AbCdEf012345!');
  const good = vectors.find((v) => v.password === 'my-32-char-secret-key-AbCdEf012345!' && v.plaintext !== '')!;
  const cases: Array<[string, string]> = [
    ['abc', 'not-hex'],
    ['zz' + good.ciphertext.slice(2), 'not-hex'],
    ['00'.repeat(27), 'too-short'],
    [good.ciphertext.slice(0, -2) + (good.ciphertext.endsWith('00') ? '01' : '00'), 'auth-failed'],
    ['sk-plaintext-key', 'not-hex'],
  ];
  for (const [value, reason] of cases) {
    assert.throws(
      () => c.decrypt(value, 42),
      (e: unknown) => e instanceof DecryptError && e.reason === reason && e.message.startsWith('row 42') && !e.message.includes(value),
    );
  }
  const other = codec('0123456789abcdef0123456789abcdef');
  assert.throws(() => other.decrypt(good.ciphertext, 7), (e: unknown) => e instanceof DecryptError && e.reason === 'auth-failed');
});

test('per-row state: plaintext, encrypted with K, unknown', () => {
  for (const v of vectors.filter((x) => x.plaintext !== '')) {
    const c = codec(v.password);
    if (v.password === '') {
      assert.equal(classifyRow(v.ciphertext, v.hash, c), 'plaintext');
      continue;
    }
    assert.equal(classifyRow(v.ciphertext, v.hash, c), 'encrypted');
    assert.equal(classifyRow(v.plaintext, sha256Hex(v.plaintext), c), 'plaintext');
    const wrong = codec(v.password === 'short' ? 'pass word with spaces' : 'short');
    assert.equal(classifyRow(v.ciphertext, v.hash, wrong), 'unknown');
    assert.equal(classifyRow(v.ciphertext, v.hash, codec('')), 'unknown');
  }
});

test('key fingerprints are stable, distinct and reveal nothing of the key', () => {
  const a = keyFingerprint('my-32-char-secret-key-AbCdEf012345!');
  assert.equal(a, keyFingerprint('my-32-char-secret-key-AbCdEf012345!'));
  assert.notEqual(a, keyFingerprint('0123456789abcdef0123456789abcdef'));
  assert.equal(keyFingerprint(''), 'plaintext');
  assert.ok(!deriveKey('my-32-char-secret-key-AbCdEf012345!').toString('hex').includes(a));
});
