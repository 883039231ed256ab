import { Ctx } from '../context';
import { t } from '../l10n';
import type { KeyNode } from '../views/keyExplorer';
import { CommandIds } from '../../../shared/commands';
import { revealPlaintext } from './revealKey';

/** GPT-Load: Copy Key — copies one stored key; it leaves the clipboard after gptLoad.clipboard.clearAfterSeconds. */
export function registerCopyKey(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.copyKey, async (node?: KeyNode) => {
    if (node?.kind !== 'key') throw new Error(t('Choose a key in the GPT-Load key explorer.'));
    const key = await revealPlaintext(ctx, node);
    await ctx.clipboard.copySecret(key);
    ctx.output.info(`copied key #${node.key.id} of ${node.deployment.label}`);
    void ctx.ui.notify('keyCopied', ctx.clipboard.copiedMessage(t('Key {0} copied.', node.key.masked)));
    return node.key.id;
  });
}
