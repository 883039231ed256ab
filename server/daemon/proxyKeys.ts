/**
 * Proxy key requests: thin calls into server/keystore/proxyKeys.ts, shaped to the wire types. A
 * removal drops cached database checks, so the proxy-key diagnostics show the new lists.
 */
import { listProxyKeys, removeProxyKey } from '../keystore/proxyKeys';
import { ListProxyKeysRequest, RemoveProxyKeyRequest } from '../../shared/protocol';
import { redactor } from './log';
import { deploymentRef, text } from './params';
import { strengthFrom } from './secrets';
import type { Session } from './session';

export function registerProxyKeyRequests(session: Session, dataChanged: () => void): void {
  const { stores } = session;

  session.onRequest(ListProxyKeysRequest.type, { deployment: deploymentRef }, async (params) => {
    const deployment = session.deployment(params.deployment);
    const keys = await stores.use(deployment.target, (store) => listProxyKeys(store, { authKey: deployment.env.get('AUTH_KEY') ?? '' }));
    return {
      keys: keys.map((k) => ({
        masked: k.masked,
        system: k.uses.settings > 0,
        groups: k.uses.groups.map((g) => g.name),
        strength: strengthFrom(k.length, k.warnings, session.lang),
        isAuthKey: k.isAuthKey,
        reused: k.reused,
      })),
    };
  });

  session.onRequest(RemoveProxyKeyRequest.type, { deployment: deploymentRef, value: text(65_536) }, async (params, { context }) => {
    const deployment = session.deployment(params.deployment);
    const { value } = params;
    redactor.add(value);
    const removal = await stores.use(deployment.target, (store) => removeProxyKey(store, { value, deployment }, context));
    if (removal.restartRequired) dataChanged();
    return {
      system: removal.settings > 0,
      groups: removal.groups.map((g) => g.name),
      restartRequired: removal.restartRequired,
      running: removal.service.running,
      restartCommand: removal.restart.command,
      globalEmptied: removal.globalEmptied,
      notes: removal.notes.map((note) => session.text(note)),
    };
  });
}
