/**
 * `backup check` and `backup list`: is a backup whole (every byte as sealed, every table and row as the
 * manifest says, SQLite's own integrity check), does a key open every stored key in it, how old is it,
 * and how does it differ from the live database (keys missing or added since, by hash). A corrupt file
 * is a verdict, never an exception: only a file that cannot be read at all throws.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { KeyCodec } from '../../core/crypto';
import { EXIT_CODES, KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import type { Store } from '../../store/connect';
import { describeTarget } from '../../store/dsn';
import { iterateKeyRows } from '../../store/rows';
import { backupInfo, BodyLineError, bodyLines, digestSidecar, fileSha256, KEY_TABLES, layoutOfFile, MANIFEST_MEMBER_OVERHEAD, MANIFEST_PREFIX_BYTES, manifestLineLength, MAX_BODY_LINE, parseDigestLine, PARTIAL_EXT, plaintextRows, plaintextWarning, TableDigest, type BackupFinding, type BackupInfo, type BackupLayout, type BackupManifest, type BackupTable, type PlaintextRows, type TableManifest } from './format';
import { decodeManifestMember, type ManifestDecodeFailure } from './manifest';
import { integrityProblems, isSqliteFileError, openSqliteFile, quotedColumns, readManifestTable, sqlitePages, sqliteReader, type SqliteDb } from './sqlite';
import { checkSeal, sealKeysAtHand, type SealKey } from './seal';
import { describeTables } from './tables';
import { createKeyRunner, OrderedResults, type CryptoRunner } from '../cryptoPool';
import { stateUnderKey, type RowsIn } from '../migrate/crypto';
import { phaseReporter, type OperationContext } from '../operation';
import { formatAgo, formatNumber } from '../../../shared/format';
import type { BackupVerdict } from '../../../shared/types';

/** Exit codes of `backup check` (and of `backup list` for its worst entry). */
export const VERDICT_EXIT_CODES: Record<BackupVerdict, number> = {
  ok: 0,
  stale: 1,
  differs: 1,
  'needs-key': EXIT_CODES['wrong-key'],
  unverified: EXIT_CODES['backup-invalid'],
  corrupt: EXIT_CODES['backup-invalid'],
};

export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface LiveDatabase {
  store: Store;
  /** The deployment's ENCRYPTION_KEY: what the live rows are encrypted with. */
  codec: KeyCodec;
}

export interface BackupCheckParams {
  /** The key to open the backup's keys with (the .env's or a given one); omitted: no key test. Its seal key is tried too. */
  codec?: KeyCodec;
  /** Further keys the seal may be under (backupSeal.ts sealKeysAtHand: the .env's ENCRYPTION_KEY and AUTH_KEY). */
  sealKeys?: SealKey[];
  /** Compare with this database, or say why it was not reachable. */
  live?: LiveDatabase | { unavailable: Localized };
  /** Older than this is stale (default 7 days). */
  maxAgeMs?: number;
  now?: Date;
  /**
   * Only what is cheap: the manifest, every byte against its digest, the key by fingerprint, the age
   * (what `backup list` does). No row is decoded, no key decrypted, no live comparison.
   */
  quick?: boolean;
  /** Crypto worker threads for large backups (default: one per CPU; 0 = the main thread only). */
  threads?: number;
}

interface KeyCheck {
  /** Fingerprint of the key the backup needs (manifest); "plaintext": none; null: unknown. */
  needed: string | null;
  /** Fingerprint of the key tested; null when none was. */
  given: string | null;
  /** Every stored key opens with the given key (or is plaintext); null: not tested. */
  works: boolean | null;
  /** Key rows tested one by one (0 in quick mode or when the fingerprints already differ). */
  checked: number;
  failed: number;
  /** A few ids of rows that did not open ("api_keys:12", "request_logs:<uuid>"). */
  failedIds: string[];
}

interface LiveComparison {
  target: string;
  /** key_hash when backup and database share a key; otherwise SHA-256 of the decrypted keys. */
  basis: 'key_hash' | 'plaintext';
  backupKeys: number;
  liveKeys: number;
  /** In the backup, no longer in the database. */
  missing: number;
  /** In the database, not in the backup. */
  added: number;
  /** Backup ids of a few missing keys; live ids of a few added ones. */
  missingIds: number[];
  addedIds: number[];
}

