import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { KeyCopyCheck } from '../../../shared/protocol';
import { backupLabel } from '../backups';
import { Ctx, type DeploymentArg } from '../context';
import type { Deployment } from '../deployments';
import { shortDate } from '../describe';
import { Cancelled } from '../errors';
import { copyLabel, type KeyCopy } from '../keyCopies';
import { validateKey } from '../keyPrompt';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

const PASTE = 'paste';

/** One key checked: how it is named, its fingerprint and what it opens — never the key. */
interface KeyCheckLine {
  label: string;
  /** The saved copy it is; undefined for the pasted key. */
  copyId?: string;
  fingerprint: string;
  /** Opens the database's encrypted keys; null when there were none to try, or the copy is gone. */
  works: boolean | null;
  matchesEnv: boolean;
  /** Labels of the backups that need exactly this key. */
  backups: string[];
  verdict: string;
}

export interface KeyCheckReport {
  deployment: string;
  sampled: number;
  envFingerprint: string;
  lines: KeyCheckLine[];
}

function verdictOf(check: KeyCopyCheck, sampled: number, backups: string[]): string {
  const parts: string[] = [];
  if (sampled > 0) {
    parts.push(check.works ? t('works with the database') : check.decrypted > 0 ? t('decrypts only {0} of {1} sampled keys', check.decrypted, sampled) : t('does not decrypt'));
  } else {
    parts.push(check.matchesEnv ? t('same key as in .env') : t('not the key in .env'));
  }
  if (backups.length > 0) parts.push(t('matches backups {0}', backups.join(', ')));
  return parts.join('; ');
}

function render(report: KeyCheckReport, unreadable: string[]): string {
  const lines = [
    `# ${t('Key backups')} — ${report.deployment}`,
    '',
    report.sampled > 0
      ? t('Each key was tried on the same {0} encrypted keys of the database.', report.sampled)
      : t('The database holds no encrypted keys: the keys were compared with the .env\'s and the backups\' by fingerprint only.'),
    '',
    `- ${t('ENCRYPTION_KEY in .env')}: ${report.envFingerprint === 'plaintext' ? t('not set') : t('fingerprint {0}', report.envFingerprint)}`,
    '',
    `| ${t('Key')} | ${t('Fingerprint')} | ${t('Verdict')} |`,
    '|---|---|---|',
    ...report.lines.map((l) => `| ${l.label} | ${l.fingerprint} | ${l.verdict} |`),
  ];
  if (unreadable.length > 0) lines.push('', t('Backups that could not be read: {0}', unreadable.join(', ')));
  return `${lines.join('\n')}\n`;
}

/** The keys to check: the chosen saved copies of the deployment and, on request, a pasted key. */
async function candidates(ctx: Ctx, deployment: Deployment): Promise<{ keys: Array<{ label: string; value: string; copy?: KeyCopy }>; missing: KeyCopy[] }> {
  const copies = ctx.keyCopies.list(deployment.envFile);
  const chosen =
    copies.length === 0
      ? [PASTE]
      : Ctx.required(
          await ctx.ui.pickMany(
            'keyCandidates',
            [
              ...copies.map((c) => ({
                id: c.id,
                label: copyLabel(c),
                description: c.fingerprint,
                detail: c.lastCheck ? t('last checked {0}: {1}', shortDate(c.lastCheck.at), c.lastCheck.works === false ? t('did not work') : t('worked')) : t('never checked'),
                picked: true,
              })),
              { id: PASTE, label: t('Also check a key from your password manager…') },
            ],
            { title: t('Check Key Backups — {0}', deployment.label) },
          ),
        );
  const keys: Array<{ label: string; value: string; copy?: KeyCopy }> = [];
  const missing: KeyCopy[] = [];
  for (const copy of copies.filter((c) => chosen.includes(c.id))) {
    const value = await ctx.keyCopies.value(copy);
    if (value === undefined) missing.push(copy);
    else keys.push({ label: copyLabel(copy), value, copy });
  }
  if (chosen.includes(PASTE)) {
    const value = Ctx.required(
      await ctx.ui.input('pastedKey', {
        title: t('Check Key Backups — {0}', deployment.label),
        prompt: t('Paste ENCRYPTION_KEY from your password manager. It is used for this check only: never stored, shown or logged.'),
        password: true,
        validate: validateKey,
      }),
    );
    keys.push({ label: t('the pasted key'), value });
  }
  return { keys, missing };
}

/**
 * GPT-Load: Check Key Backups — are the saved copies of ENCRYPTION_KEY, and a key pasted from a
 * password manager, still the key? The daemon tries each on a sample of the database's encrypted
 * keys and compares its fingerprint with the `.env`'s and with the key each backup needs. Each key
 * is shown by name and fingerprint with its verdict, never itself.
 */
