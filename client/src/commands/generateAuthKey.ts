import * as vscode from 'vscode';
import { Ctx } from '../context';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

type AuthKeyTarget = 'insert' | 'replace' | 'copy';

/** Saves an open, modified `.env` first, so the daemon's write does not collide with unsaved edits. */
export async function saveIfDirty(envFile: string): Promise<void> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === envFile);
  if (open?.isDirty) await open.save();
}

/**
 * GPT-Load: Generate AUTH_KEY — a strong key safe for godotenv and Compose, inserted at the
 * cursor, written into the `.env` (AUTH_KEY) or copied. It needs no database, so it works in
 * restricted workspaces too.
 */
export function registerGenerateAuthKey(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.generateAuthKey, async (arg?: vscode.Uri) => {
    const editor = vscode.window.activeTextEditor;
    const choices: Array<{ id: AuthKeyTarget; label: string; detail?: string }> = [];
    if (editor) choices.push({ id: 'insert', label: t('Insert at cursor'), detail: vscode.workspace.asRelativePath(editor.document.uri) });
    choices.push({ id: 'replace', label: t('Set AUTH_KEY in .env'), detail: t('Replaces the current value; GPT-Load must be restarted') });
    choices.push({ id: 'copy', label: t('Copy to clipboard'), detail: ctx.clipboard.clearNote() });
    const target = Ctx.required(await ctx.ui.pick('authKeyTarget', choices, { title: t('Generate AUTH_KEY') }));

    const { EnvWriteRequest, GenerateSecretRequest } = await protocol();
    const { value, strength } = await ctx.daemon.request(GenerateSecretRequest.type, { name: 'AUTH_KEY' }, { needsTrust: false });
    switch (target) {
      case 'insert':
        await editor!.edit((edit) => edit.replace(editor!.selection, value));
        break;
      case 'replace': {
        const deployment = Ctx.required(await ctx.deploymentFor(arg));
        await saveIfDirty(deployment.envFile);
        await ctx.daemon.request(EnvWriteRequest.type, { envFile: deployment.envFile, key: 'AUTH_KEY', value }, { needsTrust: false });
        void ctx.ui.notify('authKeyWritten', t('AUTH_KEY in {0} was replaced ({1} characters). Restart GPT-Load to use it; log in to the admin UI with the new key.', deployment.label, strength.length));
        break;
      }
      case 'copy': {
        await ctx.clipboard.copySecret(value);
        void ctx.ui.notify('authKeyCopied', ctx.clipboard.copiedMessage(t('A new AUTH_KEY was copied.')));
        break;
      }
    }
    return { target, length: strength.length };
  });
}
