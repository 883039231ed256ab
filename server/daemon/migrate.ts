/**
 * `gptLoad/migrate`: the core's migrateKeys with work-done progress and cancellation. The daemon's
 * pooled connection to that database is closed first (it would count as "another live session"),
 * and cached database checks are dropped afterwards so diagnostics show the new state.
 */
import { localize } from '../core/errors';
import { migrateKeys } from '../keystore/migrate/migrateKeys';
import { backupBeforeWrite, plaintextBackupWarning, previousKeyBackupNote, type MigrationBackup } from '../keystore/backup/beforeWrite';
import { MigrateRequest, type MigrationSummary } from '../../shared/protocol';
import { redactor } from './log';
import { deploymentRef, flag, optional, text, type ParamsSpec } from './params';
import type { Session } from './session';

const migrateSpec: ParamsSpec<MigrateRequest.Params> = {
  deployment: deploymentRef,
  fromKey: optional(text(65_536)),
  toKey: text(65_536),
  updateEnv: optional(flag),
  force: optional(flag),
  skipLogs: optional(flag),
  clearCache: optional(flag),
  dryRun: optional(flag),
  redisHost: optional(text(300)),
  backup: optional(flag),
  allowWeakKey: optional(flag),
  leaveUndecryptable: optional(flag),
};

export function registerMigrateRequest(session: Session, dataChanged: () => void): void {
  session.onRequest(
    MigrateRequest.type,
    migrateSpec,
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const fromKey = params.fromKey ?? deployment.encryptionKey;
      const { toKey } = params;
      redactor.add(fromKey);
      redactor.add(toKey);
      await session.stores.release(deployment.target);
      let result;
      try {
        result = await migrateKeys(
          {
            deployment,
            fromKey,
            toKey,
            updateEnv: params.updateEnv ?? false,
            force: params.force ?? false,
            skipLogs: params.skipLogs ?? false,
            leaveUndecryptable: params.leaveUndecryptable ?? false,
            dryRun: params.dryRun ?? false,
            clearCache: params.clearCache ?? true,
            redisHost: params.redisHost,
            allowWeakKey: params.allowWeakKey ?? false,
            timeoutMs: session.options.connectTimeoutMs,
            hooks: {
              beforeWrite: params.backup === false ? undefined : backupBeforeWrite({ fromKey, authKey: deployment.env.get('AUTH_KEY'), envDir: deployment.envDir }, context),
            },
          },
          context,
        );
      } finally {
        dataChanged();
      }
      const t = (texts: Array<{ en: string; zh: string }>) => texts.map((text) => localize(text, session.lang));
      const backup = result.backup as MigrationBackup | null;
      const backupNote = plaintextBackupWarning(backup) ?? previousKeyBackupNote(backup);
      const summary: MigrationSummary = {
        mode: result.mode,
        apiKeys: result.apiKeys,
        requestLogs: result.requestLogs,
        fromFingerprint: result.fromFingerprint,
        toFingerprint: result.toFingerprint,
        cacheCleared: result.cacheCleared,
        envUpdated: result.envUpdated,
        durationMs: result.durationMs,
        notes: t(backupNote ? [...result.notes, backupNote] : result.notes),
        backupFile: backup?.file ?? null,
        outcome: result.outcome,
        warnings: t(result.warnings),
        rate: result.rate,
        restartCommand: result.restart.command,
        backupPlaintext: backup?.plaintext ?? null,
        leftovers: result.leftovers,
        leftUndecryptable: result.leftUndecryptable,
        restartAdvice: session.text(result.restart.advice),
      };
      return summary;
    },
    { en: 'GPT-Load: migrating keys', zh: 'GPT-Load：迁移密钥' },
  );
}
