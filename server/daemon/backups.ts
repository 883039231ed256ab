/**
 * Backup requests and the key-copy check: thin calls into the backups module's operations
 * (server/keystore/backup/), shaped to the wire types. Restores close the daemon's pooled
 * connection first and drop cached database checks afterwards, like migrate.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KeystoreError, localize, type Lang, type Localized } from '../core/errors';
import { createVerifiedBackup } from '../keystore/backup/create';
import { backupFilesIn, checkBackup, listBackups, type BackupCheckReport } from '../keystore/backup/check';
import { defaultBackupDir, layoutOfFile, type BackupFinding, type BackupInfo as CoreBackupInfo } from '../keystore/backup/format';
import { checkKeyCandidates } from '../keystore/backup/keys';
import { recordKeyCopyCheck } from '../keystore/audit/record';
import { deploymentSealKeys } from '../keystore/backup/seal';
import { restoreBackup } from '../keystore/backup/restore';
import { pruneBackups, type PruneEntry } from '../keystore/backup/prune';
import {
  BackupCheckRequest,
  BackupCreateRequest,
  BackupListRequest,
  BackupPruneRequest,
  BackupRestoreRequest,
  type BackupPruneEntry,
  KeyBackupsRequest,
  type BackupCheckResult,
  type BackupInfo,
  type BackupRestoreResult,
} from '../../shared/protocol';
import { cachedCodec, freshCodec } from './codecs';
import { redactor } from './log';
import { printable } from '../../shared/printable';
import { deploymentRef, filePath, flag, integer, optional, strings, text, type ParamsSpec } from './params';
import type { Session } from './session';

const MAX_KEY_COPIES = 16;

function wireInfo(info: CoreBackupInfo, warnings: BackupFinding[], lang: Lang): BackupInfo {
  return { ...info, warnings: warnings.map((w) => printable(localize(w.text, lang))) };
}

function problemsOf(findings: BackupFinding[], lang: Lang): string[] {
  return findings.filter((f) => f.severity !== 'info').map((f) => printable(localize(f.text, lang)));
}

function checkResult(report: BackupCheckReport, lang: Lang): BackupCheckResult {
  const live = report.live;
  return {
    valid: report.valid,
    info: report.info ? wireInfo(report.info, [], lang) : null,
    problems: problemsOf(report.findings, lang),
    decryptsWithKey: report.decryptsWithKey,
    verdict: report.verdict,
    live: live ? { missing: live.missing, added: live.added, backupKeys: live.backupKeys, liveKeys: live.liveKeys } : null,
    ageMs: report.ageMs,
    keyCheck: { checked: report.key.checked, failed: report.key.failed },
    notes: report.findings.filter((f) => f.severity === 'info').map((f) => printable(localize(f.text, lang))),
    plaintext: report.plaintext,
  };
}

export function registerBackupRequests(session: Session, dataChanged: () => void): void {
  const { stores } = session;

  session.onRequest(
    KeyBackupsRequest.type,
    { deployment: deploymentRef, candidates: strings(MAX_KEY_COPIES), backups: optional(strings(1000)) },
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const { candidates } = params;
      candidates.forEach((c) => redactor.add(c));
      const backups = params.backups === undefined ? backupFilesIn(defaultBackupDir(deployment.envDir)) : params.backups.map((p) => resolve(deployment.envDir, p));
      const report = await stores.use(deployment.target, (store) => checkKeyCandidates(store, { candidates, envKey: deployment.encryptionKey, backups }, context));
      recordKeyCopyCheck(deployment.envDir, deployment.encryptionKey, report.results);
      return report;
    },
    { en: 'GPT-Load: checking ENCRYPTION_KEY copies', zh: 'GPT-Load：检查 ENCRYPTION_KEY 副本' },
  );

  session.onRequest(
    BackupCreateRequest.type,
    { deployment: deploymentRef, destination: optional(filePath), includeLogs: optional(flag) },
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const { destination } = params;
      const isFolder = destination !== undefined && (isDirectory(destination) || layoutOfFile(destination) === null);
      const codec = await cachedCodec(deployment.encryptionKey);
      const created = await stores.use(deployment.target, (store) =>
        createVerifiedBackup(
          store,
          {
            encryptionKey: deployment.encryptionKey,
            authKey: deployment.env.get('AUTH_KEY'),
            codec,
            envDir: deployment.envDir,
            out: destination !== undefined && !isFolder ? destination : undefined,
            dir: isFolder ? destination : undefined,
            includeLogs: params.includeLogs ?? true,
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
    { path: filePath, deployment: optional(deploymentRef), encryptionKey: optional(text(65_536)) },
    async ({ path, deployment: ref, encryptionKey: key }, { context }): Promise<BackupCheckResult> => {
      redactor.add(key);
      const deployment = ref ? session.deployment(ref) : undefined;
      const codec = key !== undefined ? await freshCodec(key) : deployment ? await cachedCodec(deployment.encryptionKey) : undefined;
      if (!deployment) return checkResult(await checkBackup(path, { codec }, context), session.lang);
      const sealKeys = deploymentSealKeys(deployment);
      const liveCodec = await cachedCodec(deployment.encryptionKey);
      // The file is checked either way: a database that cannot be opened only skips the comparison.
      let opened = false;
      let unavailable: Localized;
      try {
        return await stores.use(deployment.target, async (store) => {
          opened = true;
          return checkResult(await checkBackup(path, { codec, sealKeys, live: { store, codec: liveCodec } }, context), session.lang);
        });
      } catch (err) {
        if (opened || !(err instanceof KeystoreError) || err.code === 'cancelled') throw err;
        unavailable = err.text;
      }
      return checkResult(await checkBackup(path, { codec, sealKeys, live: { unavailable } }, context), session.lang);
    },
    { en: 'GPT-Load: checking a backup', zh: 'GPT-Load：检查备份' },
  );

  const restoreSpec: ParamsSpec<BackupRestoreRequest.Params> = {
    deployment: deploymentRef,
    path: filePath,
    force: optional(flag),
    backupKey: optional(text(65_536)),
    dryRun: optional(flag),
    safetyBackup: optional(flag),
    clearCache: optional(flag),
    redisHost: optional(text(300)),
    acceptUnverified: optional(flag),
  };
  session.onRequest(
    BackupRestoreRequest.type,
    restoreSpec,
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const { backupKey } = params;
      redactor.add(backupKey);
      const dryRun = params.dryRun ?? false;
      await stores.release(deployment.target);
      let report;
      try {
        report = await restoreBackup(
          {
            deployment,
            file: params.path,
            backupKey,
            force: params.force ?? false,
            dryRun,
            safetyBackup: params.safetyBackup ?? true,
            clearCache: params.clearCache ?? true,
            redisHost: params.redisHost,
            timeoutMs: session.options.connectTimeoutMs,
            acceptUnverified: params.acceptUnverified ?? false,
          },
          context,
        );
      } finally {
        // A dry run wrote nothing: the diagnostics stay as they are.
        if (!dryRun) dataChanged();
      }
      const result: BackupRestoreResult = {
        restored: report.restored,
        safetyBackup: report.safetyBackup ? wireInfo(report.safetyBackup, [], session.lang) : null,
        warnings: report.warnings.map((w) => session.text(w)),
        untouched: report.untouched,
        reencrypted: report.reencrypted,
        cacheCleared: report.cache?.removed ?? null,
        outside: report.outside,
        current: report.current,
        keysSinceBackup: report.keysSinceBackup,
      };
      return result;
    },
    { en: 'GPT-Load: restoring a backup', zh: 'GPT-Load：恢复备份' },
  );

  session.onRequest(BackupListRequest.type, { deployment: deploymentRef, directory: optional(filePath) }, async (params, { context }) => {
    const deployment = session.deployment(params.deployment);
    const directory = params.directory ?? defaultBackupDir(deployment.envDir);
    const list = await listBackups(directory, { codec: await cachedCodec(deployment.encryptionKey), sealKeys: deploymentSealKeys(deployment) }, context);
    return {
      backups: list.backups.filter((b) => b.info !== null).map((b) => wireInfo(b.info!, [], session.lang)),
      checks: list.backups.map((b) => ({ path: b.path, verdict: b.verdict, problems: problemsOf(b.findings, session.lang), plaintext: b.plaintext })),
    };
  });
}

function wirePruneEntry({ path, createdAt, keyFingerprint, verdict, plaintext, reason, bytes }: PruneEntry): BackupPruneEntry {
  return { path, createdAt, keyFingerprint, verdict, plaintext, reason, bytes };
}

/** `backup prune` over the wire: the same operation; the client previews with dryRun and confirms warnings. */
const pruneSpec: ParamsSpec<BackupPruneRequest.Params> = {
  deployment: deploymentRef,
  directory: optional(filePath),
  keep: optional(integer(0, 1_000_000)),
  maxAgeMs: optional(integer(0, Number.MAX_SAFE_INTEGER)),
  plaintext: optional(flag),
  dryRun: optional(flag),
  confirmed: optional(flag),
};

export function registerBackupPruneRequest(session: Session): void {
  session.onRequest(BackupPruneRequest.type, pruneSpec, async (params, { context }) => {
    const deployment = session.deployment(params.deployment);
    const report = await pruneBackups(
      {
        directory: params.directory ?? defaultBackupDir(deployment.envDir),
        codec: await cachedCodec(deployment.encryptionKey),
        keep: params.keep,
        maxAgeMs: params.maxAgeMs,
        plaintext: params.plaintext ?? false,
        dryRun: params.dryRun ?? false,
        confirmed: params.confirmed ?? false,
      },
      context,
    );
    return {
      dryRun: report.dryRun,
      deleted: report.deleted.map(wirePruneEntry),
      kept: report.kept.map(wirePruneEntry),
      bytesFreed: report.bytesFreed,
      warnings: report.warnings.map((w) => session.text(w)),
    };
  }, { en: 'GPT-Load: checking backups to prune', zh: 'GPT-Load：检查待清理的备份' });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
