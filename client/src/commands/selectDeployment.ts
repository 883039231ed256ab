import type { Ctx } from '../context';
import { t } from '../l10n';
import { CommandIds } from '../../../shared/commands';

/** GPT-Load: Select Deployment — which `.env` (and so which database) commands and the status bar use. */
export function registerSelectDeployment(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.selectDeployment, async () => {
    const list = await ctx.deployments.all();
    if (list.length === 0) {
      await ctx.deploymentFor(undefined); // says that none was found
      return undefined;
    }
    const active = await ctx.deployments.active();
    const id = await ctx.ui.pick(
      'deployment',
      list.map((d) => ({ id: d.envFile, label: d.label, description: d.envFile === active?.envFile ? t('selected') : undefined, detail: d.envFile })),
      { title: t('Select GPT-Load Deployment'), placeHolder: t('The .env whose database the commands and the status bar use') },
    );
    const chosen = list.find((d) => d.envFile === id);
    if (!chosen) return undefined;
    await ctx.deployments.setActive(chosen);
    return chosen.envFile;
  });
}
