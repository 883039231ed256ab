import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFor, PLAINTEXT_CODEC, sha256Hex } from '../../server/core/crypto';
import { dashboardVerdict, overallState, type RowCounts } from '../../server/keystore/status';
import { formatStatus } from '../../server/cli/status';

const KEY = 'status-unit-Key-0123456789abcdef';
const OTHER = 'another-Key-0123456789abcdef-XYZ';
const codec = codecFor(KEY);
const other = codecFor(OTHER);

type Row = { key_value: string; key_hash: string };
const plain = (i: number): Row => ({ key_value: `sk-plain-${i}`, key_hash: sha256Hex(`sk-plain-${i}`) });
const encrypted = (i: number, c = codec): Row => ({ key_value: c.encrypt(`sk-enc-${i}`), key_hash: c.hash(`sk-enc-${i}`) });
/** A sample of 20 rows: `p` plaintext, `e` encrypted with KEY, the rest under another key. */
function sample(p: number, e: number): Row[] {
  return Array.from({ length: 20 }, (_, i) => (i < p ? plain(i) : i < p + e ? encrypted(i) : encrypted(i, other)));
}

test("GPT-Load's dashboard: data_not_encrypted only when more than 80% of the sample is plaintext", () => {
  assert.equal(dashboardVerdict(sample(20, 0), codec).verdict, 'data_not_encrypted');
  assert.equal(dashboardVerdict(sample(17, 3), codec).verdict, 'data_not_encrypted');
  const edge = dashboardVerdict(sample(16, 4), codec);
  assert.equal(edge.plaintextShare, 0.8);
  assert.equal(edge.verdict, null, 'exactly 80% is not "more than"');
});

test("GPT-Load's dashboard: key_not_configured when no key and under 20% plaintext", () => {
  assert.equal(dashboardVerdict(sample(0, 20), PLAINTEXT_CODEC).verdict, 'key_not_configured');
  assert.equal(dashboardVerdict(sample(3, 17), PLAINTEXT_CODEC).verdict, 'key_not_configured');
  assert.equal(dashboardVerdict(sample(4, 16), PLAINTEXT_CODEC).verdict, null, 'exactly 20%');
  assert.equal(dashboardVerdict(sample(20, 0), PLAINTEXT_CODEC).verdict, null);
});

test("GPT-Load's dashboard: key_mismatch when under 20% plaintext and under 20% decrypting with the key", () => {
  const mismatch = dashboardVerdict(sample(0, 0), codec);
  assert.deepEqual(mismatch, { verdict: 'key_mismatch', sampled: 20, plaintextShare: 0, decryptShare: 0 });
  assert.equal(dashboardVerdict(sample(3, 3), codec).verdict, 'key_mismatch');
  assert.equal(dashboardVerdict(sample(0, 4), codec).verdict, null, 'exactly 20% decrypt');
  assert.equal(dashboardVerdict(sample(4, 0), codec).verdict, null, 'exactly 20% plaintext');
  const ok = dashboardVerdict(sample(0, 20), codec);
  assert.deepEqual(ok, { verdict: null, sampled: 20, plaintextShare: 0, decryptShare: 1 });
});

test("GPT-Load's dashboard: a row decrypting but with another key_hash does not count as decrypting", () => {
  const rows = Array.from({ length: 20 }, (_, i) => ({ key_value: codec.encrypt(`sk-${i}`), key_hash: codec.hash(`sk-other-${i}`) }));
  assert.equal(dashboardVerdict(rows, codec).verdict, 'key_mismatch');
  assert.deepEqual(dashboardVerdict([], codec), { verdict: null, sampled: 0, plaintextShare: 0, decryptShare: 0 });
});

const counts = (c: Partial<RowCounts>): RowCounts => ({ total: 0, plaintext: 0, encrypted: 0, unknown: 0, empty: 0, unknownIds: [], ...c });

