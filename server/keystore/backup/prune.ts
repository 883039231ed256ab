/**
 * `backup prune`: deletes the backups no rule keeps, plaintext ones first on request. What stays:
 * the newest whole backup for each key fingerprint (the only way back to data under that key), the
 * newest `keep` whole backups, those younger than `maxAgeMs` — and every file that is no whole
 * backup (damaged, interrupted, still being written): those are for a person to look at. A file goes
 * before its sidecar, so an interruption leaves at most an orphan `.sha256`, which `backup list`
 * does not show and the next prune removes; never a backup that looks damaged.
 */
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyCodec } from '../../core/crypto';
import { KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import { keysAndLogs } from '../../core/counts';
import { listBackups, type BackupListEntry } from './check';
import { DIGEST_EXT, digestSidecar, layoutOfFile, PARTIAL_EXT, type PlaintextRows } from './format';
import type { OperationContext } from '../operation';

export interface PruneParams {
  directory: string;
  /** The deployment's ENCRYPTION_KEY: which backups open with the current key. */
  codec: KeyCodec;
  /** Keep the newest N whole backups. */
  keep?: number;
  /** Keep whole backups younger than this. */
  maxAgeMs?: number;
  /** Delete every backup that holds keys in plaintext, whatever else would keep it. */
  plaintext?: boolean;
  dryRun?: boolean;
  /**
   * The operator has seen what goes (`--yes`, or a confirmed preview): needed when the prune would
   * leave no backup that opens with the current key.
   */
  confirmed?: boolean;
  /** Asks before deleting (a terminal); false cancels. Not asked on a dry run. */
  confirm?: (plan: PruneReport) => Promise<boolean>;
  now?: Date;
}

/**
 * Why a backup stays or goes. newest-for-key: the newest whole backup needing that key; keep / max-age:
 * the rules asked; unchecked: damaged or interrupted, left for a person; plaintext: holds keys in
 * plaintext (--plaintext); pruned: no rule keeps it.
 */
export type PruneReason = 'newest-for-key' | 'keep' | 'max-age' | 'no-rule' | 'unchecked' | 'plaintext' | 'pruned';

export interface PruneEntry {
  path: string;
  /** The backup and its sidecars as they are on disk. */
  files: string[];
  bytes: number;
  createdAt: string | null;
  /** The key it needs ("plaintext": none; null: unknown). */
  keyFingerprint: string | null;
  verdict: BackupListEntry['verdict'];
  plaintext: PlaintextRows | null;
  reason: PruneReason;
}

export interface PruneReport {
  directory: string;
  dryRun: boolean;
  deleted: PruneEntry[];
  kept: PruneEntry[];
  /** Sidecars left by an interrupted earlier prune, removed with the rest. */
  orphans: string[];
  bytesFreed: number;
  /** Said before anything goes (e.g. no backup would be left that opens with the current key). */
  warnings: Localized[];
}

function sidecarsOf(path: string): string[] {
  return layoutOfFile(path) === 'sqlite' && existsSync(digestSidecar(path)) ? [digestSidecar(path)] : [];
}

/**
 * `.sha256` files whose backup is gone. A backup being written has its sidecar before its file (which
 * is still `<file>.<pid>.partial`): that sidecar is no orphan.
 */
function orphanSidecars(directory: string): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const hasBackup = (file: string) => names.some((n) => n === file || (n.startsWith(`${file}.`) && n.endsWith(PARTIAL_EXT)));
  return names.filter((name) => name.endsWith(DIGEST_EXT) && !hasBackup(name.slice(0, -DIGEST_EXT.length))).map((name) => join(directory, name));
}

function entryOf(backup: BackupListEntry, reason: PruneReason): PruneEntry {
  const files = [backup.path, ...sidecarsOf(backup.path)];
  return {
    path: backup.path,
    files,
    bytes: files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0),
    createdAt: backup.info?.createdAt ?? null,
    keyFingerprint: backup.key.needed,
    verdict: backup.verdict,
    plaintext: backup.plaintext,
    reason,
  };
}

/** Why a whole backup stays, or null when no rule keeps it. `rank`: its place among the whole ones that may stay, newest first. */
function keptBy(backup: BackupListEntry, rank: number, newestForKey: boolean, params: PruneParams, now: number): PruneReason | null {
  if (newestForKey) return 'newest-for-key';
  if (params.keep !== undefined && rank < params.keep) return 'keep';
  if (params.maxAgeMs !== undefined && backup.info !== null && now - Date.parse(backup.info.createdAt) <= params.maxAgeMs) return 'max-age';
  if (params.keep === undefined && params.maxAgeMs === undefined) return 'no-rule';
  return null;
}

