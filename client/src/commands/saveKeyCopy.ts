import * as vscode from 'vscode';
import { Ctx, type DeploymentArg } from '../context';
import { shortDate } from '../describe';
import { validateKey } from '../keyPrompt';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

/**
 * GPT-Load: Save a Copy of ENCRYPTION_KEY — keeps the `.env`'s ENCRYPTION_KEY, or a typed one, in VS
 * Code's secret storage, labelled by deployment and date (../keyCopies.ts): a lost `.env` is then
 * not a lost database. Check Key Backups verifies the copies. Needs no database, so it works in
 * restricted workspaces too, with a typed key (reading the `.env`'s needs trust).
 */
export function registerSaveKeyCopy(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.saveKeyCopy, async (arg?: DeploymentArg) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const title = t('Save a Copy of ENCRYPTION_KEY — {0}', deployment.label);
    const { EnvReadRequest } = await protocol();
    // Taking the .env's key reveals a secret of the workspace: a restricted one saves a typed key only.
    const env = ctx.trusted ? await ctx.daemon.request(EnvReadRequest.type, { envFile: deployment.envFile }, { needsTrust: true }) : undefined;
    const inEnv = env?.entries.some((e) => e.key === 'ENCRYPTION_KEY' && e.effective && e.length > 0) ?? false;
    const source = inEnv
      ? Ctx.required(
          await ctx.ui.pick<'env' | 'typed'>(
            'keyCopySource',
            [
              { id: 'env', label: t('ENCRYPTION_KEY of the .env'), detail: deployment.envFile },
              { id: 'typed', label: t('Type or paste a key') },
            ],
            { title },
          ),
        )
      : 'typed';
    let value: string;
    if (source === 'env') {
      const read = await ctx.daemon.request(EnvReadRequest.type, { envFile: deployment.envFile, reveal: 'ENCRYPTION_KEY' }, { needsTrust: true });
      value = read.revealed?.value ?? '';
      if (!value) throw new Error(t('ENCRYPTION_KEY is not set in {0}.', deployment.envFile));
    } else {
      value = Ctx.required(await ctx.ui.input('keyCopyValue', { title, prompt: t('Kept in VS Code\'s secret storage only; never shown or logged.'), password: true, validate: validateKey }));
    }
    const { copy, existed } = await ctx.keyCopies.save(deployment, value, source);
    ctx.output.info(`ENCRYPTION_KEY copy ${copy.fingerprint} of ${deployment.label}: ${existed ? 'already saved' : 'saved'}`);
    const message = existed
      ? t('This key (fingerprint {0}) is already saved for {1}, since {2}.', copy.fingerprint, deployment.label, shortDate(copy.savedAt))
      : t('A copy of ENCRYPTION_KEY (fingerprint {0}) of {1} is now kept in VS Code\'s secret storage.', copy.fingerprint, deployment.label);
    void ctx.ui
      .notify(existed ? 'keyCopyExists' : 'keyCopySaved', message, { actions: ctx.trusted ? [{ id: 'check', title: t('Check Key Backups') }] : [] })
      .then((answer) => answer === 'check' && vscode.commands.executeCommand(CommandIds.checkKeyBackups, deployment));
    return { id: copy.id, fingerprint: copy.fingerprint, existed };
  });
}
