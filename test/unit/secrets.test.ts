import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDotenv } from '../../server/core/env/read';
import { quoteForDotenv } from '../../server/core/env/write';
import { KeystoreError } from '../../server/core/errors';
import { assessSecret, generateSecret, maskSecret, SAFE_SECRET_ALPHABET, weakNewKeyWarnings } from '../../server/core/secrets';

const codes = (value: string, name: Parameters<typeof assessSecret>[1] = 'AUTH_KEY') => assessSecret(value, name).map((w) => `${w.code}:${w.severity}`);

test('the safe alphabet has letters, digits and symbols, and nothing .env, Compose or a shell treats specially', () => {
  assert.match(SAFE_SECRET_ALPHABET, /[A-Z]/);
  assert.match(SAFE_SECRET_ALPHABET, /[a-z]/);
  assert.match(SAFE_SECRET_ALPHABET, /[0-9]/);
  assert.match(SAFE_SECRET_ALPHABET, /[^A-Za-z0-9]/);
  assert.doesNotMatch(SAFE_SECRET_ALPHABET, /[$#'"`\\\s,~!]/);
  assert.equal(new Set(SAFE_SECRET_ALPHABET).size, SAFE_SECRET_ALPHABET.length);
});

test('1000 generated secrets: no GPT-Load warning, only safe characters, read back unchanged unquoted', () => {
  const allowed = new Set(SAFE_SECRET_ALPHABET);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const s = generateSecret();
    assert.equal(s.length, 32);
    assert.deepEqual(assessSecret(s, 'AUTH_KEY'), [], s);
    assert.deepEqual(assessSecret(s, 'ENCRYPTION_KEY'), []);
    assert.deepEqual(weakNewKeyWarnings(s), []);
    assert.ok([...s].every((c) => allowed.has(c)), s);
    assert.ok(!s.startsWith('-'));
    assert.equal(quoteForDotenv(s), s, 'written unquoted');
    const doc = parseDotenv(`AUTH_KEY=${s}\nexport ENCRYPTION_KEY: ${s} # c\n`);
    assert.deepEqual(doc.values, { AUTH_KEY: s, ENCRYPTION_KEY: s });
    seen.add(s);
  }
  assert.equal(seen.size, 1000);
});

test('characters are roughly uniform over the alphabet (chi-square bound)', () => {
  const counts = new Map<string, number>([...SAFE_SECRET_ALPHABET].map((c) => [c, 0]));
  const n = 2000;
  const length = 64;
  for (let i = 0; i < n; i++) {
    // The first character is never "-" by design; judge the others.
    for (const c of generateSecret(length).slice(1)) counts.set(c, counts.get(c)! + 1);
  }
  const total = n * (length - 1);
  const expected = total / SAFE_SECRET_ALPHABET.length;
  let chi = 0;
  for (const count of counts.values()) chi += (count - expected) ** 2 / expected;
  const df = SAFE_SECRET_ALPHABET.length - 1;
  // Mean df, sd sqrt(2 df): a bound 8 sd out fails only for a broken generator.
  assert.ok(chi < df + 8 * Math.sqrt(2 * df), `chi-square ${chi.toFixed(1)} for ${df} degrees of freedom`);
  for (const [c, count] of counts) assert.ok(count > expected * 0.8 && count < expected * 1.2, `${c}: ${count} vs ${expected}`);
});

test('generateSecret lengths: 16..1024, default 32; other lengths are usage errors', () => {
  const s16 = generateSecret(16);
  assert.equal(s16.length, 16);
  assert.deepEqual(codes(s16), ['secret-short:medium'], 'GPT-Load calls 16..31 short, nothing else');
  assert.equal(generateSecret(1024).length, 1024);
  for (const bad of [15, 0, -1, 1025, 32.5, Number.NaN]) {
    assert.throws(() => generateSecret(bad), (e: unknown) => e instanceof KeystoreError && e.code === 'usage', String(bad));
  }
});

test("assessSecret: the dashboard's rules", () => {
  assert.deepEqual(codes('', 'AUTH_KEY'), ['secret-missing:high']);
  assert.equal(assessSecret('', 'AUTH_KEY')[0].text.en, 'AUTH_KEY is not set, system cannot function properly');
  assert.equal(assessSecret('', 'ENCRYPTION_KEY')[0].text.en, 'ENCRYPTION_KEY is not set, sensitive data will be stored in plain text');
  assert.deepEqual(assessSecret('', 'proxy key'), [], 'GPT-Load skips empty proxy keys');

  assert.deepEqual(codes('Ab1Ab1Ab1Ab1Ab1'), ['secret-too-short:high']);
  const tooShort = assessSecret('Xy7Xy7Xy7Xy7Xy7', 'AUTH_KEY')[0];
  assert.equal(tooShort.length, 15);
  assert.equal(tooShort.text.en, 'AUTH_KEY is too short (15 characters), recommend at least 16 characters');
  assert.equal(tooShort.text.zh, 'AUTH_KEY长度不足（15字符），建议至少16字符');
  assert.deepEqual(codes('Xy7Xy7Xy7Xy7Xy7X'), ['secret-short:medium']);
  assert.equal(assessSecret('Xy7Xy7Xy7Xy7Xy7X', 'AUTH_KEY')[0].text.en, 'AUTH_KEY is short (16 characters), recommend 32+ characters');
  assert.deepEqual(codes('Xy7'.repeat(10) + 'X'), ['secret-short:medium']);
  assert.deepEqual(codes('Xy7'.repeat(10) + 'XY'), []);

  // Weak patterns: case-insensitive, the first of GPT-Load's list only.
  const weak = assessSecret('My-ADMIN-123456-Value-Zz9Zz9Zz9Zz9', 'ENCRYPTION_KEY');
  assert.deepEqual(weak.map((w) => w.code), ['secret-weak-pattern']);
  assert.equal(weak[0].pattern, '123456', '123456 comes before admin in the list');
  assert.equal(weak[0].text.en, 'ENCRYPTION_KEY contains common weak password patterns: 123456');
  assert.equal(assessSecret('sk-123456', 'AUTH_KEY').find((w) => w.code === 'secret-weak-pattern')?.pattern, '123456');
  assert.equal(assessSecret('Zz9-KeY-Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz', 'AUTH_KEY')[0].pattern, 'key');
  assert.equal(assessSecret('ADMİN-Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9', 'AUTH_KEY')[0].pattern, 'admin', "Go lowercases İ to i");
  assert.equal(assessSecret('Proxy-Zz9Zz9Zz9Zz9Zz9Zz9-TeMp-Zz9Zz', 'proxy key')[0].text.en, 'Proxy key contains common weak password patterns: temp');

  // Complexity: 16+ bytes with fewer than 3 of upper/lower/digit/other; non-ASCII counts as other.
  assert.deepEqual(codes('zqxjvwmbfhgnrplzqxjvwmbfhgnrplzq'), ['secret-low-complexity:medium']);
  assert.deepEqual(codes('zqxjvwmbfhgnrplzqxjvwmbfhgnrpl12'), ['secret-low-complexity:medium']);
  assert.deepEqual(codes('zqxjvwmbfhgnrplzqxjvwmbfhgnrp12é'), []);
  assert.deepEqual(codes('zqxjvwmbfhgnrpl'), ['secret-too-short:high'], 'complexity is judged from 16 bytes on');
});

test('assessSecret counts bytes like Go: non-ASCII characters weigh 2–4', () => {
  const chinese = '密钥密钥密钥'; // 6 characters, 18 bytes
  const w = assessSecret(chinese, 'AUTH_KEY');
  assert.deepEqual(w.map((x) => x.code), ['secret-short', 'secret-low-complexity']);
  assert.equal(w[0].length, 18);
  assert.match(w[0].text.en, /\(18 characters\)/);
  assert.deepEqual(codes('😀'.repeat(8)), ['secret-low-complexity:medium'], '32 bytes: long enough');
  assert.deepEqual(weakNewKeyWarnings(chinese), [], '18 bytes pass migrate-keys as well');
});

test("weakNewKeyWarnings: migrate-keys' rule (< 16, password / sk-123456 / 123456 / admin / secret)", () => {
  assert.deepEqual(weakNewKeyWarnings('Zz9Zz9Zz9Zz9Zz9Zz9'), []);
  assert.equal(weakNewKeyWarnings('short').length, 1);
  assert.match(weakNewKeyWarnings('short')[0].en, /shorter than 16/);
  assert.equal(weakNewKeyWarnings('my-SeCrEt-value-long-enough').length, 1);
  assert.match(weakNewKeyWarnings('my-SeCrEt-value-long-enough')[0].en, /weak patterns/);
  assert.equal(weakNewKeyWarnings('admin').length, 2);
  assert.deepEqual(weakNewKeyWarnings('Zz9-token-demo-Zz9Zz9'), [], 'the dashboard list is longer than migrate-keys\'');
  for (const w of weakNewKeyWarnings('admin')) assert.match(w.zh, /[\u4e00-\u9fff]/);
});

test('maskSecret never reveals the secret: ≤4 leading and trailing characters from 32 on, 2 from 16, none below', () => {
  const key = 'sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH9xQz';
  assert.equal(maskSecret(key), `sk-a…(${key.length})…9xQz`);
  assert.equal(maskSecret('0123456789abcdef'), '01…(16)…ef');
  assert.equal(maskSecret('short-secret'), '…(12)…');
  assert.equal(maskSecret('x'), '…(1)…');
  assert.equal(maskSecret(''), '(empty)');
  assert.equal(maskSecret('😀'.repeat(40)), '😀😀😀😀…(40)…😀😀😀😀', 'counts characters, never splits one');
  for (const s of ['a', 'abcd', 'abcdefgh', '0123456789abcdef', key, generateSecret()]) {
    const masked = maskSecret(s);
    assert.ok(!masked.includes(s), masked);
  }
});
