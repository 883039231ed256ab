import type { Ctx } from '../context';
import { t } from '../l10n';
import type { KeyExplorer, KeyFilter } from '../views/keyExplorer';
import { CommandIds } from '../../../shared/commands';

/** GPT-Load: Filter Keys by Status — all, active or invalid keys in the explorer. */
export function registerFilterKeys(ctx: Ctx, explorer: KeyExplorer): void {
  ctx.registerCommand(CommandIds.filterKeys, async (filter?: KeyFilter) => {
    const chosen =
      filter ??
      (await ctx.ui.pick<KeyFilter>(
        'keyFilter',
        [
          { id: 'all', label: t('All keys'), picked: explorer.statusFilter === 'all' },
          { id: 'active', label: t('Active keys'), picked: explorer.statusFilter === 'active' },
          { id: 'invalid', label: t('Invalid keys'), picked: explorer.statusFilter === 'invalid' },
        ],
        { title: t('Show which keys?') },
      ));
    if (chosen) explorer.setFilter(chosen);
    return chosen;
  });
}
