/**
 * `backup create`: a consistent copy of GPT-Load's tables with a sealed manifest (docs/backup-format.md).
 * SQLite goes through the online backup API into a plain .db file; MySQL and PostgreSQL are read from one
 * snapshot transaction and streamed, batch by batch, into the portable gzip'd JSON Lines file, so a
 * million keys never sit in memory. A file appears under its final name only once complete; nothing of a
 * failed or cancelled run is left behind.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, createReadStream, createWriteStream, fsyncSync, linkSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { TOOL } from '../../core/tool';
import { codecFor, type KeyCodec } from '../../core/crypto';
import { KeystoreError, throwIfCancelled } from '../../core/errors';
import type { Store } from '../../store/connect';
import { describeTarget } from '../../store/dsn';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, BACKUP_TABLES, backupFileName, backupInfo, defaultBackupDir, digestLine, fileSha256, digestSidecar, emptyKeyCounts, encodeManifestMember, END_LINE, KEY_TABLES, neededFingerprint, PARTIAL_EXT, plaintextWarning, sectionLine, TableDigest, tallyKeyStates, type BackupFinding, type BackupInfo, type BackupManifest, type BackupTable, type ColumnInfo, type KeyStateCounts, type TableManifest, type UnsealedManifest } from './format';
import { checkBackup, type BackupCheckReport } from './check';
import { createKeyRunner, OrderedResults } from '../cryptoPool';
import { copyLiveDatabase, openSqliteFile, quotedColumns, sqlitePages, sqliteReader, writeManifestTable } from './sqlite';
import { describeTables, openSnapshot, readTableText } from './tables';
import { phaseReporter, type OperationContext } from '../operation';
import { deploymentSealKey, sealKeysAtHand, sealManifestWith, type SealKey } from './seal';
import { removeOrphanedFiles } from '../orphans';
import { countRows } from '../../store/rows';

const READ_BATCH = 1000;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export interface BackupCreateParams {
  /** ENCRYPTION_KEY of the deployment ('' = disabled): classifies the rows and names the key the backup needs. */
  encryptionKey: string;
  /** Where GPT-Load runs (the `.env`'s folder): default backups go to `<envDir>/backups`. */
  envDir: string;
  /** The file to write (must not exist yet). */
  out?: string;
  /** Folder for a generated name (default `<envDir>/backups`); ignored with `out`. */
  dir?: string;
  /** Include request_logs (default true; it can hold millions of rows). */
  includeLogs?: boolean;
  /** SQLite busy timeout while copying (default 5000 ms). */
  busyTimeoutMs?: number;
  /** The codec of `encryptionKey`, when the caller derived it already. */
  codec?: KeyCodec;
  /** AUTH_KEY of the deployment: seals the backup when encryption is disabled (backupSeal.ts). */
  authKey?: string;
  /** Crypto worker threads for large tables (default: one per CPU; 0 = the main thread only). */
  threads?: number;
}

export interface BackupCreateResult {
  file: string;
  manifest: BackupManifest;
  info: BackupInfo;
  /** E.g. plaintext keys in the backup; never secrets. */
  warnings: BackupFinding[];
}

