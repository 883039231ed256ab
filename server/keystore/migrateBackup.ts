/**
 * The backup step of migrate-keys: a backup of the data as it is before the switch, written and
 * checked (every byte and row read back, every key decrypted) before the first write. Both fronts
 * plug it into migrateKeys' beforeWrite hook, so a run whose backup fails writes nothing.
 */
import type { OperationContext } from './operation';
import { createVerifiedBackup } from './backup';
import type { MigrateHooks } from './migrate';

/** What the summary reports of the backup: the file that restores the state before the run. */
export interface MigrationBackup {
  file: string;
  keyFingerprint: string;
  rows: Record<string, number>;
}

export function backupBeforeWrite(
  params: { fromKey: string; authKey?: string; envDir: string; dir?: string; threads?: number },
  context: OperationContext,
): NonNullable<MigrateHooks['beforeWrite']> {
  return async (_plan, store): Promise<MigrationBackup> => {
    // Under fromKey: that is what the rows are encrypted with now, also on a resumed run.
    const backup = await createVerifiedBackup(store, { encryptionKey: params.fromKey, authKey: params.authKey, envDir: params.envDir, dir: params.dir, threads: params.threads }, context);
    return { file: backup.file, keyFingerprint: backup.info.keyFingerprint, rows: backup.info.rows };
  };
}
