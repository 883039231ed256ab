/**
 * Asking for an ENCRYPTION_KEY other than the `.env`'s (the key a backup or the data is under): the
 * saved copy with the needed fingerprint is taken without asking; otherwise the user picks a saved
 * copy or pastes a key from their password manager. The key goes into requests only: it is never
 * shown, stored or logged here.
 */
import { Ctx } from './context';
import type { Deployment } from './deployments';
import { Cancelled } from './errors';
import { copyLabel, type KeyCopy } from './keyCopies';
import { t } from './l10n';

export interface ChosenKey {
  value: string;
  fingerprint: string;
  /** How the key is named to the user: a copy's label, or "the pasted key". */
  label: string;
  copy?: KeyCopy;
}

const PASTE = 'paste';

/** A key typed or pasted by the user (empty and padded values refused). */
export function validateKey(value: string): string | undefined {
  if (value === '') return t('Enter the key.');
  return value !== value.trim() ? t('No spaces at either end.') : undefined;
}

/**
 * Steps: `step` (pick a copy or paste), `${step}Value` (the pasted key), `${step}Mismatch` (the key
 * has another fingerprint than `needed`). Throws Cancelled when the user gives up.
 */
export async function askForKey(ctx: Ctx, deployment: Deployment, options: { step: string; title: string; needed?: string | null; back?: boolean }): Promise<ChosenKey> {
  const copies = ctx.keyCopies.ordered(deployment.envFile);
  const { needed } = options;
  if (needed) {
    for (const copy of copies.filter((c) => c.fingerprint === needed)) {
      const value = await ctx.keyCopies.value(copy);
      if (value !== undefined) return { value, fingerprint: copy.fingerprint, label: copyLabel(copy), copy };
    }
  }
  for (;;) {
    const choices = [
      ...copies.map((c) => ({ id: c.id, label: copyLabel(c), description: c.fingerprint, detail: t('saved copy of ENCRYPTION_KEY') })),
      { id: PASTE, label: t('Paste a key from your password manager…') },
    ];
    const id =
      copies.length === 0
        ? PASTE
        : Ctx.required(await ctx.ui.pick(options.step, choices, { title: options.title, placeHolder: needed ? t('The key with fingerprint {0} is needed.', needed) : undefined, back: options.back }));
    let chosen: ChosenKey | undefined;
    if (id === PASTE) {
      const value = Ctx.required(
        await ctx.ui.input(`${options.step}Value`, {
          title: options.title,
          prompt: t('Used for this request only: never stored, shown or logged.'),
          password: true,
          validate: validateKey,
          back: options.back,
        }),
      );
      chosen = { value, fingerprint: await ctx.keyCopies.fingerprintOf(value), label: t('the pasted key') };
    } else {
      const copy = copies.find((c) => c.id === id)!;
      const value = await ctx.keyCopies.value(copy);
      if (value === undefined) {
        await ctx.ui.notify('keyCopyMissing', t('The copy {0} is no longer in this machine\'s secret storage.', copyLabel(copy)), { severity: 'warning' });
        continue;
      }
      chosen = { value, fingerprint: copy.fingerprint, label: copyLabel(copy), copy };
    }
    if (!needed || chosen.fingerprint === needed) return chosen;
    const retry = await ctx.ui.ask(`${options.step}Mismatch`, t('This key has fingerprint {0}; the key with fingerprint {1} is needed.', chosen.fingerprint, needed), {
      severity: 'error',
      actions: [{ id: 'retry', title: t('Try Another Key') }],
    });
    if (retry !== 'retry') throw new Cancelled();
  }
}
