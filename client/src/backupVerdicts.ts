/**
 * The verdicts a backup's row shows (shared/types.ts's BACKUP_VERDICTS, decided by
 * server/keystore/backup/check.ts) and the tree rows' context values built from them (package.json's
 * menus match these). No VS Code import: test/vscode/manifest.test.ts checks the menus against it.
 * A row shows an unverified backup as corrupt: the extension cannot restore it (that takes the CLI's
 * --accept-unverified).
 */
import { BACKUP_VERDICTS, type BackupVerdict } from '../../shared/types';

export type RowVerdict = Exclude<BackupVerdict, 'unverified'>;
export const ROW_VERDICTS = BACKUP_VERDICTS.filter((v): v is RowVerdict => v !== 'unverified');

/** The worse of two verdicts, as a row shows it; anything unknown counts as corrupt. */
export function worseVerdict(a: BackupVerdict, b: BackupVerdict): RowVerdict {
  const rank = (v: BackupVerdict) => {
    const at = BACKUP_VERDICTS.indexOf(v);
    return at < 0 ? BACKUP_VERDICTS.length - 1 : at;
  };
  const worse = BACKUP_VERDICTS[Math.max(rank(a), rank(b))];
  return worse === 'unverified' ? 'corrupt' : worse;
}

/** contextValue of a backup's row; undefined: a file no check has seen yet. */
export function backupContextValue(verdict: RowVerdict | undefined): string {
  return `gptLoad.backup.${verdict ?? 'unchecked'}`;
}