export interface BackupCheckReport {
  path: string;
  verdict: BackupVerdict;
  /** Whole and complete (integrity only: says nothing about keys, age or the live database). */
  valid: boolean;
  layout: BackupLayout | null;
  info: BackupInfo | null;
  manifest: BackupManifest | null;
  key: KeyCheck;
  ageMs: number | null;
  live: LiveComparison | null;
  findings: BackupFinding[];
  /** shared/types BackupCheckResult.decryptsWithKey. */
  decryptsWithKey: boolean | null;
  /** Key rows the backup holds in plaintext: a risk whatever the verdict (null: none, or unreadable). */
  plaintext: PlaintextRows | null;
  /** verified: sealed by a key at hand; unverifiable: see BackupVerdict 'unverified'; null: no manifest read. */
  seal: 'verified' | 'unverifiable' | null;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SAMPLE_IDS = 10;

// ---------------------------------------------------------------------------------------------
// Findings

function corrupt(code: string, text: Localized): BackupFinding {
  return { code, severity: 'error', text };
}

const MANIFEST_FAILURES: Record<ManifestDecodeFailure | 'missing', Localized> = {
  'not-a-backup': { en: 'not a gpt-load-keystore backup (no manifest where one belongs)', zh: '不是 gpt-load-keystore 备份（应有清单的位置没有清单）' },
  truncated: { en: 'the file ends inside its manifest (truncated)', zh: '文件在清单中途结束（已截断）' },
  crc: { en: 'the manifest is damaged (gzip CRC mismatch)', zh: '清单已损坏（gzip CRC 不匹配）' },
  json: { en: 'the manifest is damaged (not valid JSON)', zh: '清单已损坏（不是有效的 JSON）' },
  shape: { en: 'the manifest is malformed (a field is missing or of the wrong type): corrupt or forged', zh: '清单格式错误（字段缺失或类型不对）：已损坏或被伪造' },
  seal: { en: 'the manifest was altered or damaged after it was sealed (its seal does not match): forged or corrupt', zh: '清单在封签后被改动或已损坏（封签不匹配）：被伪造或已损坏' },
  version: { en: 'the backup format version is newer than this tool understands: update gpt-load-keystore', zh: '备份格式版本高于本工具支持的版本：请升级 gpt-load-keystore' },
  missing: { en: 'no manifest table in this SQLite file: not a gpt-load-keystore backup, or an incomplete one', zh: '此 SQLite 文件中没有清单表：不是 gpt-load-keystore 备份，或备份不完整' },
};

/** The seal cannot be checked with the keys at hand: said plainly, with what would check it. */
function unverifiableFinding(sealKey: string | null): BackupFinding {
  return {
    code: 'seal-unverifiable',
    severity: 'warning',
    text:
      sealKey === null
        ? {
            en: 'its seal is an older, unkeyed one (format 1): anyone who could write the backups folder could have changed it (groups, upstreams, proxy keys) and resealed it. It cannot be verified; restore refuses it unless --accept-unverified',
            zh: '其封签是旧版无密钥封签（格式 1）：任何能写入备份目录的人都可以改动它（分组、上游、代理密钥）并重新封签。无法验证；恢复时会拒绝，除非使用 --accept-unverified',
          }
        : {
            en: `its seal (key id ${sealKey}) is under none of the keys at hand (the .env's ENCRYPTION_KEY or AUTH_KEY, or the key given): it cannot be verified. Give the ENCRYPTION_KEY (or AUTH_KEY) the backup was taken under with --key-env / --key-file / --key-prompt`,
            zh: `其封签（密钥 id ${sealKey}）不属于手头任何密钥（.env 中的 ENCRYPTION_KEY、AUTH_KEY 或所给密钥）：无法验证。请用 --key-env / --key-file / --key-prompt 提供备份时使用的 ENCRYPTION_KEY（或 AUTH_KEY）`,
          },
  };
}

function tableFinding(code: string, table: string, en: string, zh: string): BackupFinding {
  return corrupt(code, { en: `${table}: ${en}`, zh: `${table}：${zh}` });
}

// ---------------------------------------------------------------------------------------------
// Key identities for the live comparison: 64-bit prefixes of SHA-256 / HMAC values, so a million keys
// take 16 MB, compared by sorting (the chance of a false match among 10^6 keys is about 3·10^-8).

class KeyIdentities {
  private hashes = new BigUint64Array(1024);
  private ids = new Float64Array(1024);
  size = 0;

  add(hex: string, id: number): void {
    if (this.size === this.hashes.length) {
      const hashes = new BigUint64Array(this.size * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const ids = new Float64Array(this.size * 2);
      ids.set(this.ids);
      this.ids = ids;
    }
    // Not sha256Hex: that maps '' to '' (GPT-Load's hash of an empty key), which has no prefix.
    const prefix = /^[0-9a-f]{16}/.test(hex) ? hex.slice(0, 16) : createHash('sha256').update(hex, 'utf8').digest('hex').slice(0, 16);
    this.hashes[this.size] = BigInt(`0x${prefix}`);
    this.ids[this.size++] = id;
  }

  sorted(): BigUint64Array {
    return this.hashes.slice(0, this.size).sort();
  }

  idsOf(wanted: Set<bigint>): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size && out.length < wanted.size; i++) if (wanted.has(this.hashes[i])) out.push(this.ids[i]);
    return out;
  }
}

