/**
 * Verdicts of `backup check` / `backup list` (server/keystore/backup/check.ts), best first, and the
 * tree rows' context values built from them (package.json's menus match these). No VS Code import:
 * test/vscode/manifest.test.ts checks the menus against it.
 */
export const BACKUP_VERDICTS = ['ok', 'stale', 'differs', 'needs-key', 'corrupt'] as const;
export type BackupVerdict = (typeof BACKUP_VERDICTS)[number];

/** The worse of two verdicts; anything unknown counts as corrupt. */
export function worseVerdict(a: string, b: string): BackupVerdict {
  const rank = (v: string) => {
    const at = (BACKUP_VERDICTS as readonly string[]).indexOf(v);
    return at < 0 ? BACKUP_VERDICTS.length - 1 : at;
  };
  return BACKUP_VERDICTS[Math.max(rank(a), rank(b))];
}

/** contextValue of a backup's row; undefined: a file no check has seen yet. */
export function backupContextValue(verdict: BackupVerdict | undefined): string {
  return `gptLoad.backup.${verdict ?? 'unchecked'}`;
}
