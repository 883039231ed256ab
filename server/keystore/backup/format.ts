/**
 * The backup file formats (docs/backup-format.md): the manifest every backup carries, its seal, the
 * canonical row encoding its checksums are taken over, and the portable container (gzip'd JSON Lines
 * whose first gzip member is the manifest). No database: bytes, text and file names.
 */
import { keysAndLogs } from '../../core/counts';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { crc32 } from 'node:zlib';
import type { KeyCodec } from '../../core/crypto';
import type { Localized } from '../../core/errors';
import { stateUnderKey } from '../migrate/crypto';

export const BACKUP_FORMAT = 'gpt-load-keystore-backup';
/** 2: keyed seal (backupSeal.ts). 1: unkeyed seal, still read — its seal cannot be verified. */
export const BACKUP_FORMAT_VERSION = 2;
/** The one table of ours inside a SQLite backup file (never copied into a live database). */
export const MANIFEST_TABLE = 'gpt_load_keystore_backup';
const BACKUPS_DIR = 'backups';
const SQLITE_EXT = '.db';
const PORTABLE_EXT = '.jsonl.gz';
/** Sidecar of a SQLite backup: `sha256sum` format over the whole .db file. */
export const DIGEST_EXT = '.sha256';
/** Suffix of a file still being written; renamed into place only once complete. */
export const PARTIAL_EXT = '.partial';

/**
 * GPT-Load's tables (shared/design/ddl) in insert order: a table comes after the tables its rows
 * reference (api_keys → groups), so deletes run in the reverse order.
 */
export const BACKUP_TABLES = ['system_settings', 'groups', 'group_sub_groups', 'api_keys', 'request_logs', 'group_hourly_stats'] as const;
export type BackupTable = (typeof BACKUP_TABLES)[number];
/** Tables whose key_value / key_hash hold GPT-Load-encrypted API keys. */
export const KEY_TABLES: readonly BackupTable[] = ['api_keys', 'request_logs'];

export type BackupLayout = 'sqlite' | 'portable';
export type BackupEngine = 'sqlite' | 'mysql' | 'postgres';

export interface ColumnInfo {
  name: string;
  /** The engine's type name (SQLite declared type, MySQL COLUMN_TYPE, PostgreSQL udt_name). */
  type: string;
}

export interface TableManifest {
  name: BackupTable;
  /** false: the source database has no such table (an older GPT-Load); restore leaves it alone. */
  present: boolean;
  /** false: present but left out on purpose (request_logs without --logs); restore leaves it alone. */
  included: boolean;
  columns: ColumnInfo[];
  rows: number;
  /** SHA-256 over the table's canonical row lines in primary-key order ('' when not included). */
  sha256: string;
}

/** Per-row encryption state of a key table, judged by each row's own key_hash (migrateCrypto stateUnderKey). */
export interface KeyStateCounts {
  total: number;
  plaintext: number;
  /** Encrypted with the key of `BackupEncryption.configuredFingerprint`. */
  encrypted: number;
  /** Neither plaintext nor opened by that key. */
  unknown: number;
  /** No key at all (request logs of requests that never got one). */
  empty: number;
}

interface BackupEncryption {
  /**
   * Fingerprint of the ENCRYPTION_KEY the rows are encrypted with: "plaintext" when every key row is
   * plaintext (or there are none), null when the key configured at backup time opened none of them.
   */
  keyFingerprint: string | null;
  /** Fingerprint of ENCRYPTION_KEY in the `.env` when the backup was taken ("plaintext" = disabled). */
  configuredFingerprint: string;
  apiKeys: KeyStateCounts;
  /** null when request_logs is not in the backup. */
  requestLogs: KeyStateCounts | null;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  layout: BackupLayout;
  engine: BackupEngine;
  /** The source database, password removed (store/dsn describeTarget). */
  source: string;
  /** ISO 8601 UTC, the moment of the snapshot. */
  createdAt: string;
  tool: { name: string; version: string };
  /** How the snapshot was made consistent. */
  snapshot: 'sqlite-backup-api' | 'mysql-consistent-snapshot' | 'postgres-repeatable-read';
  tables: TableManifest[];
  encryption: BackupEncryption;
  /** Portable layout: the bytes after the manifest member (the gzip'd rows). */
  body?: { bytes: number; sha256: string };
  /** Format 2: id of the key the seal is under (backupSeal.ts), not secret. */
  sealKey?: string;
  /**
   * Format 2: HMAC-SHA256 of the canonical JSON of every other field under the seal key (backupSeal.ts).
   * Format 1: plain SHA-256 of it — detects damage, but anyone can recompute it.
   */
  seal: string;
}

export type UnsealedManifest = Omit<BackupManifest, 'seal'>;

// ---------------------------------------------------------------------------------------------
// Canonical encodings

/** JSON with object keys sorted at every level: one text per value, whatever order it was built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Format 1 only: whether the manifest is as its unkeyed seal says (damage, not forgery, is ruled out). */
export function unkeyedSealOk(manifest: BackupManifest): boolean {
  const { seal, ...rest } = manifest;
  return typeof seal === 'string' && seal === sha256(canonicalJson(rest));
}