/** Multiset difference of two identity lists. */
function compareIdentities(backup: KeyIdentities, live: KeyIdentities) {
  const a = backup.sorted();
  const b = live.sorted();
  let i = 0;
  let j = 0;
  let missing = 0;
  let added = 0;
  const missingSample = new Set<bigint>();
  const addedSample = new Set<bigint>();
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) {
      missing++;
      if (missingSample.size < SAMPLE_IDS) missingSample.add(a[i]);
      i++;
    } else if (i >= a.length || b[j] < a[i]) {
      added++;
      if (addedSample.size < SAMPLE_IDS) addedSample.add(b[j]);
      j++;
    } else {
      i++;
      j++;
    }
  }
  return { missing, added, missingIds: backup.idsOf(missingSample), addedIds: live.idsOf(addedSample) };
}

// ---------------------------------------------------------------------------------------------

/** Key rows of one table on their way to the crypto runner. */
interface KeyBatch extends RowsIn {
  table: BackupTable;
  ids: string[];
}

/** Key rows per runner batch: enough to make a message to a worker worth its cost. */
const KEY_BATCH_ROWS = 2000;

/**
 * What one full pass over the rows decides, fed one key row at a time by either layout's reader. Keys
 * are opened in batches by the crypto runner (worker threads on large backups) and judged in row order;
 * readers call settle() between pages, which keeps the batches in flight few.
 */
class RowChecks {
  readonly key: KeyCheck;
  private readonly testKeys: boolean;
  readonly identities: KeyIdentities | null;
  readonly basis: LiveComparison['basis'] | null;
  private crypto: CryptoRunner | null = null;
  private results: OrderedResults | null = null;
  private batch: KeyBatch | null = null;

  constructor(
    manifest: BackupManifest,
    private readonly codec: KeyCodec | undefined,
    live: LiveDatabase | null,
    readonly findings: BackupFinding[],
  ) {
    const needed = manifest.encryption.keyFingerprint;
    const given = codec?.fingerprint ?? null;
    // A known fingerprint other than the key's: no row can open, no need to try them all.
    const knownOther = needed !== null && needed !== 'plaintext' && given !== null && needed !== given;
    this.testKeys = codec !== undefined && !knownOther;
    this.key = { needed, given, works: codec === undefined ? null : knownOther ? false : true, checked: 0, failed: 0, failedIds: [] };
    this.basis = live === null ? null : needed === live.codec.fingerprint ? 'key_hash' : this.testKeys ? 'plaintext' : null;
    this.identities = this.basis === null ? null : new KeyIdentities();
  }

  /** Starts the crypto runner when keys are to be tested, sized by the manifest's key rows. */
  async start(manifest: BackupManifest, threads: number | undefined): Promise<void> {
    if (!this.testKeys) return;
    const rows = manifest.tables.filter((t) => t.included && KEY_TABLES.includes(t.name)).reduce((n, t) => n + t.rows, 0);
    this.crypto = await createKeyRunner(this.codec!, { rows, threads });
    this.results = new OrderedResults(this.crypto);
  }

  onKeyRow(table: BackupTable, id: string, value: string, hash: string): void {
    if (value === '' && hash === '') return;
    if (this.crypto === null) {
      // No key to test: only key_hash identities to take.
      if (table === 'api_keys' && this.basis === 'key_hash') this.identities!.add(hash, Number(id));
      return;
    }
    if (this.batch !== null && this.batch.table !== table) this.submit();
    const batch = (this.batch ??= { table, ids: [], values: [], hashes: [] });
    batch.ids.push(id);
    batch.values.push(value);
    batch.hashes.push(hash);
    if (batch.ids.length >= KEY_BATCH_ROWS) this.submit();
  }

  /** Judges the oldest batches until few are in flight. */
  async settle(): Promise<void> {
    await this.results?.settle();
  }

  /** Judges every row fed so far. */
  async finish(): Promise<void> {
    if (this.batch !== null) this.submit();
    await this.results?.settle(0);
  }

  async close(): Promise<void> {
    await this.crypto?.close();
  }

  private submit(): void {
    const batch = this.batch!;
    this.batch = null;
    if (batch.table === 'api_keys' && this.basis === 'plaintext') {
      this.results!.push(this.crypto!.open(batch), (opened) => this.judge(batch, opened.states, opened.digests));
    } else {
      this.results!.push(this.crypto!.classify(batch), (states) => this.judge(batch, states, null));
    }
  }

  /** `digests`: SHA-256 of each opened plaintext, when api_keys are compared by plaintext. */
  private judge(batch: KeyBatch, states: Uint8Array, digests: string[] | null): void {
    for (let i = 0; i < states.length; i++) {
      const opened = stateUnderKey(states[i], this.codec!.enabled) !== 'unknown';
      this.key.checked++;
      if (!opened) {
        this.key.failed++;
        this.key.works = false;
        if (this.key.failedIds.length < SAMPLE_IDS) this.key.failedIds.push(`${batch.table}:${batch.ids[i]}`);
      }
      if (batch.table !== 'api_keys' || this.identities === null) continue;
      if (this.basis === 'key_hash') this.identities.add(batch.hashes[i], Number(batch.ids[i]));
      else if (opened) this.identities.add(digests![i], Number(batch.ids[i]));
    }
  }
}

