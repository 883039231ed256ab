/**
 * The verdicts a backup's row shows (shared/types.ts's BACKUP_VERDICTS, decided by
 * server/keystore/backup/check.ts) and the tree rows' context values built from them (package.json's
 * menus match these). No VS Code import: test/vscode/manifest.test.ts checks the menus against it.
 */
import { BACKUP_VERDICTS, type BackupVerdict } from '../../shared/types';

/** The worse of two verdicts; anything unknown counts as corrupt. */
export function worseVerdict(a: BackupVerdict, b: BackupVerdict): BackupVerdict {
  const rank = (v: BackupVerdict) => {
    const at = BACKUP_VERDICTS.indexOf(v);
    return at < 0 ? BACKUP_VERDICTS.length - 1 : at;
  };
  return BACKUP_VERDICTS[Math.max(rank(a), rank(b))];
}

/**
 * Whether the extension offers to restore a backup of this verdict (undefined: not checked yet; the
 * restore checks it). An unverified one is restored only by the CLI's --accept-unverified, a corrupt
 * one never.
 */
export function restorableHere(verdict: BackupVerdict | undefined): boolean {
  return verdict !== 'corrupt' && verdict !== 'unverified';
}

/** contextValue of a backup's row; undefined: a file no check has seen yet. */
export function backupContextValue(verdict: BackupVerdict | undefined): string {
  return `gptLoad.backup.${verdict ?? 'unchecked'}`;
}
