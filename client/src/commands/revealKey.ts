import { Ctx } from '../context';
import { t } from '../l10n';
import { protocol } from '../protocol';
import type { KeyNode } from '../views/keyExplorer';
import { CommandIds } from '../../../shared/commands';

/** Decrypts one stored key (the daemon's only plaintext read). */
export async function revealPlaintext(ctx: Ctx, node: KeyNode): Promise<string> {
  const { RevealKeyRequest } = await protocol();
  const { key } = await ctx.daemon.request(RevealKeyRequest.type, { deployment: await ctx.ref(node.deployment), id: node.key.id }, { needsTrust: true });
  return key;
}

/** GPT-Load: Reveal Key — shows one stored key in a modal (nowhere else: no notification history, no log). */
export function registerRevealKey(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.revealKey, async (node?: KeyNode) => {
    if (node?.kind !== 'key') throw new Error(t('Choose a key in the GPT-Load key explorer.'));
    const key = await revealPlaintext(ctx, node);
    ctx.output.info(`revealed key #${node.key.id} of ${node.deployment.label}`);
    await ctx.ui.showSecret('revealKey', t('Key #{0} ({1})', node.key.id, node.key.notes || node.key.masked), key);
  });
}
