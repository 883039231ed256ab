/**
 * `audit`: the whole of GPT-Load's security best-practice list checked on one deployment. Gathers
 * what the checks read (Compose file, proxy configs, database, logs), runs each item's checks and
 * returns every finding. Read-only: nothing of the deployment is changed.
 */
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { asKeystoreError, type Localized } from '../../core/errors';
import type { Store } from '../../store/connect';
import { defaultBackupDir } from '../backup/format';
import { DEFAULT_MAX_AGE_MS } from '../backup/check';
import type { Deployment } from '../deployment';
import type { OperationContext } from '../operation';
import { adminAccessFindings } from './adminAccess';
import { authKeyFindings } from './authKey';
import { backupFindings } from './backups';
import { readAuditCompose } from './compose';
import { encryptionFindings } from './encryption';
import { envFindings } from './envHygiene';
import { AUDIT_ITEMS, type AuditReport } from './findings';
import { httpsFindings } from './https';
import { infrastructureFindings } from './infrastructure';
import { setting, type AuditInputs } from './inputs';
import { DEFAULT_BURST, loginFindings, readLoginFacts, type BurstRule, type LogSource } from './logins';
import { gptLoadAddress } from './network';
import { discoverProxyConfigs, readFrontDoors } from './proxies';
import { readRecord } from './record';

export interface AuditParams {
  deployment: Deployment;
  /** nginx / Caddy configs, on top of those found in the deployment folder. */
  proxyConfigs?: string[];
  /** GPT-Load's log (default: LOG_FILE_PATH, ./data/logs/app.log, when it exists). */
  logs?: LogSource[];
  /** A reverse proxy's access log, for client IPs. */
  accessLogs?: LogSource[];
  burst?: BurstRule;
  backupsDir?: string;
  maxBackupAgeMs?: number;
  /**
   * Runs `work` with the deployment's database (read-only is enough). When it cannot be opened, the
   * database checks are "unknown" with the reason.
   */
  useStore: <T>(work: (store: Store) => Promise<T>) => Promise<T>;
  now?: Date;
}

export function fileSource(path: string): LogSource {
  return { name: path, open: () => createReadStream(path) };
}

export async function runAudit(params: AuditParams, context: OperationContext = {}): Promise<AuditReport> {
  const { deployment } = params;
  const compose = readAuditCompose(deployment);
  const partial = { deployment, compose } as AuditInputs;
  const configs = [...new Set([...(params.proxyConfigs ?? []).map((p) => resolve(p)), ...discoverProxyConfigs(deployment.envDir)])];
  const proxies = readFrontDoors(configs, compose, gptLoadAddress(partial));
  const check = async (store: Store | null, storeProblem: Localized | null): Promise<AuditReport> => {
    const inputs: AuditInputs = {
      deployment,
      compose,
      proxies,
      store,
      storeProblem,
      record: readRecord(deployment.envDir),
      backupsDir: params.backupsDir ?? defaultBackupDir(deployment.envDir),
      maxBackupAgeMs: params.maxBackupAgeMs ?? DEFAULT_MAX_AGE_MS,
      now: params.now ?? new Date(),
    };
    let logs = params.logs ?? [];
    if (logs.length === 0) {
      const path = resolve(deployment.envDir, setting(inputs, 'LOG_FILE_PATH')?.value || './data/logs/app.log');
      if (existsSync(path)) logs = [fileSource(path)];
    }
    const accessLogs = params.accessLogs ?? [];
    const burst = params.burst ?? DEFAULT_BURST;
    const facts = await readLoginFacts({ logs, accessLogs, burst }, context.cancellation);
    const findings = [
      ...(await authKeyFindings(inputs)),
      ...(await encryptionFindings(inputs)),
      ...(await backupFindings(inputs)),
      ...(await envFindings(inputs)),
      ...httpsFindings(inputs),
      ...adminAccessFindings(inputs),
      ...loginFindings(facts, burst, [...logs, ...accessLogs].map((l) => l.name)),
      ...infrastructureFindings(inputs),
    ];
    findings.sort((a, b) => AUDIT_ITEMS.indexOf(a.item) - AUDIT_ITEMS.indexOf(b.item));
    return {
      envPath: deployment.envPath,
      findings,
      sources: { compose: compose?.deployment.files ?? [], proxyConfigs: proxies.files, logs: logs.map((l) => l.name), accessLogs: accessLogs.map((l) => l.name) },
    };
  };
  let opened = false;
  try {
    return await params.useStore((store) => {
      opened = true;
      return check(store, null);
    });
  } catch (err) {
    // Only a database that cannot be opened turns into "unknown"; a failure inside a check is one.
    if (opened) throw err;
    return check(null, asKeystoreError(err).text);
  }
}
