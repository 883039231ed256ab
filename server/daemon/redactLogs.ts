/**
 * `gptLoad/redactLogs`: the core's redactLogs with work-done progress and cancellation. As for
 * migrate, the daemon's pooled connection to that database is closed first (it would count as
 * another live session).
 */
import { localize } from '../core/errors';
import { redactLogs } from '../keystore/history/redactLogs';
import { backupBeforeWrite, type MigrationBackup } from '../keystore/backup/beforeWrite';
import { RedactLogsRequest, type RedactLogsSummary } from '../../shared/protocol';
import { deploymentRef, flag, optional } from './params';
import type { Session } from './session';

export function registerRedactLogsRequest(session: Session, dataChanged: () => void): void {
  session.onRequest(
    RedactLogsRequest.type,
    { deployment: deploymentRef, dryRun: optional(flag), force: optional(flag), backup: optional(flag) },
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const dryRun = params.dryRun ?? false;
      await session.stores.release(deployment.target);
      let result;
      try {
        result = await redactLogs(
          {
            deployment,
            dryRun,
            force: params.force ?? false,
            timeoutMs: session.options.connectTimeoutMs,
            hooks: {
              beforeWrite: params.backup === false ? undefined : backupBeforeWrite({ fromKey: deployment.encryptionKey, envDir: deployment.envDir }, context),
            },
          },
          context,
        );
      } finally {
        if (!dryRun) dataChanged();
      }
      const summary: RedactLogsSummary = {
        dryRun: result.dryRun,
        scanned: result.scanned,
        rows: result.rows,
        occurrences: result.occurrences,
        poolKeys: result.poolKeys,
        rowsChanged: result.rowsChanged,
        tempMigration: result.tempMigration,
        tempMigrationDropped: result.tempMigrationDropped,
        backupFile: (result.backup as MigrationBackup | null)?.file ?? null,
        durationMs: result.durationMs,
        notes: result.notes.map((note) => localize(note, session.lang)),
      };
      return summary;
    },
    { en: 'GPT-Load: redacting request logs', zh: 'GPT-Load：请求日志脱敏' },
  );
}