/**
 * One row as its checksum sees it: a JSON array of the column values in column order, each a string
 * or null (portable layout: the database's own text of the value; SQLite: SQLite's quote() of it, so
 * the storage class counts too), one line per row.
 */
export function canonicalRow(values: readonly (string | null)[]): string {
  return JSON.stringify(values) + '\n';
}

/** Row count and SHA-256 of a table's canonical rows, fed row by row. */
export class TableDigest {
  private readonly hash = createHash('sha256');
  rows = 0;
  add(values: readonly (string | null)[]): void {
    this.hash.update(canonicalRow(values));
    this.rows++;
  }
  /** Adds a page of rows; returns their canonical lines, which are also the portable layout's body lines. */
  addRows(rows: readonly (readonly (string | null)[])[]): string {
    const text = rows.map(canonicalRow).join('');
    this.hash.update(text);
    this.rows += rows.length;
    return text;
  }
  /** Adds a row already in canonical form (a portable body line without its newline). */
  addLine(line: string): void {
    this.hash.update(line);
    this.hash.update('\n');
    this.rows++;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

// ---------------------------------------------------------------------------------------------
// Encryption state of key rows

export function emptyKeyCounts(): KeyStateCounts {
  return { total: 0, plaintext: 0, encrypted: 0, unknown: 0, empty: 0 };
}

/** Counts a batch of rows by their codes from a key runner (cryptoPool createKeyRunner) under the configured key. */
export function tallyKeyStates(counts: KeyStateCounts, codes: Uint8Array, keyEnabled: boolean): void {
  for (const code of codes) {
    counts.total++;
    counts[stateUnderKey(code, keyEnabled)]++;
  }
}

/** Which key a set of rows needs, from their counts under the key configured at backup time. */
export function neededFingerprint(counts: KeyStateCounts[], codec: KeyCodec): string | null {
  const encrypted = counts.reduce((n, c) => n + c.encrypted, 0);
  const unknown = counts.reduce((n, c) => n + c.unknown, 0);
  if (encrypted > 0) return codec.fingerprint;
  return unknown > 0 ? null : 'plaintext';
}

// ---------------------------------------------------------------------------------------------
// Portable container: member 1 = the manifest line in one stored (uncompressed) deflate block, so its
// length is in its first bytes and every byte of it is checked; then the body, one ordinary gzip
// stream of JSON Lines. `zcat FILE` prints the manifest line, then the body.

/** gzip header as we write it: magic, deflate, no flags, mtime 0, no extra flags, OS unknown. */
const MEMBER_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
const STORED_FINAL_BLOCK = 0x01;
const MAX_STORED = 0xffff;
/** Bytes of member 1 around the manifest line: header, block header (5), CRC32 and ISIZE (8). */
export const MANIFEST_MEMBER_OVERHEAD = MEMBER_HEADER.length + 5 + 8;
/** What we read first to find the manifest (its block header ends here). */
export const MANIFEST_PREFIX_BYTES = MEMBER_HEADER.length + 5;

export function encodeManifestMember(manifest: BackupManifest): Buffer {
  const line = Buffer.from(JSON.stringify(manifest) + '\n', 'utf8');
  if (line.length > MAX_STORED) throw new RangeError(`manifest too large (${line.length} bytes)`);
  const block = Buffer.alloc(5);
  block[0] = STORED_FINAL_BLOCK;
  block.writeUInt16LE(line.length, 1);
  block.writeUInt16LE(~line.length & 0xffff, 3);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(line) >>> 0, 0);
  trailer.writeUInt32LE(line.length, 4);
  return Buffer.concat([MEMBER_HEADER, block, line, trailer]);
}

/** Length of the manifest line, from the first MANIFEST_PREFIX_BYTES; null when they are not ours. */
export function manifestLineLength(prefix: Buffer): number | null {
  if (prefix.length < MANIFEST_PREFIX_BYTES || !prefix.subarray(0, MEMBER_HEADER.length).equals(MEMBER_HEADER)) return null;
  const at = MEMBER_HEADER.length;
  if (prefix[at] !== STORED_FINAL_BLOCK) return null;
  const length = prefix.readUInt16LE(at + 1);
  return (~prefix.readUInt16LE(at + 3) & 0xffff) === length ? length : null;
}

/** Longest body line read (characters): a longer one is damage or an attack, never held whole in memory. */
export const MAX_BODY_LINE = 32 * 1024 * 1024;

/** Why a body's lines cannot be read: a line over MAX_BODY_LINE, or a last line without its newline. */
export class BodyLineError extends Error {
  constructor(readonly reason: 'too-long' | 'cut-off') {
    super(reason);
  }
}

/**
 * The lines of a decompressed body, a batch per chunk (empty batches included, so callers can check
 * cancellation), in time and memory linear in the input: a line is joined once, when its newline
 * arrives, and one over `maxLine` characters stops the read (BodyLineError) as soon as it is seen.
 */
export async function* bodyLines(stream: AsyncIterable<Buffer | string>, maxLine = MAX_BODY_LINE): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let pieces: string[] = [];
  let pending = 0;
  const split = (text: string): string[] => {
    const lines: string[] = [];
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      const part = text.slice(start, newline);
      if (pending + part.length > maxLine) throw new BodyLineError('too-long');
      lines.push(pieces.length > 0 ? pieces.join('') + part : part);
      pieces = [];
      pending = 0;
      start = newline + 1;
    }
    const rest = text.slice(start);
    if (rest !== '') {
      pending += rest.length;
      if (pending > maxLine) throw new BodyLineError('too-long');
      pieces.push(rest);
    }
    return lines;
  };
  for await (const chunk of stream) yield split(typeof chunk === 'string' ? chunk : decoder.write(chunk));
  const tail = split(decoder.end());
  if (pending > 0) throw new BodyLineError('cut-off');
  if (tail.length > 0) yield tail;
}

