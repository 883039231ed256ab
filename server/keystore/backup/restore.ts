/**
 * `backup restore`: puts a checked backup back into GPT-Load's database in ONE transaction (every
 * table's rows deleted, then the backup's inserted), so a crash or a kill at any point leaves the old
 * data in place: SQLite rolls the transaction back from its journal when the file is next opened,
 * MySQL and PostgreSQL when the session drops. SQLite is restored into the live file itself (same inode,
 * owner and mode; GPT-Load's Docker bind mount keeps working), not swapped for a copy.
 *
 * Refuses while GPT-Load runs (as migrate-keys does), when the backup is damaged, and when the backup's
 * keys are under a key other than the .env's, unless that key is given: then every key is re-encrypted
 * to the .env's key inside the same transaction, so GPT-Load can read the result at once.
 */
import { createReadStream } from 'node:fs';
import { setImmediate as nextTick } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { codecFor, sha256Hex, type KeyCodec } from '../../core/crypto';
import { KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import { openStore } from '../../store/connect';
import { countRows } from '../../store/rows';
import { clearStaleCache, type CacheClearResult } from '../cache';
import { createVerifiedBackup } from './create';
import { checkBackup, readPortableManifest, type BackupCheckReport } from './check';
import { BACKUP_TABLES, BodyLineError, bodyLines, KEY_TABLES, TableDigest, type BackupInfo, type BackupManifest, type BackupTable, type ColumnInfo, type TableManifest } from './format';
import { openSqliteFile } from './sqlite';
import { deploymentSealKeys } from './seal';
import { previewOutsideKeys, type OutsideKeyChanges } from './restorePreview';
import { describeTables, insertRows, pinTransaction, resetSequence } from './tables';
import type { Deployment } from '../deployment';
import { phaseReporter, type OperationContext } from '../operation';
import { checkService, describeService, serviceRunningError, type ServiceCheck } from '../service';
import type { KeysSinceBackup } from '../../../shared/types';

export interface BackupRestoreParams {
  deployment: Deployment;
  file: string;
  /**
   * The ENCRYPTION_KEY the backup's keys are under, when it is not the .env's: they are re-encrypted to
   * the .env's key. Comes from an environment variable, a file or stdin, never from argv unwarned.
   */
  backupKey?: string;
  /** Go on although GPT-Load answers /health or other sessions are connected. */
  force?: boolean;
  /** Run every check and report what would be restored; write nothing. */
  dryRun?: boolean;
  /** Take a verified backup of the current state first (default true). */
  safetyBackup?: boolean;
  /** Delete GPT-Load's stale Redis entries after the restore when REDIS_DSN is set (default true). */
  clearCache?: boolean;
  redisHost?: string;
  /** Connection timeout, ms (default 5000). */
  timeoutMs?: number;
  /** Restore although the backup's seal cannot be verified with the keys at hand (loudly warned). */
  acceptUnverified?: boolean;
  hooks?: {
    /**
     * Every check passed and rows are about to be replaced: false stops the run ('cancelled', nothing
     * written). Set only where someone is asked: the plan then carries what a dry run shows (the
     * keys added since the backup included), which costs a read of the live keys.
     */
    confirm?(plan: BackupRestoreReport): Promise<boolean>;
  };
}

export interface BackupRestoreReport {
  dryRun: boolean;
  file: string;
  target: string;
  /** Rows written per table (or that would be, in a dry run). */
  restored: Record<string, number>;
  /** Tables of GPT-Load's the backup does not hold: left as they are. */
  untouched: string[];
  /** Keys re-encrypted from the backup's key to the .env's; null when the keys were copied as they are. */
  reencrypted: { from: string; to: string; rows: number } | null;
  /** The backup of the state before the restore (shared/types BackupRestoreResult.safetyBackup). */
  safetyBackup: BackupInfo | null;
  service: ServiceCheck;
  forced: boolean;
  check: BackupCheckReport;
  /** Redis entries removed; null when REDIS_DSN is unset, clearing is off, or in a dry run. */
  cache: CacheClearResult | null;
  warnings: Localized[];
  /** Dry run: the live rows of each restored table now (the preview's "N now → M from the backup"). */
  current?: Record<string, number>;
  /** Dry run: what the restore changes besides the keys (groups, upstreams, proxy keys, settings). */
  outside?: OutsideKeyChanges;
  /** Dry run (and a restore that asks first): the keys it drops and brings back; absent when not compared. */
  keysSinceBackup?: KeysSinceBackup;
}

const INSERT_BATCH = 1000;

/** Which key opens the backup and whether its keys must be re-encrypted to the .env's. */
function chooseKeys(manifest: BackupManifest, envCodec: KeyCodec, backupKey: string | undefined): { backupCodec: KeyCodec; reencrypt: boolean } {
  const needed = manifest.encryption.keyFingerprint;
  if (needed === envCodec.fingerprint) return { backupCodec: envCodec, reencrypt: false };
  if (needed === 'plaintext') return { backupCodec: codecFor(''), reencrypt: true };
  if (backupKey === undefined) {
    throw new KeystoreError(
      'key-required',
      {
        en:
          `this backup's keys are encrypted with the ENCRYPTION_KEY of fingerprint ${needed ?? '(unknown)'}, the .env's has fingerprint ${envCodec.fingerprint}. ` +
          `Give the backup's key (CLI: --key-env NAME, --key-file FILE or --key-prompt) and the keys are re-encrypted to the .env's key, ` +
          `or set that key in the .env first. Nothing was written.`,
        zh:
          `此备份中的密钥由指纹为 ${needed ?? '（未知）'} 的 ENCRYPTION_KEY 加密，而 .env 中密钥的指纹为 ${envCodec.fingerprint}。` +
          `请提供备份的密钥（命令行：--key-env NAME、--key-file FILE 或 --key-prompt），密钥将被重新加密为 .env 的密钥；` +
          `或先在 .env 中设置该密钥。未写入任何内容。`,
      },
      { needed, env: envCodec.fingerprint },
    );
  }
  const backupCodec = codecFor(backupKey);
  if (needed !== null && backupCodec.fingerprint !== needed) {
    throw new KeystoreError(
      'wrong-key',
      {
        en: `the key given has fingerprint ${backupCodec.fingerprint}; this backup needs ${needed}. Nothing was written.`,
        zh: `所给密钥的指纹为 ${backupCodec.fingerprint}；此备份需要 ${needed}。未写入任何内容。`,
      },
      { needed, given: backupCodec.fingerprint },
    );
  }
  return { backupCodec, reencrypt: backupCodec.fingerprint !== envCodec.fingerprint };
}

/** The live table must take every column the backup has; extra live columns get their defaults. */
function compareSchema(manifest: BackupManifest, live: Map<BackupTable, ColumnInfo[]>, warnings: Localized[]): void {
  for (const table of manifest.tables.filter((t) => t.included)) {
    const columns = live.get(table.name);
    const missing = columns === undefined ? ['(the table)'] : table.columns.filter((c) => !columns.some((l) => l.name === c.name)).map((c) => c.name);
    if (missing.length > 0) {
      throw new KeystoreError(
        'refused-by-check',
        {
          en: `the database cannot take this backup: ${table.name} lacks ${missing.join(', ')} (an older GPT-Load?). Start the GPT-Load version the backup came from once, then restore. Nothing was written.`,
          zh: `数据库无法接收此备份：${table.name} 缺少 ${missing.join('、')}（GPT-Load 版本较旧？）。请先启动一次备份来源的 GPT-Load 版本，再恢复。未写入任何内容。`,
        },
        { table: table.name, missing },
      );
    }
    const extra = columns!.filter((l) => !table.columns.some((c) => c.name === l.name)).map((c) => c.name);
    if (extra.length > 0) {
      warnings.push({
        en: `${table.name}: columns ${extra.join(', ')} are not in the backup and get their defaults`,
        zh: `${table.name}：列 ${extra.join('、')} 不在备份中，将取默认值`,
      });
    }
  }
}

/** Rewrites key_value / key_hash of a key row from the backup's key to the .env's. */
class Reencryptor {
  rows = 0;
  constructor(
    private readonly from: KeyCodec,
    private readonly to: KeyCodec,
  ) {}

  row(row: unknown[], valueAt: number, hashAt: number, table: string): void {
    const rewritten = this.rewrite(row[valueAt], row[hashAt], table);
    if (rewritten) [row[valueAt], row[hashAt]] = [rewritten.value, rewritten.hash];
  }

  /** The new pair, or null for a row without a key (kept as it is). */
  rewrite(storedValue: unknown, storedHash: unknown, table: string): { value: string; hash: string } | null {
    const value = storedValue === null ? '' : String(storedValue);
    const hash = storedHash === null ? '' : String(storedHash);
    if (value === '' && hash === '') return null;
    const plain = sha256Hex(value) === hash ? value : this.open(value, hash, table);
    this.rows++;
    return { value: this.to.encrypt(plain), hash: this.to.hash(plain) };
  }

  private open(value: string, hash: string, table: string): string {
    try {
      const plain = this.from.decrypt(value);
      if (this.from.hash(plain) === hash) return plain;
    } catch {
      // reported below
    }
    // The check opened every row; a row that no longer opens means the file changed since.
    throw new KeystoreError('decrypt-failed', { en: `a ${table} row of the backup does not open with its key; nothing was written`, zh: `备份中 ${table} 的某行无法用其密钥解密；未写入任何内容` });
  }
}

interface TableWriter {
  table: TableManifest;
  /** Positions of key_value / key_hash for re-encryption, or null. */
  keyAt: [number, number] | null;
}

/** Streams the backup's rows, a batch at a time, into `write`. */
type RowFeeder = (write: (writer: TableWriter, rows: unknown[][]) => Promise<void>, context: OperationContext) => Promise<void>;

function changed(table: string): KeystoreError {
  return new KeystoreError('backup-invalid', {
    en: `${table}: the rows read for the restore differ from the checked backup (the file changed meanwhile); nothing was written`,
    zh: `${table}：恢复时读取的数据与已校验的备份不符（文件在此期间被改动）；未写入任何内容`,
  });
}

function portableFeeder(file: string, manifest: BackupManifest, bodyOffset: number): RowFeeder {
  return async (write, context) => {
    const tables = manifest.tables.filter((t) => t.included);
    const source = createReadStream(file, { start: bodyOffset });
    const gunzip = createGunzip();
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(gunzip);
    let writer: TableWriter | null = null;
    let digest: TableDigest | null = null;
    let batch: unknown[][] = [];
    const flush = async () => {
      if (writer && batch.length > 0) await write(writer, batch);
      batch = [];
    };
    const finishTable = async () => {
      await flush();
      if (writer && digest && (digest.rows !== writer.table.rows || digest.digest() !== writer.table.sha256)) throw changed(writer.table.name);
    };
    try {
      for await (const lines of bodyLines(gunzip as AsyncIterable<Buffer>)) {
        throwIfCancelled(context.cancellation);
        for (const line of lines) {
          if (line.startsWith('[')) {
            if (!writer || !digest) throw changed('body');
            const row = JSON.parse(line) as (string | null)[];
            digest.add(row);
            batch.push(row);
            if (batch.length >= INSERT_BATCH) await flush();
            continue;
          }
          await finishTable();
          const mark = JSON.parse(line) as { table?: string; end?: boolean };
          if (mark.end) return;
          const table = tables.find((t) => t.name === mark.table);
          if (!table) throw changed(String(mark.table));
          writer = writerFor(table);
          digest = new TableDigest();
        }
      }
      throw changed('body');
    } catch (err) {
      throw err instanceof BodyLineError ? changed('body') : err;
    } finally {
      gunzip.destroy();
      source.destroy();
    }
  };
}

function writerFor(table: TableManifest): TableWriter {
  const valueAt = table.columns.findIndex((c) => c.name === 'key_value');
  const hashAt = table.columns.findIndex((c) => c.name === 'key_hash');
  return { table, keyAt: KEY_TABLES.includes(table.name) && valueAt >= 0 && hashAt >= 0 ? [valueAt, hashAt] : null };
}

const SQLITE_CHUNK = 5000;

/**
 * SQLite: one IMMEDIATE transaction on the live file, rows copied from the attached backup by SQLite
 * itself (INSERT … SELECT, every value with its storage class), a chunk at a time for progress and
 * cancellation. Keys that change key are rewritten by two SQL functions sharing one result per row.
 */
async function restoreSqliteRows(
  livePath: string,
  backupPath: string,
  tables: TableManifest[],
  reencryptor: Reencryptor | null,
  advance: (rows: number) => void,
  context: OperationContext,
): Promise<void> {
  const db = openSqliteFile(livePath, { readonly: false });
  try {
    // Per connection and not inside a transaction: the backup is restored as it was taken.
    db.pragma('foreign_keys = OFF');
    db.prepare('ATTACH DATABASE ? AS glk_backup').run(backupPath);
    if (reencryptor) {
      let last: { value: unknown; hash: unknown; table: string; result: { value: string; hash: string } | null } | null = null;
      const rewrite = (table: string, value: unknown, hash: unknown) => {
        if (!last || last.value !== value || last.hash !== hash || last.table !== table) last = { value, hash, table, result: reencryptor.rewrite(value, hash, table) };
        return last.result;
      };
      db.function('glk_restore_value', (table: unknown, value: unknown, hash: unknown) => rewrite(String(table), value, hash)?.value ?? (value as string | null));
      db.function('glk_restore_hash', (table: unknown, value: unknown, hash: unknown) => rewrite(String(table), value, hash)?.hash ?? (hash as string | null));
    }
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const table of [...tables].reverse()) db.exec(`DELETE FROM main."${table.name}"`);
      for (const table of tables) {
        const names = table.columns.map((c) => `"${c.name.replace(/"/g, '""')}"`);
        const rekey = reencryptor !== null && KEY_TABLES.includes(table.name) && names.includes('"key_value"') && names.includes('"key_hash"');
        const select = names.map((name) => (rekey && (name === '"key_value"' || name === '"key_hash"') ? `${name === '"key_value"' ? 'glk_restore_value' : 'glk_restore_hash'}('${table.name}', "key_value", "key_hash")` : name));
        const copy = (where: string) => db.prepare(`INSERT INTO main."${table.name}" (${names.join(', ')}) SELECT ${select.join(', ')} FROM glk_backup."${table.name}"${where} ORDER BY "id" LIMIT ${SQLITE_CHUNK}`);
        const first = copy('');
        const next = copy(' WHERE "id" > ?');
        const lastId = db.prepare(`SELECT "id" FROM main."${table.name}" ORDER BY "id" DESC LIMIT 1`).pluck().safeIntegers(true);
        let copied = 0;
        for (let after: unknown = undefined; ; ) {
          const { changes } = after === undefined ? first.run() : next.run(after);
          copied += changes;
          advance(changes);
          if (changes < SQLITE_CHUNK) break;
          after = lastId.get();
          await nextTick();
          throwIfCancelled(context.cancellation);
        }
        if (copied !== table.rows) throw changed(table.name);
      }
      throwIfCancelled(context.cancellation);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  } finally {
    db.close();
  }
}