/** Compares each included table's count and digest with the manifest. */
function compareTables(manifest: BackupManifest, read: Map<string, { rows: number; sha256: string }>, findings: BackupFinding[]): void {
  for (const table of manifest.tables.filter((t) => t.included)) {
    const got = read.get(table.name);
    if (!got) findings.push(tableFinding('table-missing', table.name, 'missing from the backup', '备份中缺少此表'));
    else if (got.rows !== table.rows) findings.push(tableFinding('row-count', table.name, `${got.rows} rows, the manifest says ${table.rows} (incomplete)`, `${got.rows} 行，清单记录为 ${table.rows} 行（不完整）`));
    else if (got.sha256 !== table.sha256) findings.push(tableFinding('checksum', table.name, 'rows differ from their checksum (damaged)', '数据与校验和不符（已损坏）'));
  }
}

// ---------------------------------------------------------------------------------------------
// Portable layout

/** The manifest of a portable backup and where its body starts. */
export function readPortableManifest(path: string): { manifest: BackupManifest; bodyOffset: number } | { failure: ManifestDecodeFailure } {
  const fd = openSync(path, 'r');
  try {
    const prefix = Buffer.alloc(MANIFEST_PREFIX_BYTES);
    const got = readSync(fd, prefix, 0, prefix.length, 0);
    const length = manifestLineLength(prefix.subarray(0, got));
    if (length === null) return { failure: 'not-a-backup' };
    const member = Buffer.alloc(MANIFEST_MEMBER_OVERHEAD + length);
    const read = readSync(fd, member, 0, member.length, 0);
    const decoded = decodeManifestMember(member.subarray(0, read));
    return 'failure' in decoded ? decoded : { manifest: decoded.manifest, bodyOffset: member.length };
  } finally {
    closeSync(fd);
  }
}

/** Every body byte against the manifest's digest; with `checks`, every line and row as well. */
async function checkPortableBody(
  path: string,
  manifest: BackupManifest,
  bodyOffset: number,
  findings: BackupFinding[],
  checks: RowChecks | null,
  context: OperationContext,
): Promise<void> {
  const size = statSync(path).size;
  const body = manifest.body;
  if (!body) {
    findings.push(corrupt('manifest', { en: 'the manifest does not describe the body', zh: '清单未描述数据部分' }));
    return;
  }
  if (size - bodyOffset !== body.bytes) {
    const shorter = size - bodyOffset < body.bytes;
    findings.push(
      corrupt(shorter ? 'truncated' : 'trailing-bytes', {
        en: shorter ? `the file is ${body.bytes - (size - bodyOffset)} bytes shorter than written (truncated)` : `${size - bodyOffset - body.bytes} unexpected bytes follow the backup`,
        zh: shorter ? `文件比写入时短 ${body.bytes - (size - bodyOffset)} 字节（已截断）` : `备份之后多出 ${size - bodyOffset - body.bytes} 个字节`,
      }),
    );
  }
  const hash = createHash('sha256');
  const source = createReadStream(path, { start: bodyOffset });
  if (checks === null) {
    for await (const chunk of source) hash.update(chunk as Buffer);
  } else {
    const tap = new PassThrough();
    tap.on('data', (chunk: Buffer) => hash.update(chunk));
    const gunzip = createGunzip();
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(tap).pipe(gunzip);
    try {
      await readBodyLines(gunzip, manifest, checks, context);
    } catch (err) {
      if (err instanceof KeystoreError) throw err;
      findings.push(corrupt('gzip', { en: `the compressed rows are damaged (${(err as NodeJS.ErrnoException).code ?? 'gzip error'})`, zh: `压缩的数据已损坏（${(err as NodeJS.ErrnoException).code ?? 'gzip 错误'}）` }));
    } finally {
      gunzip.destroy();
      source.destroy();
    }
  }
  // Once the rows are found damaged the digest adds nothing; otherwise every body byte has been hashed.
  if (!findings.some((f) => f.severity === 'error') && hash.digest('hex') !== body.sha256) {
    findings.push(corrupt('body-digest', { en: 'the backup bytes differ from their digest (damaged)', zh: '备份字节与摘要不符（已损坏）' }));
  }
}

