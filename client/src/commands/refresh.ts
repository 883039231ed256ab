import type { Ctx } from '../context';
import { CommandIds } from '../../../shared/commands';

/** GPT-Load: Refresh — reloads deployments, the key explorer and the status bar. */
export function registerRefresh(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.refresh, () => ctx.fireDataChanged());
}
