/** The audit request: a thin call into server/keystore/audit, shaped as `audit --json`. */
import { resolve } from 'node:path';
import { fileSource, runAudit } from '../keystore/audit/runAudit';
import { auditResult } from '../keystore/audit/wire';
import { AuditRequest } from '../../shared/protocol';
import { deploymentRef, optional, strings } from './params';
import type { Session } from './session';

export function registerAuditRequest(session: Session): void {
  session.onRequest(
    AuditRequest.type,
    { deployment: deploymentRef, logs: optional(strings(100)), accessLogs: optional(strings(100)), proxyConfigs: optional(strings(100)) },
    async (params, { context }) => {
      const deployment = session.deployment(params.deployment);
      const paths = (given: string[] | undefined) => (given ?? []).map((p) => resolve(deployment.envDir, p));
      const logs = paths(params.logs);
      const report = await runAudit(
        {
          deployment,
          ...(logs.length > 0 ? { logs: logs.map(fileSource) } : {}),
          accessLogs: paths(params.accessLogs).map(fileSource),
          proxyConfigs: paths(params.proxyConfigs),
          useStore: (work) => session.stores.use(deployment.target, work),
        },
        context,
      );
      return auditResult(report, session.lang);
    },
    { en: 'GPT-Load: security audit', zh: 'GPT-Load：安全检查' },
  );
}
