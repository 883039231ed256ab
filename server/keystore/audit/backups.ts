/**
 * Backups beside the deployment (`backups/`, or --backups DIR), by `backup list`'s quick check:
 * one exists, the newest is fresh, whole and opened by the configured key, and none holds the
 * upstream keys in plaintext.
 */
import { codecFor, type KeyCodec } from '../../core/crypto';
import { listBackups, type BackupListEntry } from '../backup/check';
import { formatNumber } from '../../../shared/format';
import { finding, type AuditFinding } from './findings';
import { setting, type AuditInputs } from './inputs';

export async function backupFindings(inputs: AuditInputs): Promise<AuditFinding[]> {
  const dir = inputs.backupsDir;
  const codec = codecFor(setting(inputs, 'ENCRYPTION_KEY')?.value ?? '');
  const { backups } = await listBackups(dir, { codec, maxAgeMs: inputs.maxBackupAgeMs, now: inputs.now });
  const usable = backups.filter((b) => b.info !== null);
  if (usable.length === 0) {
    return [
      finding('backups', 'backup-missing', 'warn', {
        en: `No backup in ${dir}: before any key change, and regularly, take one: gpt-load-keystore backup create`,
        zh: `${dir} 中没有备份：在任何密钥变更之前以及定期地创建备份：gpt-load-keystore backup create`,
      }, { fix: 'backup-create' }),
    ];
  }
  const out = [finding('backups', 'backup-missing', 'pass', { en: `${usable.length} backup(s) in ${dir}.`, zh: `${dir} 中有 ${usable.length} 个备份。` })];
  const newest = usable[0];
  const days = newest.ageMs === null ? null : Math.floor(newest.ageMs / 86_400_000);
  const limit = Math.round(inputs.maxBackupAgeMs / 86_400_000);
  out.push(
    newest.ageMs !== null && newest.ageMs > inputs.maxBackupAgeMs
      ? finding('backups', 'backup-stale', 'warn', {
          en: `The newest backup is ${days} days old (more than ${limit}): take a fresh one: gpt-load-keystore backup create`,
          zh: `最新的备份已有 ${days} 天（超过 ${limit} 天）：请创建新备份：gpt-load-keystore backup create`,
        }, { file: newest.path, fix: 'backup-create' })
      : finding('backups', 'backup-stale', 'pass', { en: `The newest backup is ${days ?? '?'} days old.`, zh: `最新的备份为 ${days ?? '?'} 天前。` }, { file: newest.path }),
  );
  out.push(newestBackupCheck(newest, codec));
  out.push(plaintextBackups(usable, codec));
  return out;
}

/**
 * backup-plaintext. Deleting a plaintext backup is advised only once a backup under the configured key
 * exists: on a deployment without ENCRYPTION_KEY every backup is plaintext, so deleting them would leave
 * none; encryption comes first there.
 */
