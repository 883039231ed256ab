/**
 * How the operator restarts GPT-Load after a change: the daemon detects the deployment beside the
 * `.env` (server/keystore/migrate/env.ts `restartHint`) and says it in one sentence; the client shows
 * that sentence and offers "Copy Restart Command" only when a command was detected.
 */
import type { RestartAdviceRequest } from '../../shared/protocol';
import type { Ctx } from './context';
import type { Deployment } from './deployments';
import { t } from './l10n';
import { protocol } from './protocol';

export type RestartAdvice = RestartAdviceRequest.Result;

export async function restartAdvice(ctx: Ctx, deployment: Deployment): Promise<RestartAdvice> {
  const p = await protocol();
  return ctx.daemon.request(p.RestartAdviceRequest.type, { deployment: await ctx.ref(deployment) }, { needsTrust: true });
}

/** The Copy button for a notification that ends with restart advice (none when no command is known). */
export function copyRestartAction(advice: { command: string | null }): Array<{ id: 'copyCommand'; title: string }> {
  return advice.command ? [{ id: 'copyCommand', title: t('Copy Restart Command') }] : [];
}

/** Copies the restart command when the user picked the Copy button. */
export async function copyRestartIfAsked(ctx: Ctx, answer: string | undefined, advice: { command: string | null }): Promise<void> {
  if (answer === 'copyCommand' && advice.command) await ctx.clipboard.writeText(advice.command);
}
