/**
 * The backup step of migrate-keys: a backup of the data as it is before the switch, written and
 * checked (every byte and row read back, every key decrypted) before the first write. Both fronts
 * plug it into migrateKeys' beforeWrite hook, so a run whose backup fails writes nothing.
 */
import { keysAndLogs } from '../../core/counts';
import type { Localized } from '../../core/errors';
import type { OperationContext } from '../operation';
import { createVerifiedBackup } from './create';
import { plaintextRows, type PlaintextRows } from './format';
import type { Store } from '../../store/connect';

/** What the summary reports of the backup: the file that restores the state before the run. */
export interface MigrationBackup {
  file: string;
  keyFingerprint: string;
  rows: Record<string, number>;
  /** Key rows the backup holds in plaintext (null: none) — after enabling encryption, every key. */
  plaintext: PlaintextRows | null;
}

export function backupBeforeWrite(
  params: { fromKey: string; authKey?: string; envDir: string; dir?: string; threads?: number },
  context: OperationContext,
): (plan: unknown, store: Store) => Promise<MigrationBackup> {
  // Any run's beforeWrite hook: migrate-keys and redact-logs.
  return async (_plan, store): Promise<MigrationBackup> => {
    // Under fromKey: that is what the rows are encrypted with now, also on a resumed run.
    const backup = await createVerifiedBackup(store, { encryptionKey: params.fromKey, authKey: params.authKey, envDir: params.envDir, dir: params.dir, threads: params.threads }, context);
    return { file: backup.file, keyFingerprint: backup.info.keyFingerprint, rows: backup.info.rows, plaintext: plaintextRows(backup.manifest) };
  };
}

/**
 * What the summary says of a backup that holds keys in plaintext: once the keys are encrypted, that
 * file is the easiest way to steal them; null when the backup holds none.
 */
export function plaintextBackupWarning(backup: MigrationBackup | null): Localized | null {
  if (backup?.plaintext == null) return null;
  const counts = keysAndLogs(backup.plaintext.apiKeys, backup.plaintext.requestLogs);
  return {
    en:
      `the backup of the state before (${backup.file}) is a PLAINTEXT copy of ${counts.en}: whoever reads that file has them, encryption or not. ` +
      'Once GPT-Load runs on the new key, take a backup under it (gpt-load-keystore backup create), then delete the plaintext one: gpt-load-keystore backup prune --plaintext — or move it offline.',
    zh:
      `迁移前状态的备份（${backup.file}）是 ${counts.zh}的明文副本：无论数据库是否加密，任何能读取该文件的人都能拿到它们。` +
      '待 GPT-Load 用新密钥运行后，先在新密钥下备份（gpt-load-keystore backup create），再删除这份明文备份：gpt-load-keystore backup prune --plaintext；或将其移到离线位置。',
  };
}

/**
 * What the summary says of a backup under the previous key: it opens only with that key, and the
 * audit counts it as unchecked until a backup under the new key exists. null for none or plaintext.
 */
export function previousKeyBackupNote(backup: MigrationBackup | null): Localized | null {
  if (backup === null || backup.plaintext != null) return null;
  return {
    en:
      `the backup of the state before (${backup.file}) opens only with the previous ENCRYPTION_KEY (fingerprint ${backup.keyFingerprint}): keep that key as long as you keep the backup. ` +
      'Once GPT-Load runs on the new key, take a backup under it: gpt-load-keystore backup create',
    zh:
      `迁移前状态的备份（${backup.file}）只能用之前的 ENCRYPTION_KEY（指纹 ${backup.keyFingerprint}）打开：保留该备份期间请一并保留那个密钥。` +
      '待 GPT-Load 用新密钥运行后，请在新密钥下再做一次备份：gpt-load-keystore backup create',
  };
}
