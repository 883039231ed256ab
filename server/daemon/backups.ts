/**
 * Backup requests and the key-copy check: thin calls into the backups module's operations
 * (server/keystore/backup*.ts), shaped to the wire types. Restores close the daemon's pooled
 * connection first and drop cached database checks afterwards, like migrate.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { localize, type Lang } from '../core/errors';
import { createVerifiedBackup } from '../keystore/backup';
import { checkBackup, listBackups } from '../keystore/backupCheck';
import { defaultBackupDir, layoutOfFile, type BackupFinding, type BackupInfo as CoreBackupInfo } from '../keystore/backupFormat';
import { checkKeyCandidates } from '../keystore/backupKeys';
import { restoreBackup } from '../keystore/backupRestore';
import {
  BackupCheckRequest,
  BackupCreateRequest,
  BackupListRequest,
  BackupRestoreRequest,
  KeyBackupsRequest,
  type BackupCheckResult,
  type BackupInfo,
} from '../../shared/protocol';
import { cachedCodec, freshCodec } from './codecs';
import { redactor } from './log';
import { deploymentRef, filePath, optBool, optDeploymentRef, optString, stringArray, type Fields } from './params';
import type { Session } from './session';

const MAX_KEY_COPIES = 16;

function wireInfo(info: CoreBackupInfo, warnings: BackupFinding[], lang: Lang): BackupInfo {
  return { ...info, warnings: warnings.map((w) => localize(w.text, lang)) };
}

function problemsOf(findings: BackupFinding[], lang: Lang): string[] {
  return findings.filter((f) => f.severity !== 'info').map((f) => localize(f.text, lang));
}

function optPath(params: Fields, name: string): string | undefined {
  return params[name] === undefined || params[name] === null ? undefined : filePath(params, name);
}

export function registerBackupRequests(session: Session, dataChanged: () => void): void {
  const { stores } = session;

  session.onRequest(
    KeyBackupsRequest.type,
    async (params, { context }) => {
      const deployment = session.deployment(deploymentRef(params));
      const candidates = stringArray(params, 'candidates', MAX_KEY_COPIES);
      candidates.forEach((c) => redactor.add(c));
      const backups = params.backups === undefined ? undefined : stringArray(params, 'backups', 1000).map((p) => resolve(deployment.envDir, p));
      return stores.use(deployment.target, (store) => checkKeyCandidates(store, { candidates, envKey: deployment.encryptionKey, backups }, context));
    },
    { en: 'GPT-Load: checking ENCRYPTION_KEY copies', zh: 'GPT-Load：检查 ENCRYPTION_KEY 副本' },
  );

  session.onRequest(
    BackupCreateRequest.type,
    async (params, { context }) => {
      const deployment = session.deployment(deploymentRef(params));
      const destination = optPath(params, 'destination');
      const isFolder = destination !== undefined && (isDirectory(destination) || layoutOfFile(destination) === null);
      const codec = await cachedCodec(deployment.encryptionKey);
      const created = await stores.use(deployment.target, (store) =>
        createVerifiedBackup(
          store,
          {
            encryptionKey: deployment.encryptionKey,
            codec,
            envDir: deployment.envDir,
            out: destination !== undefined && !isFolder ? destination : undefined,
            dir: isFolder ? destination : undefined,
            includeLogs: optBool(params, 'includeLogs') ?? true,
          },
          context,
        ),
      );
      return wireInfo(created.info, created.warnings, session.lang);
    },
    { en: 'GPT-Load: backing up keys', zh: 'GPT-Load：备份密钥' },
  );

  session.onRequest(
    BackupCheckRequest.type,
    async (params, { context }): Promise<BackupCheckResult> => {
      const path = filePath(params, 'path');
      const key = optString(params, 'encryptionKey', 65_536);
      redactor.add(key);
      const ref = optDeploymentRef(params);
      const deployment = ref ? session.deployment(ref) : undefined;
      const codec = key !== undefined ? await freshCodec(key) : deployment ? await cachedCodec(deployment.encryptionKey) : undefined;
      const report = deployment
        ? await stores.use(deployment.target, async (store) => checkBackup(path, { codec, live: { store, codec: await cachedCodec(deployment.encryptionKey) } }, context))
        : await checkBackup(path, { codec }, context);
      return {
        valid: report.valid,
        info: report.info ? wireInfo(report.info, [], session.lang) : null,
        problems: problemsOf(report.findings, session.lang),
        decryptsWithKey: report.decryptsWithKey,
        verdict: report.verdict,
      };
    },
    { en: 'GPT-Load: checking a backup', zh: 'GPT-Load：检查备份' },
  );

  session.onRequest(
    BackupRestoreRequest.type,
    async (params, { context }) => {
      const deployment = session.deployment(deploymentRef(params));
      const backupKey = optString(params, 'backupKey', 65_536);
      redactor.add(backupKey);
      await stores.release(deployment.target);
      try {
        const report = await restoreBackup(
          {
            deployment,
            file: filePath(params, 'path'),
            backupKey,
            force: optBool(params, 'force') ?? false,
            dryRun: optBool(params, 'dryRun') ?? false,
            safetyBackup: optBool(params, 'safetyBackup') ?? true,
            timeoutMs: session.options.connectTimeoutMs,
          },
          context,
        );
        return { restored: report.restored, safetyBackup: report.safetyBackup ? wireInfo(report.safetyBackup, [], session.lang) : null };
      } finally {
        dataChanged();
      }
    },
    { en: 'GPT-Load: restoring a backup', zh: 'GPT-Load：恢复备份' },
  );

  session.onRequest(BackupListRequest.type, async (params, { context }) => {
    const deployment = session.deployment(deploymentRef(params));
    const directory = optPath(params, 'directory') ?? defaultBackupDir(deployment.envDir);
    const list = await listBackups(directory, { codec: await cachedCodec(deployment.encryptionKey) }, context);
    return {
      backups: list.backups.filter((b) => b.info !== null).map((b) => wireInfo(b.info!, [], session.lang)),
      checks: list.backups.map((b) => ({ path: b.path, verdict: b.verdict, problems: problemsOf(b.findings, session.lang) })),
    };
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