export async function restoreBackup(params: BackupRestoreParams, context: OperationContext = {}): Promise<BackupRestoreReport> {
  const { deployment } = params;
  const warnings: Localized[] = [];
  const envCodec = codecFor(deployment.encryptionKey);

  // The manifest alone first: which key the backup needs decides how to check it.
  const head = await checkBackup(params.file, { quick: true });
  if (!head.valid || !head.manifest) throw invalid(head);
  const manifest = head.manifest;
  const { backupCodec, reencrypt } = chooseKeys(manifest, envCodec, params.backupKey);
  const store = await openStore(deployment.target, { timeoutMs: params.timeoutMs ?? 5000 });
  try {
    // A dry run, and a restore that asks first, compare with the live database too: the keys added
    // since the backup are what a restore drops, and the one who confirms must see them.
    const previews = params.dryRun === true || params.hooks?.confirm !== undefined;
    const live = previews ? { store, codec: envCodec } : undefined;
    const check = await checkBackup(params.file, { codec: backupCodec, sealKeys: deploymentSealKeys(deployment), live }, context);
    if (!check.valid) throw invalid(check);
    if (check.seal !== 'verified') {
      if (!params.acceptUnverified) throw unverified(check);
      warnings.push({
        en: '--accept-unverified: this backup\'s seal could NOT be verified — its groups, upstreams, proxy keys and keys may not be what was backed up',
        zh: '--accept-unverified：此备份的封签无法验证——其中的分组、上游、代理密钥和密钥可能并非当初备份的内容',
      });
    }
    if (check.key.works === false) {
      throw new KeystoreError(
        'decrypt-failed',
        {
          en: `${check.key.failed} stored key(s) in the backup do not open with key ${backupCodec.fingerprint} (e.g. ${check.key.failedIds.join(', ')}); restoring them would leave GPT-Load unable to use them. Nothing was written.`,
          zh: `备份中有 ${check.key.failed} 个存储的密钥无法用密钥 ${backupCodec.fingerprint} 解密（例如 ${check.key.failedIds.join('、')}）；恢复后 GPT-Load 将无法使用它们。未写入任何内容。`,
        },
        { failed: check.key.failed },
      );
    }
    if (reencrypt && !envCodec.enabled) {
      warnings.push({ en: 'ENCRYPTION_KEY is not set in the .env: the restored keys are stored in plaintext', zh: '.env 中未设置 ENCRYPTION_KEY：恢复的密钥将以明文存储' });
    }

    if (manifest.engine !== store.kind) {
      throw new KeystoreError(
        'usage',
        {
          en: `this is a ${manifest.engine} backup; the deployment's database is ${store.kind}. Restore it into a ${manifest.engine} database.`,
          zh: `这是 ${manifest.engine} 备份；该部署的数据库是 ${store.kind}。请恢复到 ${manifest.engine} 数据库。`,
        },
        { backup: manifest.engine, database: store.kind },
      );
    }
    if (manifest.source !== deployment.targetLabel) {
      warnings.push({ en: `the backup was taken from ${manifest.source}; restoring into ${deployment.targetLabel}`, zh: `备份取自 ${manifest.source}；将恢复到 ${deployment.targetLabel}` });
    }
    compareSchema(manifest, await describeTables(store), warnings);

    const service = await checkService(store, deployment);
    if (service.running && !params.force) throw serviceRunningError(service, null);
    if (service.running) {
      const found = describeService(service);
      warnings.push({ en: `--force: went on although ${found.en}`, zh: `--force：尽管${found.zh}，仍继续执行` });
    }

    const included = manifest.tables.filter((t) => t.included);
    const report: BackupRestoreReport = {
      dryRun: params.dryRun ?? false,
      file: check.path,
      target: deployment.targetLabel,
      restored: Object.fromEntries(included.map((t) => [t.name, t.rows])),
      untouched: BACKUP_TABLES.filter((name) => !included.some((t) => t.name === name)),
      reencrypted: reencrypt ? { from: backupCodec.fingerprint, to: envCodec.fingerprint, rows: 0 } : null,
      safetyBackup: null,
      service,
      forced: service.running,
      check,
      cache: null,
      warnings,
    };
    if (report.untouched.includes('request_logs') && reencrypt) {
      warnings.push({
        en: 'request_logs is not in this backup and stays as it is: its key columns may be under another key than the restored keys',
        zh: 'request_logs 不在此备份中，保持不变：其密钥列可能与恢复后的密钥使用不同的加密密钥',
      });
    }
    if (previews) {
      // An estimate from the manifest; a restore replaces it with the rows it re-encrypted.
      if (reencrypt) report.reencrypted!.rows = manifest.encryption.apiKeys.total + (manifest.encryption.requestLogs?.total ?? 0);
      report.current = {};
      for (const table of included) report.current[table.name] = await countRows(store, table.name);
      const portable = manifest.layout === 'portable' ? readPortableManifest(check.path) : null;
      report.outside = await previewOutsideKeys(store, check.path, manifest, portable && !('failure' in portable) ? portable.bodyOffset : undefined);
      if (check.live) {
        const { added, addedIds, missing, missingIds } = check.live;
        report.keysSinceBackup = { added, addedIds, gone: missing, goneIds: missingIds };
      }
    }
    if (report.dryRun) return report;

    if (params.hooks?.confirm && !(await params.hooks.confirm(report))) {
      throw new KeystoreError('cancelled', { en: 'not confirmed; nothing was written', zh: '未确认；未写入任何内容' });
    }
    if (params.safetyBackup !== false) {
      const safety = await createVerifiedBackup(store, { encryptionKey: deployment.encryptionKey, authKey: deployment.env.get('AUTH_KEY'), envDir: deployment.envDir, codec: envCodec }, context);
      report.safetyBackup = safety.info;
    }

    const reencryptor = reencrypt ? new Reencryptor(backupCodec, envCodec) : null;
    const total = included.reduce((n, t) => n + t.rows, 0);
    const progress = phaseReporter(context, 'restore rows', total);
    let done = 0;
    const advance = (rows: number) => progress((done += rows));
    if (store.target.kind === 'sqlite') await restoreSqliteRows(store.target.path, check.path, included, reencryptor, advance, context);
    else {
      const head = readPortableManifest(check.path);
      if ('failure' in head) throw invalid(check);
      const feed = portableFeeder(check.path, head.manifest, head.bodyOffset);
      await store.transaction(async (tx) => {
        await pinTransaction(tx);
        for (const table of [...included].reverse()) await tx.execute(`DELETE FROM ${tx.q(table.name)}`);
        await feed(
          async (writer, rows) => {
            if (reencryptor && writer.keyAt) for (const row of rows) reencryptor.row(row, writer.keyAt[0], writer.keyAt[1], writer.table.name);
            await insertRows(tx, writer.table.name, writer.table.columns, rows);
            advance(rows.length);
          },
          context,
        );
        for (const table of included) await resetSequence(tx, table.name, table.columns);
        throwIfCancelled(context.cancellation);
      });
    }
    progress(done, true);
    if (reencryptor) report.reencrypted!.rows = reencryptor.rows;

    if (params.clearCache !== false && deployment.redisDsn) {
      try {
        report.cache = await clearStaleCache(deployment.redisDsn, { redisHost: params.redisHost, timeoutMs: params.timeoutMs ?? 5000 });
      } catch (err) {
        const reason = err instanceof KeystoreError ? err.text : { en: String(err), zh: String(err) };
        warnings.push({
          en: `restored, but GPT-Load's Redis cache was not cleared (${reason.en}): clear gpt-load:key:* before starting GPT-Load`,
          zh: `已恢复，但未能清理 GPT-Load 的 Redis 缓存（${reason.zh}）：启动 GPT-Load 前请清理 gpt-load:key:*`,
        });
      }
    }
    return report;
  } finally {
    await store.close();
  }
}

function unverified(check: BackupCheckReport): KeystoreError {
  const why = check.findings.find((f) => f.code === 'seal-unverifiable')?.text ?? { en: 'its seal cannot be verified', zh: '其封签无法验证' };
  return new KeystoreError(
    'backup-invalid',
    {
      en: `${check.path} is not restored: ${why.en}. Nothing was written. If you know where this file comes from, --accept-unverified restores it anyway.`,
      zh: `未恢复 ${check.path}：${why.zh}。未写入任何内容。如果你确认此文件的来源，可用 --accept-unverified 强制恢复。`,
    },
    { findings: ['seal-unverifiable'] },
  );
}

function invalid(check: BackupCheckReport): KeystoreError {
  const problems = check.findings.filter((f) => f.severity === 'error');
  return new KeystoreError(
    'backup-invalid',
    {
      en: `${check.path} cannot be restored: ${problems.map((f) => f.text.en).join('; ')}. Nothing was written.`,
      zh: `${check.path} 无法恢复：${problems.map((f) => f.text.zh).join('；')}。未写入任何内容。`,
    },
    { findings: problems.map((f) => f.code) },
  );
}
