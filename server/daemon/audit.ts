/** The audit request: a thin call into server/keystore/audit, shaped as `audit --json`. */
import { resolve } from 'node:path';
import { fileSource, runAudit } from '../keystore/audit/runAudit';
import { auditResult } from '../keystore/audit/wire';
import { AuditRequest } from '../../shared/protocol';
import { deploymentRef, stringArray } from './params';
import type { Session } from './session';

export function registerAuditRequest(session: Session): void {
  session.onRequest(
    AuditRequest.type,
    async (params, { context }) => {
      const deployment = session.deployment(deploymentRef(params));
      const paths = (name: string) => (params[name] === undefined ? [] : stringArray(params, name, 100).map((p) => resolve(deployment.envDir, p)));
      const logs = paths('logs');
      const report = await runAudit(
        {
          deployment,
          ...(logs.length > 0 ? { logs: logs.map(fileSource) } : {}),
          accessLogs: paths('accessLogs').map(fileSource),
          proxyConfigs: paths('proxyConfigs'),
          useStore: (work) => session.stores.use(deployment.target, work),
        },
        context,
      );
      return auditResult(report, session.lang);
    },
    { en: 'GPT-Load: security audit', zh: 'GPT-Load：安全检查' },
  );
}