async function readBodyLines(gunzip: NodeJS.ReadableStream, manifest: BackupManifest, checks: RowChecks, context: OperationContext): Promise<void> {
  const findings = checks.findings;
  const expected = manifest.tables.filter((t) => t.included);
  const read = new Map<string, { rows: number; sha256: string }>();
  const total = expected.reduce((n, t) => n + t.rows, 0);
  const report = phaseReporter(context, 'check rows', total);
  let done = 0;
  let next = 0;
  let table: TableManifest | null = null;
  let digest: TableDigest | null = null;
  /** Positions of id, key_value and key_hash in a key table's rows; [] for other tables. */
  let keyAt: number[] = [];
  let ended = false;
  const closeTable = () => {
    if (table && digest) read.set(table.name, { rows: digest.rows, sha256: digest.digest() });
  };
  const structure = (en: string, zh: string) => {
    findings.push(corrupt('structure', { en: `the rows are damaged: ${en}`, zh: `数据已损坏：${zh}` }));
    return false;
  };
  const onLine = (line: string): boolean => {
    if (ended) return structure('data after the end mark', '结束标记之后仍有数据');
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return structure('a line is not JSON', '某行不是 JSON');
    }
    if (Array.isArray(value)) {
      if (!table || !digest) return structure('a row outside any table', '某行不属于任何表');
      if (value.length !== table.columns.length || !value.every((v) => v === null || typeof v === 'string')) {
        return structure(`a ${table.name} row does not have its ${table.columns.length} columns`, `${table.name} 的某行列数不是 ${table.columns.length}`);
      }
      digest.add(value as (string | null)[]);
      if (keyAt.length === 3) checks.onKeyRow(table.name, String(value[keyAt[0]] ?? ''), (value[keyAt[1]] as string | null) ?? '', (value[keyAt[2]] as string | null) ?? '');
      if (++done % 5000 === 0) report(done);
      return true;
    }
    const mark = value as { table?: unknown; end?: unknown };
    if (mark !== null && typeof mark === 'object' && typeof mark.table === 'string') {
      closeTable();
      if (expected[next]?.name !== mark.table) return structure(`unexpected section ${mark.table}`, `意外的表段 ${mark.table}`);
      table = expected[next++];
      digest = new TableDigest();
      keyAt = KEY_TABLES.includes(table.name) ? ['id', 'key_value', 'key_hash'].map((n) => table!.columns.findIndex((c) => c.name === n)) : [];
      if (keyAt.some((i) => i < 0)) keyAt = [];
      return true;
    }
    if (mark !== null && typeof mark === 'object' && mark.end === true) {
      closeTable();
      table = null;
      ended = true;
      return true;
    }
    return structure('an unknown line', '未知的行');
  };

  try {
    for await (const lines of bodyLines(gunzip as AsyncIterable<Buffer>)) {
      throwIfCancelled(context.cancellation);
      for (const line of lines) if (!onLine(line)) return;
      await checks.settle();
    }
  } catch (err) {
    if (!(err instanceof BodyLineError)) throw err;
    return void (err.reason === 'too-long' ? structure(`a line is longer than ${MAX_BODY_LINE} characters`, `某行超过 ${MAX_BODY_LINE} 个字符`) : structure('the last line is cut off', '最后一行不完整'));
  }
  if (!ended) return void structure('the end mark is missing (truncated)', '缺少结束标记（已截断）');
  report(done, true);
  compareTables(manifest, read, findings);
}

// ---------------------------------------------------------------------------------------------
// SQLite layout

function sidecarDigest(path: string): { expected: string | null; missing: boolean } {
  let text: string;
  try {
    text = readFileSync(digestSidecar(path), 'utf8');
  } catch {
    return { expected: null, missing: true };
  }
  return { expected: parseDigestLine(text, path), missing: false };
}

async function checkSqliteRows(db: SqliteDb, manifest: BackupManifest, checks: RowChecks, context: OperationContext): Promise<void> {
  const findings = checks.findings;
  const schema = await describeTables(sqliteReader(db));
  const read = new Map<string, { rows: number; sha256: string }>();
  const total = manifest.tables.reduce((n, t) => n + (t.included ? t.rows : 0), 0);
  const report = phaseReporter(context, 'check rows', total);
  let done = 0;
  for (const table of manifest.tables.filter((t) => t.included)) {
    const columns = schema.get(table.name);
    if (!columns) continue;
    if (JSON.stringify(columns) !== JSON.stringify(table.columns)) {
      findings.push(tableFinding('columns', table.name, 'its columns differ from the manifest', '列与清单不符'));
      continue;
    }
    const keyColumns = KEY_TABLES.includes(table.name) ? ['key_value', 'key_hash'].filter((n) => columns.some((c) => c.name === n)) : [];
    const extra = keyColumns.length === 2 ? ['"id"', '"key_value"', '"key_hash"'] : [];
    const digest = new TableDigest();
    for await (const rows of sqlitePages(db, table.name, [...quotedColumns(columns), ...extra], 2000)) {
      throwIfCancelled(context.cancellation);
      digest.addRows(rows.map((row) => row.slice(0, columns.length).map((v) => (v === null ? null : String(v)))));
      if (extra.length) {
        for (const row of rows) {
          const [id, value, hash] = row.slice(columns.length).map((v) => (v === null ? '' : String(v)));
          checks.onKeyRow(table.name, id, value, hash);
        }
      }
      report((done += rows.length));
      await checks.settle();
    }
    read.set(table.name, { rows: digest.rows, sha256: digest.digest() });
  }
  report(done, true);
  compareTables(manifest, read, findings);
}

