import { Cancelled } from '../errors';
import { Ctx, type DeploymentArg } from '../context';
import type { Deployment } from '../deployments';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { copyRestartAction, copyRestartIfAsked, restartAdvice } from '../restartHint';
import { CommandIds } from '../../../shared/commands';

export interface ProxyKeyRemoval {
  /** What happened to the old key, then the daemon's notes (what to restart, an emptied global list). */
  notes: string[];
  /** The notes already say how to restart (something was removed). */
  restartSaid: boolean;
}

/** Removes `key` from the stored proxy keys; `which` names it in the result (the AUTH_KEY just replaced, or the current one). */
export async function removeFromProxyKeys(ctx: Ctx, deployment: Deployment, key: string, which: 'old' | 'current'): Promise<ProxyKeyRemoval> {
  const { RemoveProxyKeyRequest } = await protocol();
  const result = await ctx.daemon.request(RemoveProxyKeyRequest.type, { deployment: await ctx.ref(deployment), value: key }, { needsTrust: true });
  const where = [result.system ? t('global') : '', ...result.groups].filter(Boolean).join(', ');
  const found = result.system || result.groups.length > 0;
  const what =
    which === 'old'
      ? found
        ? t('The old AUTH_KEY was removed from GPT-Load\'s stored proxy keys ({0}).', where)
        : t('The old AUTH_KEY was not among GPT-Load\'s stored proxy keys.')
      : found
        ? t('AUTH_KEY was removed from GPT-Load\'s stored proxy keys ({0}).', where)
        : t('AUTH_KEY was not among GPT-Load\'s stored proxy keys.');
  return { notes: [what, ...result.notes], restartSaid: result.restartRequired };
}

/**
 * GPT-Load: Remove AUTH_KEY from Proxy Keys — the quick fix of the daemon's "AUTH_KEY is also a
 * stored proxy key" finding, as `gpt-load-keystore proxy-keys remove`: after a confirmation (clients
 * using it as their proxy key stop working), the `.env`'s AUTH_KEY leaves the global and every group
 * list; then how to restart GPT-Load, which keeps its loaded lists until then.
 */
export function registerRemoveAuthKeyFromProxyKeys(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.removeAuthKeyFromProxyKeys, async (arg?: DeploymentArg) => {
    ctx.requireTrust();
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const go = await ctx.ui.ask('removeProxyKeyConfirm', t('Remove AUTH_KEY of {0} from GPT-Load\'s stored proxy keys?', deployment.label), {
      severity: 'warning',
      detail: t('Clients that send AUTH_KEY as their proxy key are refused once GPT-Load restarts: give them their own proxy keys first. The admin UI keeps logging in with AUTH_KEY.'),
      actions: [{ id: 'remove', title: t('Remove') }],
    });
    if (go !== 'remove') throw new Cancelled();
    const { EnvReadRequest } = await protocol();
    const env = await ctx.daemon.request(EnvReadRequest.type, { envFile: deployment.envFile, reveal: 'AUTH_KEY' }, { needsTrust: true });
    const authKey = Ctx.required(env.revealed?.value || undefined);
    const removal = await removeFromProxyKeys(ctx, deployment, authKey, 'current');
    const advice = await restartAdvice(ctx, deployment);
    const message = [...removal.notes, removal.restartSaid ? undefined : `${advice.advice}.`].filter(Boolean).join(' ');
    void ctx.ui.notify('proxyKeyRemoved', message, { actions: copyRestartAction(advice) }).then((answer) => copyRestartIfAsked(ctx, answer, advice));
    ctx.fireDataChanged(deployment);
    return removal;
  });
}