function plaintextBackups(usable: BackupListEntry[], codec: KeyCodec): AuditFinding {
  const plaintext = usable.filter(holdsPlaintextKeys);
  if (plaintext.length === 0) return finding('backups', 'backup-plaintext', 'pass', { en: 'No backup holds keys in plaintext.', zh: '没有以明文保存密钥的备份。' });
  const where = { file: plaintext[0].path };
  const risk = {
    en: `${formatNumber(plaintext.length, 'en')} backup(s) hold the upstream keys in plaintext: whoever reads the file has every key.`,
    zh: `${formatNumber(plaintext.length, 'zh-CN')} 个备份以明文保存上游密钥：读到文件的人即拥有所有密钥。`,
  };
  if (!codec.enabled) {
    return finding('backups', 'backup-plaintext', 'warn', {
      en: `${risk.en} Without ENCRYPTION_KEY every backup is, so keep them for now (they are the only ones) and keep the folder private. Enable encryption first: gpt-load-keystore migrate-keys --generate --update-env; then take a backup under the key: gpt-load-keystore backup create; only once that backup exists, delete the plaintext ones: gpt-load-keystore backup prune --plaintext`,
      zh: `${risk.zh}未设置 ENCRYPTION_KEY 时所有备份都是明文，因此暂时保留它们（这是仅有的备份），并确保目录不被他人读取。请先启用加密：gpt-load-keystore migrate-keys --generate --update-env；然后用该密钥创建备份：gpt-load-keystore backup create；确认该备份存在之后，再删除明文备份：gpt-load-keystore backup prune --plaintext`,
    }, { ...where, fix: 'migrate-keys' });
  }
  if (!usable.some((b) => b.info!.keyFingerprint === codec.fingerprint && b.verdict !== 'corrupt' && b.verdict !== 'unverified')) {
    return finding('backups', 'backup-plaintext', 'warn', {
      en: `${risk.en} No backup is under the configured ENCRYPTION_KEY yet, so keep them until one is: take it (gpt-load-keystore backup create), then delete the plaintext ones: gpt-load-keystore backup prune --plaintext`,
      zh: `${risk.zh}还没有使用已配置 ENCRYPTION_KEY 的备份，因此在创建之前请保留它们：先创建（gpt-load-keystore backup create），再删除明文备份：gpt-load-keystore backup prune --plaintext`,
    }, { ...where, fix: 'backup-create' });
  }
  return finding('backups', 'backup-plaintext', 'warn', {
    en: `${risk.en} A backup under the configured ENCRYPTION_KEY exists: delete the plaintext ones: gpt-load-keystore backup prune --plaintext`,
    zh: `${risk.zh}已有使用已配置 ENCRYPTION_KEY 的备份：请删除明文备份：gpt-load-keystore backup prune --plaintext`,
  }, where);
}

/** A backup that holds upstream keys in plaintext: whoever reads the file has them. */
function holdsPlaintextKeys(b: BackupListEntry): boolean {
  return b.info!.keyFingerprint === 'plaintext' && (b.info!.rows.api_keys ?? 0) > 0;
}

/** backup-unchecked: whether the newest backup is whole and holds the data as it is now, under the configured key. */
function newestBackupCheck(newest: BackupListEntry, codec: KeyCodec): AuditFinding {
  const where = { file: newest.path, fix: 'backup-create' } as const;
  if (newest.verdict === 'corrupt') {
    return finding('backups', 'backup-unchecked', 'fail', {
      en: 'The newest backup does not pass a check (damaged or incomplete): check it (gpt-load-keystore backup check) and take a new one.',
      zh: '最新的备份未通过检查（已损坏或不完整）：请检查（gpt-load-keystore backup check）并创建新备份。',
    }, where);
  }
  if (holdsPlaintextKeys(newest) && codec.fingerprint !== 'plaintext') {
    // Taken before encryption was enabled: it opens with any key, but no backup holds the data as it is now.
    return finding('backups', 'backup-unchecked', 'warn', {
      en: 'The newest backup holds the keys in plaintext, from before encryption was enabled: no backup holds the data as it is now, under the configured ENCRYPTION_KEY. Take one: gpt-load-keystore backup create',
      zh: '最新的备份以明文保存密钥，是启用加密之前创建的：没有任何备份保存了当前（使用已配置 ENCRYPTION_KEY）的数据。请创建一个：gpt-load-keystore backup create',
    }, where);
  }
  if (newest.key.works === false) {
    // Right after a key change the newest backup is the one taken before it: sound, but it restores
    // only with the previous key, so it is a reminder, not a failure.
    return finding('backups', 'backup-unchecked', 'warn', {
      en: `The newest backup is under another ENCRYPTION_KEY (fingerprint ${newest.info!.keyFingerprint}), e.g. the one taken before a key change: it restores only with that key. Keep that key as long as you keep the backup, and take one under the current key: gpt-load-keystore backup create`,
      zh: `最新的备份使用的是另一个 ENCRYPTION_KEY（指纹 ${newest.info!.keyFingerprint}），例如密钥变更前创建的备份：只有用那个密钥才能恢复。保留该备份期间请同时保留那个密钥，并用当前密钥创建新备份：gpt-load-keystore backup create`,
    }, where);
  }
  return finding('backups', 'backup-unchecked', 'pass', { en: 'The newest backup is whole and opens with the configured key.', zh: '最新的备份完整，且可用当前密钥打开。' }, { file: newest.path });
}