// ---------------------------------------------------------------------------------------------

function detectLayout(path: string): BackupLayout | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const got = readSync(fd, head, 0, head.length, 0);
    if (got === head.length && head.equals(SQLITE_MAGIC)) return 'sqlite';
    if (got >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'portable';
  } finally {
    closeSync(fd);
  }
  return layoutOfFile(path);
}

async function compareWithLive(checks: RowChecks, live: LiveDatabase, threads: number | undefined, context: OperationContext): Promise<LiveComparison> {
  const identities = new KeyIdentities();
  // By plaintext: every live key opened with the live key (worker threads on large tables).
  const crypto = checks.basis === 'plaintext' ? await createKeyRunner(live.codec, { rows: checks.identities!.size, threads }) : null;
  try {
    const opened = crypto && new OrderedResults(crypto);
    for await (const rows of iterateKeyRows(live.store, { batchSize: 5000 })) {
      throwIfCancelled(context.cancellation);
      const keys = rows.filter((row) => row.key_value !== '' || row.key_hash !== '');
      if (crypto === null || opened === null) {
        for (const row of keys) identities.add(row.key_hash, row.id);
        continue;
      }
      opened.push(crypto.open({ values: keys.map((r) => r.key_value), hashes: keys.map((r) => r.key_hash) }), ({ states, digests }) => {
        for (let i = 0; i < keys.length; i++) if (stateUnderKey(states[i], live.codec.enabled) !== 'unknown') identities.add(digests[i], keys[i].id);
      });
      await opened.settle();
    }
    await opened?.settle(0);
  } finally {
    await crypto?.close();
  }
  return {
    target: describeTarget(live.store.target),
    basis: checks.basis!,
    backupKeys: checks.identities!.size,
    liveKeys: identities.size,
    ...compareIdentities(checks.identities!, identities),
  };
}

function keyFindings(key: KeyCheck, manifest: BackupManifest): BackupFinding[] {
  if (key.works !== false) return [];
  if (key.checked === 0) {
    return [
      {
        code: 'needs-key',
        severity: 'error',
        text: {
          en: `this backup needs the ENCRYPTION_KEY with fingerprint ${key.needed}; the key given has fingerprint ${key.given}`,
          zh: `此备份需要指纹为 ${key.needed} 的 ENCRYPTION_KEY；所给密钥的指纹为 ${key.given}`,
        },
      },
    ];
  }
  const before = manifest.encryption.apiKeys.unknown + (manifest.encryption.requestLogs?.unknown ?? 0);
  return [
    {
      code: 'undecryptable-rows',
      severity: 'error',
      text: {
        en:
          `${key.failed} of ${key.checked} stored keys do not open with the key given (fingerprint ${key.given}), e.g. ${key.failedIds.join(', ')}` +
          (before > 0 ? `; ${before} were already undecryptable when the backup was taken` : ''),
        zh:
          `${key.checked} 个存储的密钥中有 ${key.failed} 个无法用所给密钥（指纹 ${key.given}）解密，例如 ${key.failedIds.join('、')}` +
          (before > 0 ? `；其中 ${before} 个在备份时就已无法解密` : ''),
      },
    },
  ];
}

/** A backup's manifest when it reads and its seal holds; null otherwise (nothing else is verified). */
export function readBackupManifest(file: string): BackupManifest | null {
  const path = resolve(file);
  try {
    const layout = detectLayout(path);
    if (layout === 'portable') {
      const head = readPortableManifest(path);
      return 'failure' in head ? null : head.manifest;
    }
    if (layout !== 'sqlite') return null;
    const db = openSqliteFile(path, { readonly: true });
    try {
      const decoded = readManifestTable(db);
      return 'failure' in decoded ? null : decoded.manifest;
    } finally {
      db.close();
    }
  } catch (err) {
    if (err instanceof KeystoreError) throw err;
    return null;
  }
}