export function registerCheckKeyBackups(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.checkKeyBackups, async (arg?: DeploymentArg): Promise<KeyCheckReport | undefined> => {
    ctx.requireTrust();
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const { keys, missing } = await candidates(ctx, deployment);
    if (keys.length === 0 && missing.length === 0) throw new Cancelled();
    const entries = (await ctx.backups.list(deployment)).filter((e) => e.info);
    const { KeyBackupsRequest } = await protocol();
    const result =
      keys.length === 0
        ? undefined
        : await ctx.daemon.request(
            KeyBackupsRequest.type,
            { deployment: await ctx.ref(deployment), candidates: keys.map((k) => k.value), backups: entries.map((e) => e.path) },
            { needsTrust: true, progress: t('Checking the copies of ENCRYPTION_KEY of {0}', deployment.label) },
          );
    const sampled = result?.sampled ?? 0;
    const lines: KeyCheckLine[] = (result?.results ?? []).map((check) => {
      const key = keys[check.index];
      const backups = (check.matchesBackups ?? []).map((path) => {
        const entry = entries.find((e) => e.path === path);
        return entry ? backupLabel(entry) : basename(path);
      });
      return {
        label: key.label,
        copyId: key.copy?.id,
        fingerprint: check.fingerprint,
        works: sampled > 0 ? check.works : null,
        matchesEnv: check.matchesEnv,
        backups,
        verdict: verdictOf(check, sampled, backups),
      };
    });
    for (const copy of missing) {
      lines.push({ label: copyLabel(copy), copyId: copy.id, fingerprint: copy.fingerprint, works: null, matchesEnv: false, backups: [], verdict: t('missing from this machine\'s secret storage') });
    }
    await ctx.keyCopies.recordCheck(
      deployment.envFile,
      lines.filter((l) => l.copyId).map((l) => ({ id: l.copyId!, works: l.works })),
    );
    const report: KeyCheckReport = { deployment: deployment.label, sampled, envFingerprint: result?.envFingerprint ?? '', lines };
    ctx.output.info(`checked ${lines.length} ENCRYPTION_KEY copies of ${deployment.label}: ${lines.map((l) => `${l.fingerprint} ${l.works === null ? '-' : l.works ? 'works' : 'fails'}`).join(', ')}`);

    const working = lines.filter((l) => l.works).length;
    const message =
      sampled > 0 ? t('{0} of {1} keys work with the database of {2}.', working, lines.length, deployment.label) : t('Checked {0} keys of {1} by fingerprint: the database holds no encrypted keys.', lines.length, deployment.label);
    const pasted = keys.find((k) => !k.copy);
    const pastedLine = lines.find((l) => !l.copyId);
    const offerSave = pastedLine?.works === true && !ctx.keyCopies.list(deployment.envFile).some((c) => c.fingerprint === pastedLine.fingerprint);
    void ctx.ui
      .notify('keyBackupsChecked', message, {
        severity: sampled > 0 && working === 0 ? 'error' : lines.some((l) => l.works === false || l.works === null) ? 'warning' : 'info',
        detail: lines.map((l) => `${l.label} (${l.fingerprint}): ${l.verdict}.`).join(' '),
        actions: [{ id: 'details', title: t('Show Details') }, ...(offerSave ? [{ id: 'savePasted', title: t('Save the Pasted Key') }] : [])],
      })
      .then(async (answer) => {
        if (answer === 'details') await ctx.reports.show(t('Key backup check — {0}', deployment.label), deployment.envFile, render(report, result?.unreadableBackups ?? []));
        else if (answer === 'savePasted' && pasted) {
          const { copy } = await ctx.keyCopies.save(deployment, pasted.value, 'typed');
          void ctx.ui.notify('keyCopySaved', t('A copy of ENCRYPTION_KEY (fingerprint {0}) of {1} is now kept in VS Code\'s secret storage.', copy.fingerprint, deployment.label));
        }
      });
    return report;
  });
}

/** Reminds, once per session, of deployments whose key copies went unchecked for gptLoad.keyBackups.reminderDays. */
export async function remindKeyBackupCheck(ctx: Ctx, now = Date.now()): Promise<string[]> {
  const days = ctx.config.keyCheckReminderDays;
  if (!days || !ctx.trusted) return [];
  const known = new Set((await ctx.deployments.all()).map((d) => d.envFile));
  const due = ctx.keyCopies.overdue(days, now).filter((d) => known.has(d.envFile));
  for (const d of due) {
    const deployment = await ctx.deployments.forEnvFile(d.envFile);
    const message = d.checked
      ? t('The copies of ENCRYPTION_KEY of {0} were last checked {1} days ago.', deployment.label, d.days)
      : t('The copies of ENCRYPTION_KEY of {0} were saved {1} days ago and never checked.', deployment.label, d.days);
    void ctx.ui
      .notify('keyCheckDue', message, { severity: 'warning', actions: [{ id: 'check', title: t('Check Now') }] })
      .then((answer) => answer === 'check' && vscode.commands.executeCommand(CommandIds.checkKeyBackups, deployment));
  }
  return due.map((d) => d.envFile);
}