function ioError(what: string, path: string, err: unknown): KeystoreError {
  const reason = (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
  return new KeystoreError('io', { en: `cannot ${what} ${path} (${reason})`, zh: `无法${what === 'write' ? '写入' : '创建'} ${path}（${reason}）` }, { path });
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Partials carry their writer's pid, so a later run can tell an abandoned one from one in progress. */
const PARTIAL_OWNER = new RegExp(`\\.(\\d+)${PARTIAL_EXT.replace('.', '\\.')}$`);

/** Where a backup may go, and the partial it is written to. */
interface ReservedFile {
  /** The names to publish under, first choice first: the --out path alone, or the generated name and its -N twins. */
  candidates: string[];
  partial: string;
  abandonedRemoved: number;
}

const NAME_ATTEMPTS = 100;

/**
 * The candidates and the partial, created here exclusively, mode 0600. The partial reserves a name only
 * within this process (it carries the pid); another process may pick the same name in the same second,
 * so publish() takes the first candidate still free when the file is complete.
 */
function reserveFile(params: BackupCreateParams, engine: Store['kind'], now: Date): ReservedFile {
  const candidates = params.out !== undefined ? [resolve(params.out)] : Array.from({ length: NAME_ATTEMPTS }, (_, i) => resolve(params.dir ?? defaultBackupDir(params.envDir), backupFileName(engine, now, i)));
  const folder = dirname(candidates[0]);
  try {
    mkdirSync(folder, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw ioError('create', folder, err);
  }
  // A backup killed mid-write (kill -9, power loss) leaves a copy of the keys nobody will finish.
  const abandonedRemoved = removeOrphanedFiles(folder, PARTIAL_OWNER);
  for (const [i, final] of candidates.entries()) {
    if (exists(final)) continue;
    const partial = `${final}.${process.pid}${PARTIAL_EXT}`;
    try {
      closeSync(openSync(partial, 'wx', FILE_MODE));
      return { candidates: candidates.slice(i), partial, abandonedRemoved };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create', partial, err);
    }
  }
  throw nameTaken(candidates[0]);
}

function nameTaken(path: string): KeystoreError {
  return new KeystoreError('io', { en: `${path} already exists (or is being written): choose another --out`, zh: `${path} 已存在（或正在写入）：请换一个 --out` }, { path });
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

const isTaken = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EEXIST';

/** Link, or (file systems without hard links: FAT, some network shares) rename after an existence check; false when `final` is taken. */
function moveInto(partial: string, final: string): boolean {
  try {
    linkSync(partial, final);
    return true;
  } catch (err) {
    if (isTaken(err)) return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  if (exists(final)) return false;
  renameSync(partial, final);
  return true;
}

/**
 * Moves a complete file into place under the first free candidate, never replacing a file: link, then drop
 * the partial. `claim` runs first for each candidate (the SQLite digest sidecar, created exclusively) and
 * returns its undo; EEXIST from either means another backup took the name meanwhile, so the next one is
 * tried.
 */
function publish(partial: string, candidates: string[], claim: (final: string) => () => void = () => () => undefined): string {
  try {
    for (const final of candidates) {
      let undo: () => void;
      try {
        undo = claim(final);
      } catch (err) {
        if (isTaken(err)) continue;
        throw err;
      }
      try {
        if (moveInto(partial, final)) return final;
      } catch (err) {
        undo();
        throw ioError('write', final, err);
      }
      undo();
    }
    throw nameTaken(candidates[0]);
  } finally {
    removeQuietly(partial);
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface TablesRead {
  tables: TableManifest[];
  apiKeys: KeyStateCounts;
  requestLogs: KeyStateCounts | null;
}

/** Table entries for GPT-Load's tables that are absent or left out. */
function skippedTable(name: BackupTable, columns: ColumnInfo[] | undefined): TableManifest {
  return { name, present: columns !== undefined, included: false, columns: columns ?? [], rows: 0, sha256: '' };
}

/**
 * Walks every included table once, in BACKUP_TABLES order. `readRows` yields pages of rows: the canonical
 * values of the columns, then (key tables only) the raw key_value and key_hash; the digest is taken as they
 * pass, the key states by the crypto runner (worker threads on large tables), and `onRows` gets the
 * canonical part as lines.
 */
async function digestTables(
  schema: Map<BackupTable, ColumnInfo[]>,
  includeLogs: boolean,
  codec: KeyCodec,
  threads: number | undefined,
  context: OperationContext,
  count: (table: BackupTable) => Promise<number>,
  readRows: (table: BackupTable, columns: ColumnInfo[]) => AsyncIterable<(string | null)[][]>,
  onTable?: (table: BackupTable) => Promise<void>,
  onRows?: (lines: string) => Promise<void>,
): Promise<TablesRead> {
  const read: TablesRead = { tables: [], apiKeys: emptyKeyCounts(), requestLogs: null };
  const included = BACKUP_TABLES.filter((name) => schema.has(name) && (name !== 'request_logs' || includeLogs));
  // Counted up front: the key rows of the whole backup decide between worker threads and the main thread.
  const totals = new Map<BackupTable, number>();
  for (const name of included) totals.set(name, await count(name));
  const keyRows = KEY_TABLES.reduce((n, name) => n + (totals.get(name) ?? 0), 0);
  const crypto = await createKeyRunner(codec, { rows: keyRows, threads });
  try {
    for (const name of BACKUP_TABLES) {
      const columns = schema.get(name);
      if (columns === undefined || !included.includes(name)) {
        read.tables.push(skippedTable(name, columns));
        continue;
      }
      const counts = name === 'api_keys' ? read.apiKeys : name === 'request_logs' ? (read.requestLogs = emptyKeyCounts()) : null;
      if (counts && keyColumnsOf(name, columns).some((i) => i < 0)) {
        throw new KeystoreError('not-gpt-load-database', { en: `${name} has no key_value/key_hash columns`, zh: `${name} 缺少 key_value/key_hash 列` });
      }
      const digest = new TableDigest();
      const report = phaseReporter(context, `back up ${name}`, totals.get(name)!);
      const keyStates = new OrderedResults(crypto);
      await onTable?.(name);
      for await (const rows of readRows(name, columns)) {
        throwIfCancelled(context.cancellation);
        if (counts) {
          const keys = { values: rows.map((r) => r[columns.length] ?? ''), hashes: rows.map((r) => r[columns.length + 1] ?? '') };
          keyStates.push(crypto.classify(keys), (codes) => tallyKeyStates(counts, codes, codec.enabled));
        }
        const lines = digest.addRows(counts ? rows.map((r) => r.slice(0, columns.length)) : rows);
        await onRows?.(lines);
        report(digest.rows);
        await keyStates.settle();
      }
      await keyStates.settle(0);
      report(digest.rows, true);
      read.tables.push({ name, present: true, included: true, columns, rows: digest.rows, sha256: digest.digest() });
    }
  } finally {
    await crypto.close();
  }
  return read;
}

function manifestOf(
  layout: UnsealedManifest['layout'],
  store: Store,
  createdAt: Date,
  read: TablesRead,
  codec: KeyCodec,
  seal: SealKey,
  body?: UnsealedManifest['body'],
): BackupManifest {
  return sealManifestWith({
    format: BACKUP_FORMAT,
    version: BACKUP_FORMAT_VERSION,
    layout,
    engine: store.kind,
    source: describeTarget(store.target),
    createdAt: createdAt.toISOString(),
    tool: TOOL,
    snapshot: store.kind === 'sqlite' ? 'sqlite-backup-api' : store.kind === 'mysql' ? 'mysql-consistent-snapshot' : 'postgres-repeatable-read',
    tables: read.tables,
    encryption: {
      keyFingerprint: neededFingerprint(read.requestLogs ? [read.apiKeys, read.requestLogs] : [read.apiKeys], codec),
      configuredFingerprint: codec.fingerprint,
      apiKeys: read.apiKeys,
      requestLogs: read.requestLogs,
    },
    ...(body ? { body } : {}),
  }, seal);
}

/** The rows of a key table carry key_value and key_hash after the canonical columns. */
function keyColumnsOf(name: BackupTable, columns: ColumnInfo[]): number[] {
  if (!KEY_TABLES.includes(name)) return [];
  return [columns.findIndex((c) => c.name === 'key_value'), columns.findIndex((c) => c.name === 'key_hash')];
}

// ---------------------------------------------------------------------------------------------

/** What a writer returns: the name the backup was published under, and its manifest. */
interface Written {
  final: string;
  manifest: BackupManifest;
}

async function createSqliteBackup(store: Store, params: BackupCreateParams, codec: KeyCodec, seal: SealKey, file: ReservedFile, context: OperationContext): Promise<Written> {
  if (store.target.kind !== 'sqlite') throw new RangeError('not a SQLite store');
  let copying: ReturnType<typeof phaseReporter> | null = null;
  await copyLiveDatabase(store.target.path, file.partial, params.busyTimeoutMs ?? 5000, (done, total) => {
    throwIfCancelled(context.cancellation);
    copying ??= phaseReporter(context, 'copy database pages', total);
    copying(done);
  });
  const createdAt = new Date();
  const includeLogs = params.includeLogs ?? true;
  const db = openSqliteFile(file.partial, { readonly: false });
  let manifest: BackupManifest;
  try {
    // The copy keeps the live file's journal mode; WAL would make every later read create -wal/-shm files.
    db.pragma('journal_mode = DELETE');
    const reader = sqliteReader(db);
    const schema = await describeTables(reader);
    if (!includeLogs && schema.has('request_logs')) db.exec('DELETE FROM request_logs');
    const read = await digestTables(
      schema,
      includeLogs,
      codec,
      params.threads,
      context,
      (table) => countRows(reader, table),
      (table, columns) => {
        const keys = keyColumnsOf(table, columns).map((i) => `"${columns[i].name}"`);
        return mapPages(sqlitePages(db, table, [...quotedColumns(columns), ...keys], READ_BATCH), (v) => (v === null ? null : String(v)));
      },
    );
    manifest = manifestOf('sqlite', store, createdAt, read, codec, seal);
    writeManifestTable(db, manifest);
    if (!includeLogs) db.exec('VACUUM');
  } finally {
    db.close();
  }
  const sha256 = await fileSha256(file.partial);
  fsyncFile(file.partial);
  // The sidecar is in place before the file, so a backup is never seen without its digest.
  const final = publish(file.partial, file.candidates, (name) => {
    const sidecar = digestSidecar(name);
    try {
      writeFileSync(sidecar, digestLine(sha256, name), { mode: FILE_MODE, flag: 'wx' });
    } catch (err) {
      throw isTaken(err) ? err : ioError('write', sidecar, err);
    }
    return () => removeQuietly(sidecar);
  });
  return { final, manifest };
}

async function* mapPages(pages: AsyncIterable<unknown[][]>, map: (value: unknown) => string | null): AsyncGenerator<(string | null)[][]> {
  for await (const rows of pages) yield rows.map((row) => row.map(map));
}

/** The gzip'd body stream with its compressed bytes hashed on the way to disk. */
class BodyWriter {
  // Large chunks and buffer: compression runs in libuv's pool while this thread reads and classifies.
  private readonly gzip = createGzip({ level: 6, chunkSize: 1 << 18, highWaterMark: 1 << 22 } as ZlibOptions);
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly done: Promise<void>;

  constructor(path: string) {
    const tap = new PassThrough();
    tap.on('data', (chunk: Buffer) => {
      this.hash.update(chunk);
      this.bytes += chunk.length;
    });
    this.done = pipeline(this.gzip, tap, createWriteStream(path, { flags: 'w', mode: FILE_MODE }));
    this.done.catch(() => undefined);
  }

  async write(text: string): Promise<void> {
    // A failed file write destroys the gzip stream (pipeline), so 'error' ends the wait too.
    if (!this.gzip.write(text)) await once(this.gzip, 'drain');
  }

  async finish(): Promise<{ bytes: number; sha256: string }> {
    this.gzip.end();
    await this.done;
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  abort(): void {
    this.gzip.destroy();
  }
}

async function createPortableBackup(store: Store, params: BackupCreateParams, codec: KeyCodec, seal: SealKey, file: ReservedFile, context: OperationContext): Promise<Written> {
  const bodyPath = `${file.candidates[0]}.body.${process.pid}${PARTIAL_EXT}`;
  const body = new BodyWriter(bodyPath);
  let manifest: BackupManifest;
  try {
    const snapshot = await openSnapshot(store);
    const createdAt = new Date();
    let read: TablesRead;
    try {
      const schema = await describeTables(snapshot);
      read = await digestTables(
        schema,
        params.includeLogs ?? true,
        codec,
        params.threads,
        context,
        (table) => countRows(snapshot, table),
        (table, columns) => withKeyColumns(readTableText(snapshot, table, columns, READ_BATCH), keyColumnsOf(table, columns)),
        (table) => body.write(sectionLine(table)),
        (lines) => body.write(lines),
      );
    } finally {
      await snapshot.close();
    }
    await body.write(END_LINE);
    manifest = manifestOf('portable', store, createdAt, read, codec, seal, await body.finish());
    const fd = openSync(file.partial, 'w', FILE_MODE);
    try {
      writeSync(fd, encodeManifestMember(manifest));
      for await (const chunk of createReadStream(bodyPath)) writeSync(fd, chunk as Buffer);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    body.abort();
    throw err;
  } finally {
    removeQuietly(bodyPath);
  }
  return { final: publish(file.partial, file.candidates), manifest };
}

async function* withKeyColumns(pages: AsyncIterable<(string | null)[][]>, keys: number[]): AsyncGenerator<(string | null)[][]> {
  for await (const rows of pages) yield keys.length === 0 ? rows : rows.map((r) => [...r, ...keys.map((i) => r[i])]);
}

/** Takes a backup of the store's GPT-Load tables. Throws KeystoreError('io') when the file cannot be written. */
export async function createBackup(store: Store, params: BackupCreateParams, context: OperationContext = {}): Promise<BackupCreateResult> {
  const codec = params.codec ?? codecFor(params.encryptionKey);
  // Before any file exists: a deployment with neither key cannot seal, so gets no backup.
  const seal = deploymentSealKey(codec, params.authKey ?? '');
  const file = reserveFile(params, store.kind, new Date());
  let written: Written;
  try {
    written = store.kind === 'sqlite' ? await createSqliteBackup(store, params, codec, seal, file, context) : await createPortableBackup(store, params, codec, seal, file, context);
  } catch (err) {
    removeQuietly(file.partial);
    throw err;
  }
  const { final, manifest } = written;
  const warnings = [plaintextWarning(manifest)].filter((w): w is BackupFinding => w !== null);
  if (file.abandonedRemoved > 0) {
    warnings.push({
      code: 'abandoned-partials-removed',
      severity: 'info',
      text: {
        en: `removed ${file.abandonedRemoved} unfinished backup file(s) left by an interrupted run`,
        zh: `已删除 ${file.abandonedRemoved} 个中断运行遗留的未完成备份文件`,
      },
    });
  }
  return { file: final, manifest, info: backupInfo(final, manifest, statSync(final).size), warnings };
}

export interface VerifiedBackup extends BackupCreateResult {
  check: BackupCheckReport;
}

/**
 * A backup taken and then read back in full (checksums, SQLite integrity, every key against the
 * deployment's key) before anything is written: what migrate-keys calls unless --no-backup. A backup that
 * does not read back is removed and reported as KeystoreError('backup-invalid').
 */
export async function createVerifiedBackup(store: Store, params: BackupCreateParams, context: OperationContext = {}): Promise<VerifiedBackup> {
  const codec = params.codec ?? codecFor(params.encryptionKey);
  const created = await createBackup(store, { ...params, codec }, context);
  const check = await checkBackup(created.file, { codec, sealKeys: sealKeysAtHand([codec], params.authKey), threads: params.threads }, context);
  if (!check.valid) {
    removeQuietly(created.file);
    removeQuietly(digestSidecar(created.file));
    throw new KeystoreError(
      'backup-invalid',
      {
        en: `the backup just written does not read back (${check.findings.map((f) => f.text.en).join('; ')}); it was removed. Check the disk and try again.`,
        zh: `刚写入的备份无法正确读回（${check.findings.map((f) => f.text.zh).join('；')}），已删除。请检查磁盘后重试。`,
      },
      { file: created.file },
    );
  }
  return { ...created, check };
}