/** Checks one backup file. Throws only when the file cannot be read at all (KeystoreError 'io'). */
export async function checkBackup(file: string, params: BackupCheckParams = {}, context: OperationContext = {}): Promise<BackupCheckReport> {
  const path = resolve(file);
  let bytes: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    bytes = stat.size;
  } catch (err) {
    throw new KeystoreError('io', { en: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, zh: `无法读取 ${path}（${(err as NodeJS.ErrnoException).code ?? 'error'}）` }, { path });
  }
  const findings: BackupFinding[] = [];
  const report: BackupCheckReport = {
    path,
    verdict: 'corrupt',
    valid: false,
    layout: null,
    info: null,
    manifest: null,
    key: { needed: null, given: params.codec?.fingerprint ?? null, works: null, checked: 0, failed: 0, failedIds: [] },
    ageMs: null,
    live: null,
    findings,
    decryptsWithKey: null,
    plaintext: null,
    seal: null,
  };
  const layout = bytes > 0 ? detectLayout(path) : null;
  report.layout = layout;
  if (layout === null) {
    findings.push(corrupt('not-a-backup', bytes === 0 ? { en: 'the file is empty', zh: '文件为空' } : MANIFEST_FAILURES['not-a-backup']));
    return report;
  }
  const live = params.live && 'store' in params.live ? params.live : null;
  if (params.live && 'unavailable' in params.live && !params.quick) {
    findings.push({ code: 'live-skipped', severity: 'info', text: { en: `not compared with the live database: ${params.live.unavailable.en}`, zh: `未与当前数据库比较：${params.live.unavailable.zh}` } });
  }
  let checks: RowChecks | null = null;
  /** The full pass over the rows: `read` feeds them to the checks, every key is judged before it returns. */
  const checkRows = async (manifest: BackupManifest, read: (checks: RowChecks) => Promise<void>) => {
    const rowChecks = new RowChecks(manifest, params.codec, live, findings);
    try {
      await rowChecks.start(manifest, params.threads);
      await read(rowChecks);
      await rowChecks.finish();
    } finally {
      await rowChecks.close();
    }
    checks = rowChecks;
  };

  if (layout === 'portable') {
    const head = readPortableManifest(path);
    if ('failure' in head) {
      findings.push(corrupt('manifest', MANIFEST_FAILURES[head.failure]));
      return report;
    }
    report.manifest = head.manifest;
    if (params.quick) await checkPortableBody(path, head.manifest, head.bodyOffset, findings, null, context);
    else await checkRows(head.manifest, (rowChecks) => checkPortableBody(path, head.manifest, head.bodyOffset, findings, rowChecks, context));
  } else {
    const digest = sidecarDigest(path);
    if (digest.expected !== null && digest.expected !== (await fileSha256(path))) {
      findings.push(corrupt('file-digest', { en: `the file differs from its digest in ${digestSidecar(path)} (damaged)`, zh: `文件与 ${digestSidecar(path)} 中的摘要不符（已损坏）` }));
    } else if (digest.expected === null) {
      findings.push({
        code: 'digest-missing',
        severity: 'warning',
        text: digest.missing
          ? { en: `${digestSidecar(path)} is missing: damage outside the rows cannot be ruled out`, zh: `缺少 ${digestSidecar(path)}：无法排除数据以外部分的损坏` }
          : { en: `${digestSidecar(path)} is not a sha256sum line for this file`, zh: `${digestSidecar(path)} 不是此文件的 sha256sum 行` },
      });
    }
    let db: SqliteDb | null = null;
    try {
      db = openSqliteFile(path, { readonly: true });
      const decoded = readManifestTable(db);
      if ('failure' in decoded) {
        findings.push(corrupt('manifest', MANIFEST_FAILURES[decoded.failure]));
        return report;
      }
      report.manifest = decoded.manifest;
      const problems = params.quick && !digest.missing ? [] : integrityProblems(db, params.quick);
      if (problems.length > 0) findings.push(corrupt('integrity', { en: `SQLite integrity check failed: ${problems.slice(0, 3).join('; ')}`, zh: `SQLite 完整性检查失败：${problems.slice(0, 3).join('；')}` }));
      else if (!params.quick) await checkRows(decoded.manifest, (rowChecks) => checkSqliteRows(db!, decoded.manifest, rowChecks, context));
    } catch (err) {
      if (!isSqliteFileError(err)) throw err;
      findings.push(corrupt('integrity', { en: `not a sound SQLite file (${(err as { code?: string }).code})`, zh: `不是完好的 SQLite 文件（${(err as { code?: string }).code}）` }));
      return report;
    } finally {
      db?.close();
    }
  }

  const manifest = report.manifest;
  report.info = backupInfo(path, manifest, bytes);
  const seal = checkSeal(manifest, sealKeysAtHand([params.codec], undefined).concat(params.sealKeys ?? []));
  if (seal.state === 'forged') findings.push(corrupt('seal', MANIFEST_FAILURES.seal));
  else if (seal.state === 'unverifiable') findings.push(unverifiableFinding(seal.sealKey));
  report.seal = seal.state === 'verified' ? 'verified' : seal.state === 'unverifiable' ? 'unverifiable' : null;
  report.valid = !findings.some((f) => f.severity === 'error');
  const rowChecks = checks as RowChecks | null;
  report.key = rowChecks?.key ?? quickKeyCheck(manifest, params.codec);
  if (report.valid) findings.push(...keyFindings(report.key, manifest));
  report.decryptsWithKey = report.key.works;
  report.plaintext = plaintextRows(manifest);
  const warning = plaintextWarning(manifest);
  if (warning) findings.push(warning);

  const now = params.now ?? new Date();
  report.ageMs = Math.max(0, now.getTime() - Date.parse(manifest.createdAt));
  const stale = report.ageMs > (params.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  if (stale) {
    findings.push({ code: 'stale', severity: 'warning', text: { en: `taken ${formatAgo(report.ageMs, 'en')}`, zh: `备份于${formatAgo(report.ageMs, 'zh-CN')}` } });
  }

  if (report.valid && live && rowChecks) {
    if (rowChecks.basis === null) {
      findings.push({
        code: 'live-skipped',
        severity: 'info',
        text: {
          en: `not compared with the live database: it uses key ${live.codec.fingerprint}, the backup ${report.key.needed ?? 'an unknown key'}, and the key given does not open the backup`,
          zh: `未与当前数据库比较：数据库使用密钥 ${live.codec.fingerprint}，备份使用 ${report.key.needed ?? '未知密钥'}，且所给密钥无法打开备份`,
        },
      });
    } else {
      report.live = await compareWithLive(rowChecks, live, params.threads, context);
      if (report.live.missing > 0 || report.live.added > 0) {
        findings.push({
          code: 'differs',
          severity: 'warning',
          text: {
            en: `the live database differs: ${formatNumber(report.live.missing, 'en')} key(s) in the backup are gone from it, ${formatNumber(report.live.added, 'en')} were added since`,
            zh: `与当前数据库不同：备份中有 ${formatNumber(report.live.missing, 'zh-CN')} 个密钥已不在数据库中，之后新增了 ${formatNumber(report.live.added, 'zh-CN')} 个`,
          },
        });
      }
    }
  }

  // A key that does not open the backup says more (which key to give) than the seal it cannot check.
  report.verdict = !report.valid
    ? 'corrupt'
    : report.key.works === false
      ? 'needs-key'
      : report.seal === 'unverifiable'
        ? 'unverified'
        : report.live && (report.live.missing > 0 || report.live.added > 0)
          ? 'differs'
          : stale
            ? 'stale'
            : 'ok';
  return report;
}

