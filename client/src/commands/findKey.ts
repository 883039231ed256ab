import * as vscode from 'vscode';
import { Ctx, type DeploymentArg } from '../context';
import { t } from '../l10n';
import { protocol } from '../protocol';
import type { KeyExplorer, LoadMoreNode, SearchNode } from '../views/keyExplorer';
import { CommandIds } from '../../../shared/commands';

/**
 * GPT-Load: Find Key by Value — the exact API key is hashed as GPT-Load hashes it and looked up by
 * key_hash (nothing is decrypted to search); the hits appear as a "Search result" node.
 */
export function registerFindKey(ctx: Ctx, explorer: KeyExplorer): void {
  ctx.registerCommand(CommandIds.findKey, async (arg?: DeploymentArg) => {
    ctx.requireTrust();
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const value = Ctx.required(
      await ctx.ui.input('findKeyValue', {
        title: t('Find Key by Value'),
        prompt: t('The whole API key, exactly; it is only hashed, never stored or logged.'),
        password: true,
        validate: (v) => (v.trim() === '' ? t('Enter the key.') : undefined),
      }),
    );
    const { KeysRequest } = await protocol();
    const page = await ctx.daemon.request(KeysRequest.type, { deployment: await ctx.ref(deployment), value: value.trim(), limit: 100 }, { needsTrust: true });
    explorer.showSearch(deployment, page.items);
    await vscode.commands.executeCommand('gptLoad.keys.focus').then(undefined, () => undefined);
    if (page.items.length === 0) void ctx.ui.notify('keyNotFound', t('No stored key has this value in {0}.', deployment.label));
    return page.items.map((k) => k.id);
  });

  ctx.registerCommand(CommandIds.loadMore, (node: LoadMoreNode) => explorer.loadMore(node));
  // The search result row's inline ✕: back to the plain group list.
  ctx.registerCommand(CommandIds.clearSearch, (node: SearchNode) => explorer.clearSearch(node.deployment));
}