test('overall state from exact counts: empty, ok, needs-migration, key-missing, wrong-key, mixed, not-encrypted', () => {
  assert.equal(overallState(counts({}), true), 'empty');
  assert.equal(overallState(counts({ total: 3, empty: 3 }), false), 'empty');
  assert.equal(overallState(counts({ total: 5, encrypted: 5 }), true), 'ok');
  assert.equal(overallState(counts({ total: 6, encrypted: 5, empty: 1 }), true), 'ok');
  // Encryption off is never ok: GPT-Load's dashboard warns that data is stored in plain text.
  assert.equal(overallState(counts({ total: 5, plaintext: 5 }), false), 'not-encrypted');
  assert.equal(overallState(counts({ total: 5, plaintext: 3, noHash: 2 }), false), 'not-encrypted');
  assert.equal(overallState(counts({ total: 5, plaintext: 3, noHash: 2 }), true), 'needs-migration');
  // Both tables: request logs GPT-Load left in plaintext keep the state from ok.
  assert.equal(overallState([counts({ total: 5, encrypted: 5 }), counts({ total: 3, plaintext: 3 })], true), 'mixed');
  assert.equal(overallState([counts({ total: 5, encrypted: 5 }), counts({ total: 3, encrypted: 2, wrongHash: 1 })], true), 'mixed');
  assert.equal(overallState(counts({ total: 5, plaintext: 5 }), true), 'needs-migration');
  assert.equal(overallState(counts({ total: 5, unknown: 5 }), false), 'key-missing');
  assert.equal(overallState(counts({ total: 5, unknown: 5 }), true), 'wrong-key');
  assert.equal(overallState(counts({ total: 5, encrypted: 4, unknown: 1 }), true), 'mixed');
  assert.equal(overallState(counts({ total: 5, encrypted: 4, plaintext: 1 }), true), 'mixed');
  assert.equal(overallState(counts({ total: 5, plaintext: 4, unknown: 1 }), false), 'mixed');
});

test('status text: verdict, counts with example ids, groups — in English and Chinese, no key material', () => {
  const report = {
    target: 'sqlite /srv/gpt-load/data/gpt-load.db',
    engine: 'sqlite',
    encryptionEnabled: true,
    keyFingerprint: codec.fingerprint,
    dashboard: { verdict: null, sampled: 20, plaintextShare: 0.05, decryptShare: 0.7 },
    state: 'mixed' as const,
    apiKeys: counts({ total: 1207, plaintext: 1, encrypted: 1201, unknown: 5, unknownIds: [3, 5, 7, 11, 12] }),
    requestLogs: counts({ total: 100, encrypted: 96, plaintext: 1, unknown: 2, empty: 1, unknownIds: ['0a', '0b'] }),
    groups: [
      { id: 1, name: 'openai', displayName: 'OpenAI', channelType: 'openai', groupType: 'standard', active: 1000, invalid: 7 },
      { id: 5, name: 'openai-all', displayName: 'OpenAI (all)', channelType: 'openai', groupType: 'aggregate', active: 0, invalid: 0 },
    ],
  };
  const en = formatStatus(report, 'en');
  assert.match(en, /^Database: sqlite \/srv\/gpt-load\/data\/gpt-load\.db$/m);
  assert.match(en, new RegExp(`^ENCRYPTION_KEY: set \\(fingerprint ${codec.fingerprint}\\)$`, 'm'));
  assert.match(en, /^State: mixed — /m);
  assert.match(en, /^GPT-Load's dashboard: no warning \(sample 20\)$/m);
  // Without a key the dashboard's own security warning is what it shows, not "no warning".
  const keyless = formatStatus({ ...report, encryptionEnabled: false }, 'en');
  assert.match(keyless, /^GPT-Load's dashboard: ENCRYPTION_KEY is not set: sensitive data will be stored in plain text \(sample 20\)$/m);
  assert.match(formatStatus({ ...report, encryptionEnabled: false }, 'zh-CN'), /^GPT-Load 仪表盘: 未设置 ENCRYPTION_KEY：敏感数据将以明文存储 \(抽样 20\)$/m);
  assert.match(en, /^api_keys: 1,207 rows: 1 plaintext, 1,201 encrypted with the configured key, 5 undecryptable \(e\.g\. ids 3, 5, 7, 11, 12\)$/m);
  assert.match(en, /^request_logs: 100 rows: 1 plaintext, 96 encrypted with the configured key, 2 undecryptable \(e\.g\. ids 0a, 0b\), 1 without key/m);
  assert.match(en, /^ {2}openai \[openai\]: 1,000 active, 7 invalid$/m);
  assert.match(en, /^ {2}openai-all \[openai, aggregate\]: 0 active, 0 invalid$/m);
  assert.ok(!en.includes(KEY));
  const zh = formatStatus({ ...report, dashboard: { ...report.dashboard, verdict: 'key_mismatch' } }, 'zh-CN');
  assert.match(zh, /^数据库: /m);
  assert.match(zh, /key_mismatch — ENCRYPTION_KEY 与数据不匹配/);
});
