import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { codecFor, derivedKeyOf, sha256Hex } from '../../server/core/crypto';
import { backupFileName, canonicalJson, canonicalRow, digestLine, emptyKeyCounts, encodeManifestMember, fileTimestamp, layoutOfFile, manifestLineLength, MANIFEST_PREFIX_BYTES, neededFingerprint, parseDigestLine, TableDigest, tallyKeyStates, type BackupManifest, type UnsealedManifest } from '../../server/keystore/backup/format';
import { decodeManifestMember, parseManifest } from '../../server/keystore/backup/manifest';
import { checkSeal, sealKeyOfAuthKey, sealKeyOfCodec, sealManifestWith, type SealKey } from '../../server/keystore/backup/seal';
import { MigrationCrypto } from '../../server/keystore/migrate/crypto';

const SEAL_KEY = sealKeyOfAuthKey('unit-test-auth-key-Kp0w-Mn44')!;
const sealManifest = (m: UnsealedManifest, key: SealKey = SEAL_KEY) => sealManifestWith(m, key);
const sealOk = (m: BackupManifest) => checkSeal(m, [SEAL_KEY]).state === 'verified';

function sampleManifest(): UnsealedManifest {
  return {
    format: 'gpt-load-keystore-backup',
    version: 2,
    layout: 'portable',
    engine: 'postgres',
    source: 'postgres gpt@db:5432/gptload',
    createdAt: '2025-01-02T03:04:05.000Z',
    tool: { name: 'gpt-load-keystore', version: '0.1.0' },
    snapshot: 'postgres-repeatable-read',
    tables: [
      { name: 'api_keys', present: true, included: true, columns: [{ name: 'id', type: 'int8' }, { name: 'key_value', type: 'text' }], rows: 2, sha256: 'ab'.repeat(32) },
      { name: 'request_logs', present: true, included: false, columns: [], rows: 0, sha256: '' },
    ],
    encryption: {
      keyFingerprint: '0123456789abcdef',
      configuredFingerprint: '0123456789abcdef',
      apiKeys: { total: 2, plaintext: 0, encrypted: 2, unknown: 0, empty: 0 },
      requestLogs: null,
    },
    body: { bytes: 1234, sha256: 'cd'.repeat(32) },
  };
}

test('canonical JSON sorts keys at every level and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null }, u: undefined }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('the keyed seal covers every manifest field', () => {
  const sealed = sealManifest(sampleManifest());
  assert.ok(sealOk(sealed));
  const tampered: BackupManifest[] = [
    { ...sealed, createdAt: '2025-01-02T03:04:06.000Z' },
    { ...sealed, encryption: { ...sealed.encryption, keyFingerprint: 'fedcba9876543210' } },
    { ...sealed, tables: [{ ...sealed.tables[0], rows: 3 }, sealed.tables[1]] },
    { ...sealed, body: { bytes: 1235, sha256: sealed.body!.sha256 } },
    { ...sealed, seal: sealed.seal.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
  ];
  for (const m of tampered) assert.equal(checkSeal(m, [SEAL_KEY]).state, 'forged');
  // Resealing without the key (the unkeyed scheme, or another key) is not the deployment's seal.
  const other = sealKeyOfAuthKey('someone-else-auth-key-Zq81-Lm2Kp0')!;
  assert.equal(checkSeal(sealManifest(sampleManifest(), other), [SEAL_KEY]).state, 'unverifiable');
  assert.deepEqual(checkSeal({ ...sealManifest(sampleManifest(), other), sealKey: SEAL_KEY.id }, [SEAL_KEY]).state, 'forged');
});

test('seal keys: ENCRYPTION_KEY and AUTH_KEY derive different, stable ids; a disabled codec has none', () => {
  const fromKey = sealKeyOfCodec(codecFor('seal-id-test-key-Qm7-Lp2-Zx90'))!;
  assert.match(fromKey.id, /^[0-9a-f]{16}$/);
  assert.equal(sealKeyOfCodec(codecFor('seal-id-test-key-Qm7-Lp2-Zx90'))!.id, fromKey.id);
  assert.notEqual(sealKeyOfAuthKey('seal-id-test-key-Qm7-Lp2-Zx90')!.id, fromKey.id);
  assert.equal(sealKeyOfCodec(codecFor('')), null);
  assert.equal(sealKeyOfAuthKey(''), null);
});

test('format 1 (unkeyed seal) still reads, and its seal is unverifiable whatever the keys', () => {
  const { sealKey: _id, ...unsealed } = { ...sampleManifest(), version: 1 } as UnsealedManifest & { sealKey?: string };
  const v1 = { ...unsealed, seal: sha256Hex(canonicalJson(unsealed)) } as BackupManifest;
  const parsed = parseManifest(JSON.stringify(v1));
  assert.ok('manifest' in parsed);
  assert.deepEqual(checkSeal(parsed.manifest, [SEAL_KEY]), { state: 'unverifiable', reason: 'unkeyed', sealKey: null });
  assert.deepEqual(parseManifest(JSON.stringify({ ...v1, createdAt: '2026-01-01T00:00:00.000Z' })), { failure: 'seal' }, 'damage is still caught');
});

