import { Ctx } from '../context';
import { shortDate } from '../describe';
import { Cancelled } from '../errors';
import { copyLabel } from '../keyCopies';
import { t } from '../l10n';
import { CommandIds } from '../../../shared/commands';

/** GPT-Load: Forget a Copy of ENCRYPTION_KEY — removes one saved copy (label and key) after a modal confirmation. */
export function registerForgetKeyCopy(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.forgetKeyCopy, async (id?: string) => {
    const copies = ctx.keyCopies.list();
    if (copies.length === 0) {
      void ctx.ui.notify('noKeyCopies', t('No copies of ENCRYPTION_KEY are saved.'));
      return undefined;
    }
    const chosen =
      id ??
      Ctx.required(
        await ctx.ui.pick(
          'keyCopyToForget',
          copies.map((c) => ({ id: c.id, label: copyLabel(c), description: c.fingerprint, detail: c.lastCheck ? t('last checked {0}', shortDate(c.lastCheck.at)) : t('never checked') })),
          { title: t('Forget a Copy of ENCRYPTION_KEY') },
        ),
      );
    const copy = copies.find((c) => c.id === chosen);
    if (!copy) return undefined;
    const go = await ctx.ui.ask('forgetKeyCopy', t('Forget the copy {0} (fingerprint {1})?', copyLabel(copy), copy.fingerprint), {
      severity: 'warning',
      detail: t('Backups and data encrypted with this key cannot be opened without another copy of it.'),
      actions: [{ id: 'forget', title: t('Forget') }],
    });
    if (go !== 'forget') throw new Cancelled();
    await ctx.keyCopies.remove(copy.id);
    ctx.output.info(`forgot ENCRYPTION_KEY copy ${copy.fingerprint} of ${copy.deployment}`);
    return copy.id;
  });
}
