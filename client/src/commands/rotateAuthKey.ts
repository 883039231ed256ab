import * as vscode from 'vscode';
import { Ctx, type DeploymentArg } from '../context';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { copyRestartAction, copyRestartIfAsked, restartAdvice } from '../restartHint';
import { removeFromProxyKeys, type ProxyKeyRemoval } from './removeAuthKeyFromProxyKeys';
import { saveIfDirty } from './generateAuthKey';
import { CommandIds } from '../../../shared/commands';

const ROTATIONS_KEY = 'gptLoad.authKeyRotations';
const DAY_MS = 24 * 60 * 60 * 1000;

/** When each deployment's AUTH_KEY was last rotated from here (ISO dates by `.env` path). */
function rotations(state: vscode.Memento): Record<string, string> {
  return state.get<Record<string, string>>(ROTATIONS_KEY, {});
}

/**
 * GPT-Load: Rotate AUTH_KEY — a new AUTH_KEY into the `.env`; optionally the old one out of
 * GPT-Load's stored proxy keys (it copied AUTH_KEY there on first start); the restart reminder;
 * and the date, for the reminder when the key is due again.
 */
export function registerRotateAuthKey(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.rotateAuthKey, async (arg?: DeploymentArg) => {
    ctx.requireTrust();
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    await saveIfDirty(deployment.envFile);
    const { EnvReadRequest, EnvWriteRequest, GenerateSecretRequest } = await protocol();
    const current = await ctx.daemon.request(EnvReadRequest.type, { envFile: deployment.envFile, reveal: 'AUTH_KEY' }, { needsTrust: true });
    const oldKey = current.revealed?.value ?? '';
    const go = await ctx.ui.ask('rotateConfirm', t('Replace AUTH_KEY in {0} with a new random key?', deployment.label), {
      detail: t('The admin UI and clients that use AUTH_KEY as a proxy key need the new key once GPT-Load has been restarted.'),
      severity: 'warning',
      actions: [{ id: 'rotate', title: t('Rotate') }],
    });
    Ctx.required(go);

    const { value } = await ctx.daemon.request(GenerateSecretRequest.type, { name: 'AUTH_KEY' }, { needsTrust: true });
    await ctx.daemon.request(EnvWriteRequest.type, { envFile: deployment.envFile, key: 'AUTH_KEY', value }, { needsTrust: true });
    await ctx.extension.globalState.update(ROTATIONS_KEY, { ...rotations(ctx.extension.globalState), [deployment.envFile]: new Date().toISOString() });

    let removal: ProxyKeyRemoval | undefined;
    if (oldKey) {
      const remove = await ctx.ui.ask('removeOldProxyKey', t('Also remove the old AUTH_KEY from GPT-Load\'s stored proxy keys?'), {
        detail: t('GPT-Load copies AUTH_KEY into its proxy keys on first start, so the old key keeps working for proxy requests until it is removed there.'),
        actions: [{ id: 'remove', title: t('Remove Old Key') }, { id: 'keep', title: t('Keep It') }],
      });
      if (remove === 'remove') removal = await removeFromProxyKeys(ctx, deployment, oldKey, 'old');
    }

    // The daemon reads the deployment (e.g. the Compose service to recreate); no command when it finds none.
    const advice = await restartAdvice(ctx, deployment);
    const message = [t('AUTH_KEY in {0} was rotated.', deployment.label), ...(removal?.notes ?? []), removal?.restartSaid ? undefined : `${advice.advice}.`].filter(Boolean).join(' ');
    const answer = await ctx.ui.notify('authKeyRotated', message, {
      actions: [{ id: 'copyKey', title: t('Copy New AUTH_KEY') }, ...copyRestartAction(advice)],
    });
    if (answer === 'copyKey') await ctx.clipboard.copySecret(value);
    else await copyRestartIfAsked(ctx, answer, advice);
    return { envFile: deployment.envFile, removedOld: removal !== undefined };
  });
}

/** Reminds, once per session, of AUTH_KEYs rotated from here more than gptLoad.authKey.rotationReminderDays ago. */
export async function remindOverdueRotations(ctx: Ctx, now = Date.now()): Promise<string[]> {
  const days = ctx.config.authKeyRotationDays;
  if (!days) return [];
  const known = new Set((await ctx.deployments.all()).map((d) => d.envFile));
  const due = Object.entries(rotations(ctx.extension.globalState)).filter(([envFile, at]) => known.has(envFile) && now - Date.parse(at) > days * DAY_MS);
  for (const [envFile, at] of due) {
    const deployment = await ctx.deployments.forEnvFile(envFile);
    const age = Math.floor((now - Date.parse(at)) / DAY_MS);
    void ctx.ui
      .notify('authKeyDue', t('AUTH_KEY of {0} was last rotated {1} days ago.', deployment.label, age), { severity: 'warning', actions: [{ id: 'rotate', title: t('Rotate Now') }] })
      .then((answer) => answer === 'rotate' && vscode.commands.executeCommand(CommandIds.rotateAuthKey, deployment));
  }
  return due.map(([envFile]) => envFile);
}