function planPrune(backups: BackupListEntry[], params: PruneParams): PruneReport {
  const now = (params.now ?? new Date()).getTime();
  const report: PruneReport = { directory: params.directory, dryRun: params.dryRun ?? false, deleted: [], kept: [], orphans: orphanSidecars(params.directory), bytesFreed: 0, warnings: [] };
  const fingerprintsSeen = new Set<string>();
  let rank = 0;
  // Newest first (listBackups' order): the first whole backup of each fingerprint is its newest.
  for (const backup of backups) {
    if (backup.verdict === 'corrupt' || backup.info === null) {
      report.kept.push(entryOf(backup, 'unchecked'));
      continue;
    }
    if (params.plaintext && backup.plaintext !== null) {
      report.deleted.push(entryOf(backup, 'plaintext'));
      continue;
    }
    const fingerprint = backup.key.needed ?? 'unknown';
    const newestForKey = !fingerprintsSeen.has(fingerprint);
    fingerprintsSeen.add(fingerprint);
    const reason = keptBy(backup, rank++, newestForKey, params, now);
    if (reason !== null) report.kept.push(entryOf(backup, reason));
    else report.deleted.push(entryOf(backup, 'pruned'));
  }
  report.bytesFreed = report.deleted.reduce((n, e) => n + e.bytes, 0);
  const opensNow = (e: PruneEntry) => e.verdict !== 'corrupt' && e.reason !== 'unchecked' && (e.keyFingerprint === params.codec.fingerprint || e.keyFingerprint === 'plaintext');
  if (report.deleted.some(opensNow) && !report.kept.some(opensNow)) {
    const gone = report.deleted.filter(opensNow).length;
    report.warnings.push({
      en: `after this no backup is left that restores the current data (ENCRYPTION_KEY ${params.codec.fingerprint}): ${gone} that would are deleted. Take one first: gpt-load-keystore backup create`,
      zh: `执行后将没有任何备份能恢复当前数据（ENCRYPTION_KEY ${params.codec.fingerprint}）：能恢复的 ${gone} 个备份都会被删除。请先创建一个：gpt-load-keystore backup create`,
    });
  }
  return report;
}

/** Removes a backup's files in order: the backup first, then its sidecars (see the module comment). */
function removeFiles(files: string[]): void {
  for (const file of files) {
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new KeystoreError('io', { en: `cannot delete ${file} (${(err as NodeJS.ErrnoException).code})`, zh: `无法删除 ${file}（${(err as NodeJS.ErrnoException).code}）` }, { path: file });
    }
  }
}

export async function pruneBackups(params: PruneParams, context: OperationContext = {}): Promise<PruneReport> {
  if (params.keep === undefined && params.maxAgeMs === undefined && !params.plaintext) {
    throw new KeystoreError('usage', {
      en: 'say what to keep or delete: --keep N, --max-age DURATION and/or --plaintext (the newest backup for each key always stays)',
      zh: '请指明保留或删除什么：--keep N、--max-age DURATION 和/或 --plaintext（每个密钥最新的备份总会保留）',
    });
  }
  const list = await listBackups(params.directory, { codec: params.codec }, context);
  const report = planPrune(list.backups, { ...params, directory: list.directory });
  if (report.dryRun || (report.deleted.length === 0 && report.orphans.length === 0)) return report;
  // Unasked, the last backup of the current data never goes: a confirmation must have shown it.
  if (report.warnings.length > 0 && !params.confirmed && !params.confirm) {
    throw new KeystoreError('refused-by-check', {
      en: `${report.warnings[0].en}. Nothing was deleted; to delete anyway, confirm (CLI: --yes)`,
      zh: `${report.warnings[0].zh}。未删除任何文件；如仍要删除，请确认（命令行：--yes）`,
    });
  }
  if (params.confirm && !(await params.confirm(report))) throw new KeystoreError('cancelled', { en: 'not confirmed: nothing was deleted', zh: '未确认：未删除任何文件' });
  for (const entry of report.deleted) {
    throwIfCancelled(context.cancellation);
    removeFiles(entry.files);
  }
  removeFiles(report.orphans);
  return report;
}

/** "2 backups holding 3,000 keys and 2,000 request logs in plaintext", for summaries. */
export function plaintextHeld(entries: PruneEntry[]): Localized | null {
  const rows = entries.filter((e) => e.plaintext !== null);
  if (rows.length === 0) return null;
  const counts = keysAndLogs(
    rows.reduce((n, e) => n + e.plaintext!.apiKeys, 0),
    rows.reduce((n, e) => n + e.plaintext!.requestLogs, 0),
  );
  return { en: `${rows.length} of them held ${counts.en} in plaintext`, zh: `其中 ${rows.length} 个以明文保存了 ${counts.zh}` };
}