test('a manifest member is a valid gzip member holding the manifest line, and decodes back', () => {
  const sealed = sealManifest(sampleManifest());
  const member = encodeManifestMember(sealed);
  assert.equal(gunzipSync(member).toString('utf8'), JSON.stringify(sealed) + '\n');
  assert.equal(manifestLineLength(member.subarray(0, MANIFEST_PREFIX_BYTES)), Buffer.byteLength(JSON.stringify(sealed) + '\n'));
  const decoded = decodeManifestMember(member);
  assert.ok('manifest' in decoded);
  assert.deepEqual(decoded.manifest, sealed);
});

test('every single flipped byte of the manifest member is detected', () => {
  const member = encodeManifestMember(sealManifest(sampleManifest()));
  for (let i = 0; i < member.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const copy = Buffer.from(member);
      copy[i] ^= mask;
      const decoded = decodeManifestMember(copy);
      assert.ok('failure' in decoded, `byte ${i} ^ ${mask} went unnoticed`);
    }
  }
});

test('a truncated manifest member is detected at every length', () => {
  const member = encodeManifestMember(sealManifest(sampleManifest()));
  for (let length = 0; length < member.length; length++) assert.ok('failure' in decodeManifestMember(member.subarray(0, length)), `length ${length}`);
});

test('other files are not taken for a backup manifest', () => {
  assert.equal(manifestLineLength(Buffer.from('SQLite format 3\0')), null);
  assert.equal(manifestLineLength(Buffer.alloc(0)), null);
  assert.deepEqual(parseManifest('{"format":"something-else"}'), { failure: 'not-a-backup' });
  assert.deepEqual(parseManifest('{not json'), { failure: 'json' });
  const future = sealManifest({ ...sampleManifest(), version: 99 });
  assert.deepEqual(parseManifest(JSON.stringify(future)), { failure: 'version' });
});

test('table digests are taken over canonical rows and change with any value', () => {
  const rows: (string | null)[][] = [
    ['1', 'a', null],
    ['2', 'b', ''],
  ];
  const a = new TableDigest();
  rows.forEach((r) => a.add(r));
  assert.equal(a.rows, 2);
  assert.equal(a.digest(), sha256Hex(rows.map(canonicalRow).join('')));
  const b = new TableDigest();
  [['1', 'a', ''], ['2', 'b', '']].forEach((r) => b.add(r));
  assert.notEqual(b.digest(), sha256Hex(rows.map(canonicalRow).join('')), 'null and empty differ');
});

test('key rows are counted by state and name the key they need', () => {
  const codec = codecFor('a-key-0123456789abcdef');
  const other = codecFor('another-key-0123456789');
  const counts = emptyKeyCounts();
  const rows = {
    values: [codec.encrypt('sk-one'), 'sk-two', other.encrypt('sk-3'), ''],
    hashes: [codec.hash('sk-one'), sha256Hex('sk-two'), other.hash('sk-3'), ''],
  };
  tallyKeyStates(counts, new MigrationCrypto({ source: derivedKeyOf(codec), target: null }).classify(rows), codec.enabled);
  assert.deepEqual(counts, { total: 4, plaintext: 1, encrypted: 1, unknown: 1, empty: 1 });
  // Under no key: only the plaintext row is what it should be.
  const keyless = emptyKeyCounts();
  tallyKeyStates(keyless, new MigrationCrypto({ source: null, target: null }).classify(rows), false);
  assert.deepEqual(keyless, { total: 4, plaintext: 1, encrypted: 0, unknown: 2, empty: 1 });
  assert.equal(neededFingerprint([counts], codec), codec.fingerprint);
  assert.equal(neededFingerprint([{ ...counts, encrypted: 0 }], codec), null);
  assert.equal(neededFingerprint([{ ...counts, encrypted: 0, unknown: 0 }], codec), 'plaintext');
  assert.equal(neededFingerprint([emptyKeyCounts()], codec), 'plaintext');
});

test('file names are UTC, sortable and safe on every file system', () => {
  const date = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
  assert.equal(fileTimestamp(date), '20250102T030405Z');
  assert.equal(backupFileName('sqlite', date), 'gpt-load-sqlite-20250102T030405Z.db');
  assert.equal(backupFileName('mysql', date, 2), 'gpt-load-mysql-20250102T030405Z-2.jsonl.gz');
  assert.equal(layoutOfFile('/x/gpt-load-postgres-20250102T030405Z.jsonl.gz'), 'portable');
  assert.equal(layoutOfFile('/x/a.db'), 'sqlite');
  assert.equal(layoutOfFile('/x/a.db.sha256'), null);
});

test('digest sidecars are sha256sum lines for their file only', () => {
  const hex = 'ab'.repeat(32);
  const line = digestLine(hex, '/backups/x.db');
  assert.equal(line, `${hex}  x.db\n`);
  assert.equal(parseDigestLine(line, '/elsewhere/x.db'), hex);
  assert.equal(parseDigestLine(line, '/backups/y.db'), null);
  assert.equal(parseDigestLine('garbage', '/backups/x.db'), null);
});