/** Body lines: a section starts with {"table": NAME}; rows are JSON arrays; {"end": true} closes the body. */
export function sectionLine(table: BackupTable): string {
  return JSON.stringify({ table }) + '\n';
}
export const END_LINE = JSON.stringify({ end: true }) + '\n';

// ---------------------------------------------------------------------------------------------
// Files

/** `20250102T030405Z`: UTC, sortable, no characters a file system refuses. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function backupFileName(engine: BackupEngine, date: Date, attempt = 0): string {
  const ext = engine === 'sqlite' ? SQLITE_EXT : PORTABLE_EXT;
  return `gpt-load-${engine}-${fileTimestamp(date)}${attempt > 0 ? `-${attempt}` : ''}${ext}`;
}

export function defaultBackupDir(envDir: string): string {
  return join(envDir, BACKUPS_DIR);
}

export function layoutOfFile(path: string): BackupLayout | null {
  if (path.endsWith(PORTABLE_EXT)) return 'portable';
  if (path.endsWith(SQLITE_EXT)) return 'sqlite';
  return null;
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function digestSidecar(path: string): string {
  return path + DIGEST_EXT;
}

/** `sha256sum` line for a file. */
export function digestLine(hex: string, path: string): string {
  return `${hex}  ${basename(path)}\n`;
}

/** The hex digest of a `sha256sum` line naming `path`; null when the text is not one. */
export function parseDigestLine(text: string, path: string): string | null {
  const m = /^([0-9a-f]{64}) [ *](.+)\n?$/.exec(text);
  return m && m[2] === basename(path) ? m[1] : null;
}

// ---------------------------------------------------------------------------------------------
// What the fronts show

/** A backup as lists show it (shared/types.ts BackupInfo, plus the layout and row states). */
export interface BackupInfo {
  path: string;
  createdAt: string;
  engine: BackupEngine;
  layout: BackupLayout;
  source: string;
  /** The key the backup needs ("plaintext": none; "unknown": no key known at backup time opened it). */
  keyFingerprint: string;
  /** Rows per included table. */
  rows: Record<string, number>;
  bytes: number;
  toolVersion: string;
}

export function backupInfo(path: string, manifest: BackupManifest, bytes: number): BackupInfo {
  return {
    path,
    createdAt: manifest.createdAt,
    engine: manifest.engine,
    layout: manifest.layout,
    source: manifest.source,
    keyFingerprint: manifest.encryption.keyFingerprint ?? 'unknown',
    rows: Object.fromEntries(manifest.tables.filter((t) => t.included).map((t) => [t.name, t.rows])),
    bytes,
    toolVersion: manifest.tool.version,
  };
}

/** One thing a backup operation found; `code` is stable, `text` is what a person reads. */
export interface BackupFinding {
  code: string;
  severity: 'error' | 'warning' | 'info';
  text: Localized;
}

/** Key rows a backup holds in plaintext, per table; null when it holds none. */
export interface PlaintextRows {
  apiKeys: number;
  requestLogs: number;
}

export function plaintextRows(manifest: BackupManifest): PlaintextRows | null {
  const rows = { apiKeys: manifest.encryption.apiKeys.plaintext, requestLogs: manifest.encryption.requestLogs?.plaintext ?? 0 };
  return rows.apiKeys + rows.requestLogs > 0 ? rows : null;
}

/** A warning when a backup holds keys in plaintext (encryption disabled, or rows never migrated). */
export function plaintextWarning(manifest: BackupManifest): BackupFinding | null {
  const rows = plaintextRows(manifest);
  if (rows === null) return null;
  const counts = keysAndLogs(rows.apiKeys, rows.requestLogs);
  return {
    code: 'plaintext-keys',
    severity: 'warning',
    text: {
      en: `this backup holds ${counts.en} in PLAINTEXT (encryption was disabled or they were never migrated): whoever reads the file has the keys. Keep it offline, or once a backup under the current key is checked, delete it: gpt-load-keystore backup prune --plaintext`,
      zh: `此备份以明文保存了 ${counts.zh}（当时未启用加密或尚未迁移）：任何能读取该文件的人都能拿到这些密钥。请离线保存；或在当前密钥下的备份校验通过后删除它：gpt-load-keystore backup prune --plaintext`,
    },
  };
}