/** Quick mode: the key judged by fingerprint alone. */
function quickKeyCheck(manifest: BackupManifest, codec: KeyCodec | undefined): KeyCheck {
  const needed = manifest.encryption.keyFingerprint;
  const given = codec?.fingerprint ?? null;
  const works = codec === undefined || needed === null ? null : needed === 'plaintext' || needed === given;
  return { needed, given, works, checked: 0, failed: 0, failedIds: [] };
}

// ---------------------------------------------------------------------------------------------

export interface BackupListEntry {
  path: string;
  bytes: number;
  verdict: BackupVerdict;
  info: BackupInfo | null;
  /** The key the backup needs, and whether the key given (the .env's) is it. */
  key: KeyCheck;
  ageMs: number | null;
  findings: BackupFinding[];
  /** Key rows held in plaintext (null: none). */
  plaintext: PlaintextRows | null;
}

export interface BackupList {
  directory: string;
  /** Newest first; files that are no backup at all show as corrupt. */
  backups: BackupListEntry[];
}

/** Backup files (and interrupted *.partial ones) in a folder, by name; [] when it does not exist. */
export function backupFilesIn(directory: string, withPartial = false): string[] {
  const dir = resolve(directory);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new KeystoreError('io', { en: `cannot read ${dir} (${(err as NodeJS.ErrnoException).code})`, zh: `无法读取 ${dir}（${(err as NodeJS.ErrnoException).code}）` }, { path: dir });
  }
  return names
    .filter((name) => (withPartial && name.endsWith(PARTIAL_EXT)) || (!name.endsWith(PARTIAL_EXT) && layoutOfFile(name) !== null))
    .sort()
    .map((name) => join(dir, name));
}

/** Quick check of every backup in a folder (manifest, every byte, key by fingerprint, age). */
export async function listBackups(directory: string, params: Omit<BackupCheckParams, 'quick' | 'live'> = {}, context: OperationContext = {}): Promise<BackupList> {
  const backups: BackupListEntry[] = [];
  for (const path of backupFilesIn(directory, true)) {
    throwIfCancelled(context.cancellation);
    if (path.endsWith(PARTIAL_EXT)) {
      backups.push({
        path,
        bytes: statSync(path).size,
        verdict: 'corrupt',
        info: null,
        key: { needed: null, given: null, works: null, checked: 0, failed: 0, failedIds: [] },
        ageMs: null,
        plaintext: null,
        findings: [corrupt('partial', { en: 'an interrupted (or still running) backup: delete it once no backup is running, it may hold keys', zh: '中断（或仍在进行）的备份：确认没有备份在运行后删除它，其中可能含有密钥' })],
      });
      continue;
    }
    const report = await checkBackup(path, { ...params, quick: true }, context);
    backups.push({ path, bytes: statSync(path).size, verdict: report.verdict, info: report.info, key: report.key, ageMs: report.ageMs, findings: report.findings, plaintext: report.plaintext });
  }
  backups.sort((a, b) => (b.info?.createdAt ?? '').localeCompare(a.info?.createdAt ?? '') || a.path.localeCompare(b.path));
  return { directory: resolve(directory), backups };
}
