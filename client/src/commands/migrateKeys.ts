import { Ctx, type DeploymentArg } from '../context';
import { MigrateWizard } from '../wizard/migrateWizard';
import { CommandIds } from '../../../shared/commands';

/**
 * GPT-Load: Migrate Keys — enable, change or disable encryption of the stored keys (the wizard in
 * ../wizard/migrateWizard.ts). Also the target of the daemon's code actions (argument: the `.env` URI).
 */
export function registerMigrateKeys(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.migrateKeys, async (arg?: DeploymentArg) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    return new MigrateWizard(ctx, deployment).run();
  });
}
