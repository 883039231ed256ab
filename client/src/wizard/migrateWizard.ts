/**
 * The Migrate Keys wizard, a multi-step input ("Step n/m" in every title, Back on every step after
 * the first) from the database's current state to a safely switched ENCRYPTION_KEY:
 *   action     what the state allows: enable, change, disable, or put a found key back into the `.env`;
 *   sourceKey  the data's key when the `.env` lacks it: a saved copy (../keyCopies.ts) or typed, checked;
 *   newKey     generated, the one already in the `.env`, or typed; GPT-Load's warnings on a weak key
 *              and an explicit "use it anyway" (the daemon judges it: SecretAssessRequest);
 *   saveKey    where to keep the new key (SecretStorage, clipboard) — saved at once;
 *   showKey    a generated key shown once, with Copy; confirmLast4 then proves it was kept;
 *   backup     a verified backup first, or the user's own;
 *   confirm    the question with the counts.
 * Nothing in the database or the `.env` changes before "Migrate". Then the daemon checks that GPT-Load
 * is stopped ("Check again"), the backup is taken and checked, and the migration runs under a
 * cancellable progress notification. Cancelling anywhere says what was left (a backup's path) and
 * removes what only this run needed (the unused key copy, the key on the clipboard). Every question
 * goes through `ctx.ui` with a step id, which the extension tests answer.
 */
import { asSentence } from '../../../shared/format';
import type { DeploymentRef, MigrationSummary, StatusReport } from '../../../shared/protocol';
import { Cancelled, isCancellation, messageOf, retryWhileServiceRuns, waitUntilServiceStopped } from '../errors';
import { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { describeState } from '../describe';
import { askForKey } from '../keyPrompt';
import { num, t, tn } from '../l10n';
import { protocol, type Protocol } from '../protocol';
import { copyRestartAction, copyRestartIfAsked, restartAdvice } from '../restartHint';
import { GoBack, isGoBack, type Choice } from '../ui';

export type MigrateAction = 'enable' | 'change' | 'disable' | 'restoreKey';

export interface MigrateOutcome {
  action: MigrateAction;
  summary?: MigrationSummary;
  /** Path of the verified backup taken first, when one was. */
  backup?: string;
}

type KeySource = 'generate' | 'env' | 'type';

/** One step of the wizard: asked when it applies; `undo` runs when the user goes back past it. */
interface Step {
  id: string;
  applies(): boolean;
  run(title: (text: string) => string, back: boolean): Promise<void>;
  undo?(): Promise<void>;
}

const required = Ctx.required;

/** What the state allows, best first. */
function actionsFor(report: StatusReport): MigrateAction[] {
  switch (report.state) {
    case 'mixed':
      return [];
    case 'key-missing':
      return ['restoreKey', 'change', 'disable'];
    case 'wrong-key':
      return ['restoreKey', 'change', 'disable'];
    case 'needs-migration':
    case 'not-encrypted':
      return ['enable'];
    case 'ok':
    case 'empty':
      return report.encryptionEnabled ? ['change', 'disable'] : ['enable'];
  }
}

function actionChoice(action: MigrateAction, report: StatusReport): Choice<MigrateAction> {
  switch (action) {
    case 'enable':
      return {
        id: action,
        label: t('Enable encryption'),
        detail: report.state === 'needs-migration' ? t('Encrypt the {0} plaintext keys (ENCRYPTION_KEY is set, the data is not encrypted)', num(report.apiKeys.plaintext)) : t('Encrypt the {0} stored keys with a new ENCRYPTION_KEY', num(report.apiKeys.total)),
      };
    case 'change':
      return { id: action, label: t('Change the encryption key'), detail: t('Re-encrypt the {0} stored keys with a new ENCRYPTION_KEY', num(report.apiKeys.total)) };
    case 'disable':
      return { id: action, label: t('Disable encryption'), detail: t('Decrypt the stored keys and remove ENCRYPTION_KEY (keys are then stored in plaintext)') };
    case 'restoreKey':
      return { id: action, label: t('Put the right key back into .env'), detail: t('The data is encrypted with a key the .env does not have: find it and write it back, nothing is re-encrypted') };
  }
}

export class MigrateWizard {
  private ref!: DeploymentRef;
  private p!: Protocol;
  private report!: StatusReport;
  private action: MigrateAction | undefined;
  /** The key the data is encrypted with now ('' = plaintext; undefined = the .env's, which works). */
  private fromKey: string | undefined;
  private toKey = '';
  private toKeySource: KeySource | undefined;
  /** The user chose "Use it anyway" for a key GPT-Load warns about: the daemon is told so (allowWeakKey). */
  private weakKeyAccepted = false;
  private takeBackup = true;
  /** Left by this run: a SecretStorage copy made for the new key, the key put on the clipboard, a backup. */
  private savedCopyId: string | undefined;
  private copiedKey: string | undefined;
  private backupPath: string | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly deployment: Deployment,
  ) {}

  private get ui() {
    return this.ctx.ui;
  }

  async run(): Promise<MigrateOutcome | undefined> {
    this.ctx.requireTrust();
    this.ref = await this.ctx.ref(this.deployment);
    this.p = await protocol();
    const report = (this.report = await this.ctx.daemon.request(this.p.StatusRequest.type, { deployment: this.ref, skipLogs: true }, { needsTrust: true, progress: t('Checking the keys of {0}', this.deployment.label) }));
    this.ctx.fireStatus(this.deployment, report);

    if (actionsFor(report).length === 0) {
      await this.ui.ask('mixedState', t('The stored keys of {0} are in a mixed state; migrating now could make it worse.', this.deployment.label), {
        severity: 'error',
        detail: t('{0} plaintext, {1} encrypted with the .env key, {2} undecryptable. Restore a backup, or run "GPT-Load: Show Encryption Status" to see which rows.', num(report.apiKeys.plaintext), num(report.apiKeys.encrypted), num(report.apiKeys.unknown)),
        actions: [],
      });
      return undefined;
    }
    const dataEncrypted = report.state === 'key-missing' || report.state === 'wrong-key' || (report.encryptionEnabled && report.state === 'ok');
    this.fromKey = dataEncrypted ? undefined : '';

    try {
      await this.walk(this.steps());
      const action = required(this.action);
      if (action === 'restoreKey') return await this.restoreKey(required(this.fromKey));
      // A backup taken while GPT-Load writes is stale at once, and the migration would refuse anyway.
      await waitUntilServiceStopped(this.ui, () => this.ctx.daemon.request(this.p.ServiceCheckRequest.type, { deployment: this.ref }, { needsTrust: true }));
      if (this.takeBackup) this.backupPath = await this.backup();
      const summary = await this.migrate();
      // Every row is now as the new key says: no need for another pass over the table to know it.
      this.ctx.fireStatus(this.deployment, { ...report, state: 'ok', encryptionEnabled: this.toKey !== '', keyFingerprint: summary.toFingerprint });
      this.ctx.fireDataChanged(this.deployment);
      void this.reportSuccess(summary);
      return { action, summary, backup: this.backupPath };
    } catch (err) {
      if (err instanceof Cancelled || isCancellation(err)) {
        await this.reportCancelled();
        throw new Cancelled();
      }
      await this.removeLeftovers();
      throw this.action === 'restoreKey' ? err : new MigrationFailed(err);
    }
  }

  /** Runs the steps that apply, in order; Back returns to the previous one asked (undoing what it did). */
  private async walk(steps: Step[]): Promise<void> {
    const asked: number[] = [];
    let i = 0;
    while (i < steps.length) {
      const step = steps[i];
      if (!step.applies()) {
        i++;
        continue;
      }
      const applicable = steps.filter((s) => s.applies());
      const n = applicable.indexOf(step) + 1;
      try {
        await step.run((text) => t('Step {0}/{1}: {2}', n, applicable.length, text), asked.length > 0);
        asked.push(i);
        i++;
      } catch (err) {
        if (!isGoBack(err)) throw err;
        const previous = asked.pop();
        if (previous === undefined) continue;
        await steps[previous].undo?.();
        i = previous;
      }
    }
  }

  private steps(): Step[] {
    const report = this.report;
    // Before the action is chosen, count the longest path (a generated new key).
    const migrating = () => this.action === undefined || this.action === 'enable' || this.action === 'change';
    const generated = () => migrating() && (this.toKeySource === undefined || this.toKeySource === 'generate');
    return [
      {
        id: 'action',
        applies: () => true,
        run: async (title, back) => {
          const state = describeState(report.state, report.encryptionEnabled).label;
          this.action = required(
            await this.ui.pick('action', actionsFor(report).map((a) => actionChoice(a, report)), {
              title: title(t('Migrate Keys — {0}', this.deployment.label)),
              placeHolder: t('Now: {0} ({1} keys, {2})', state, num(report.apiKeys.total), report.target),
              back,
            }),
          );
        },
      },
      {
        id: 'sourceKey',
        applies: () => report.state === 'key-missing' || report.state === 'wrong-key',
        run: async (title, back) => {
          this.fromKey = await this.askSourceKey(title(t('Which key are the stored keys encrypted with now?')), back);
        },
      },
      {
        id: 'newKey',
        applies: migrating,
        run: async (title, back) => this.askNewKey(title(t('New ENCRYPTION_KEY')), back),
      },
      {
        id: 'saveKey',
        applies: migrating,
        run: async (title, back) => this.saveNewKey(title(t('Save the new ENCRYPTION_KEY — without it the encrypted keys cannot be recovered')), back),
        undo: async () => void (await this.removeLeftovers()),
      },
      {
        id: 'showKey',
        applies: generated,
        run: async (title, back) => this.showNewKey(title(t('Your new ENCRYPTION_KEY (shown once)')), back),
      },
      {
        id: 'confirmLast4',
        applies: generated,
        run: async (title, back) => {
          const last4 = this.toKey.slice(-4);
          required(
            await this.ui.input('confirmLast4', {
              title: title(t('Confirm you saved the new key')),
              prompt: t('Type the last 4 characters of the new ENCRYPTION_KEY.'),
              validate: (v) => (v === last4 ? undefined : t('That is not how the key ends. Look at your saved copy.')),
              back,
            }),
          );
        },
      },
      {
        id: 'backup',
        applies: () => this.action !== 'restoreKey',
        run: async (title, back) => {
          const choice = required(
            await this.ui.pick<'backup' | 'skip'>(
              'backup',
              [
                { id: 'backup', label: t('Back up the keys first (recommended)'), detail: t('Written beside the .env and checked before anything changes') },
                { id: 'skip', label: t('Skip: I have a current backup of the database') },
              ],
              { title: title(t('Backup')), back },
            ),
          );
          this.takeBackup = choice === 'backup';
        },
      },
      {
        id: 'confirm',
        applies: () => this.action !== 'restoreKey',
        run: async () => {
          const go = await this.ui.ask('confirm', this.confirmText(required(this.action)), {
            severity: 'warning',
            detail: t('Stop GPT-Load first. Stored keys and request logs are rewritten in one switch; ENCRYPTION_KEY in {0} is updated afterwards. Then restart GPT-Load.', this.deployment.envFile),
            actions: [
              { id: 'migrate', title: t('Migrate') },
              { id: 'back', title: t('Back') },
            ],
          });
          if (go === 'back') throw new GoBack();
          required(go);
        },
      },
    ];
  }

  private confirmText(action: MigrateAction): string {
    const count = this.report.apiKeys.total;
    switch (action) {
      case 'enable':
        return tn(count, 'Encrypt {0} key of {1}?', 'Encrypt {0} keys of {1}?', this.deployment.label);
      case 'change':
        return tn(count, 'Re-encrypt {0} key of {1} with the new key?', 'Re-encrypt {0} keys of {1} with the new key?', this.deployment.label);
      default:
        return tn(count, 'Decrypt {0} key of {1} and store it in plaintext?', 'Decrypt {0} keys of {1} and store them in plaintext?', this.deployment.label);
    }
  }

  /** Whether `key` opens the stored keys (checked by the daemon on a sample, used for that request only). */
  private async keyWorks(key: string): Promise<boolean> {
    const result = await this.ctx.daemon.request(this.p.KeyBackupsRequest.type, { deployment: this.ref, candidates: [key] }, { needsTrust: true });
    return result.results[0]?.works === true;
  }

  /** The data's current key when the `.env` does not have it: a saved copy, else typed — checked against the data. */
  private async askSourceKey(title: string, back: boolean): Promise<string> {
    for (;;) {
      const key = await askForKey(this.ctx, this.deployment, { step: 'sourceKey', title, back });
      if (await this.keyWorks(key.value)) return key.value;
      const retry = await this.ui.ask('sourceKeyWrong', t('This key does not decrypt the stored keys.'), { severity: 'error', actions: [{ id: 'retry', title: t('Try Another Key') }] });
      if (retry !== 'retry') throw new Cancelled();
    }
  }

  /** The new key: generated, the `.env`'s, or typed; a weak one only with an explicit "use it anyway". Back inside returns to the method. */
  private async askNewKey(title: string, back: boolean): Promise<void> {
    const report = this.report;
    const choices: Choice<KeySource>[] = [{ id: 'generate', label: t('Generate a strong key'), detail: t('48 random characters, safe in .env and Docker Compose') }];
    if (report.state === 'needs-migration') choices.push({ id: 'env', label: t('Use the ENCRYPTION_KEY already in .env (fingerprint {0})', report.keyFingerprint) });
    choices.push({ id: 'type', label: t('Type a key') });
    for (;;) {
      const method = required(await this.ui.pick('newKeyMethod', choices, { title, back }));
      try {
        const chosen = await this.newKeyBy(method, title);
        if (chosen === undefined) continue;
        this.toKey = chosen.key;
        this.toKeySource = method;
        this.weakKeyAccepted = chosen.weak;
        return;
      } catch (err) {
        if (!isGoBack(err)) throw err;
      }
    }
  }

  /** The key `method` gives, judged by the daemon (weak: accepted despite warnings); undefined to ask for the method again. */
  private async newKeyBy(method: KeySource, title: string): Promise<{ key: string; weak: boolean } | undefined> {
    if (method === 'generate') return { key: (await this.ctx.daemon.request(this.p.GenerateSecretRequest.type, { name: 'ENCRYPTION_KEY' }, { needsTrust: true })).value, weak: false };
    let key: string;
    if (method === 'env') {
      const env = await this.ctx.daemon.request(this.p.EnvReadRequest.type, { envFile: this.deployment.envFile, reveal: 'ENCRYPTION_KEY' }, { needsTrust: true });
      key = required(env.revealed?.value ?? undefined);
    } else {
      key = required(
        await this.ui.input('newKeyValue', {
          title,
          prompt: t('At least 16 characters; 32 or more recommended.'),
          password: true,
          validate: (v) => (v === '' ? t('Enter the key.') : v !== v.trim() ? t('No spaces at either end.') : v === this.fromKey ? t('The new key is the current key.') : undefined),
          back: true,
        }),
      );
    }
    const { warnings } = await this.ctx.daemon.request(this.p.SecretAssessRequest.type, { name: 'ENCRYPTION_KEY', value: key, asNewEncryptionKey: true }, { needsTrust: true });
    if (warnings.length === 0) return { key, weak: false };
    const answer = required(
      await this.ui.pick<'use' | 'other'>(
        'weakKey',
        [
          { id: 'other', label: t('Choose another key'), detail: method === 'env' ? t('Generate one or type one; the .env gets it after the migration') : undefined },
          { id: 'use', label: t('Use it anyway'), detail: t('GPT-Load warns about this key: {0}', warnings.join(' ')) },
        ],
        { title: `${title} — ${t('This key is weak')}`, placeHolder: warnings.join(' '), back: true },
      ),
    );
    return answer === 'use' ? { key, weak: true } : undefined;
  }

  /** Saves the new key where the user chose, before anything asks about it. */
  private async saveNewKey(title: string, back: boolean): Promise<void> {
    const where = required(
      await this.ui.pickMany<'clipboard' | 'secretStorage'>(
        'saveKey',
        [
          { id: 'secretStorage', label: t('Store it in VS Code\'s secret storage'), picked: true },
          { id: 'clipboard', label: t('Copy it to the clipboard (for your password manager)'), detail: this.ctx.clipboard.clearNote() },
        ],
        { title, back },
      ),
    );
    if (where.includes('secretStorage')) {
      const { copy, existed } = await this.ctx.keyCopies.save(this.deployment, this.toKey, 'migration');
      if (!existed) this.savedCopyId = copy.id;
    }
    if (where.includes('clipboard')) await this.copyNewKey();
  }

  private async copyNewKey(): Promise<void> {
    await this.ctx.clipboard.copySecret(this.toKey);
    this.copiedKey = this.toKey;
  }

  /** A generated key, shown once with Copy, before the user is asked how it ends. */
  private async showNewKey(title: string, back: boolean): Promise<void> {
    for (;;) {
      const answer = required(
        await this.ui.pick<'copy' | 'saved'>(
          'showKey',
          [
            { id: 'copy', label: `$(copy) ${t('Copy')}`, description: this.toKey },
            { id: 'saved', label: `$(check) ${t('I have saved it')}`, detail: this.savedCopyId ? t('A copy is also in VS Code\'s secret storage.') : undefined },
          ],
          { title, placeHolder: t('Keep this key in your password manager: without it the encrypted keys cannot be recovered.'), back },
        ),
      );
      if (answer === 'saved') return;
      await this.copyNewKey();
      void this.ui.notify('keyCopied', this.ctx.clipboard.copiedMessage(t('The new ENCRYPTION_KEY was copied.')));
    }
  }

  /** Removes what only this run needed: the new key's SecretStorage copy, the key on the clipboard. */
  private async removeLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    if (this.savedCopyId) {
      await this.ctx.keyCopies.remove(this.savedCopyId);
      this.savedCopyId = undefined;
      removed.push(t('The unused copy of the new key was removed from secret storage.'));
    }
    if (this.copiedKey !== undefined) {
      if (await this.ctx.clipboard.clearIf(this.copiedKey)) removed.push(t('The new key was cleared from the clipboard.'));
      this.copiedKey = undefined;
    }
    return removed;
  }

  private async reportCancelled(): Promise<void> {
    const removed = await this.removeLeftovers();
    const message = [
      t('Migrate Keys was cancelled: the stored keys and {0} are unchanged.', this.deployment.envFile),
      this.backupPath ? t('The backup taken for it is kept: {0}', this.backupPath) : undefined,
      ...removed,
    ]
      .filter(Boolean)
      .join(' ');
    void this.ui.notify('migrateCancelled', message);
  }

  /** A verified backup of the state before. Returns its path. */
  private async backup(): Promise<string> {
    const info = await this.ctx.daemon.request(this.p.BackupCreateRequest.type, { deployment: this.ref }, { needsTrust: true, progress: t('Backing up {0}', this.deployment.label) });
    this.backupPath = info.path;
    this.ctx.backups.changed(this.deployment);
    const check = await this.ctx.daemon.request(
      this.p.BackupCheckRequest.type,
      { path: info.path, ...(this.fromKey ? { encryptionKey: this.fromKey } : { deployment: this.ref }) },
      { needsTrust: true, progress: t('Checking the backup') },
    );
    if (!check.valid || check.decryptsWithKey === false) {
      throw new Error(t('The backup {0} did not verify: {1}', info.path, check.problems.join('; ') || t('the current key does not open it')));
    }
    return info.path;
  }

  /** Sends the migration; while GPT-Load is running, says so and offers "Check again". */
  private migrate(): Promise<MigrationSummary> {
    const redisHost = this.ctx.redisHost(this.deployment);
    return retryWhileServiceRuns(this.ui, () =>
      this.ctx.daemon.request(
        this.p.MigrateRequest.type,
        {
          deployment: this.ref,
          ...(this.fromKey !== undefined ? { fromKey: this.fromKey } : {}),
          toKey: this.toKey,
          ...(this.weakKeyAccepted ? { allowWeakKey: true } : {}),
          updateEnv: true,
          // The wizard took (and checked) its own backup, or the user opted out.
          backup: false,
          ...(redisHost ? { redisHost } : {}),
        },
        { needsTrust: true, progress: t('Migrating the keys of {0}', this.deployment.label) },
      ),
    );
  }

  /** The data's key was found (typed or stored): write it into the `.env`, nothing else changes. */
  private async restoreKey(key: string): Promise<MigrateOutcome> {
    await this.ctx.daemon.request(this.p.EnvWriteRequest.type, { envFile: this.deployment.envFile, key: 'ENCRYPTION_KEY', value: key }, { needsTrust: true });
    this.ctx.fireDataChanged(this.deployment);
    const advice = await restartAdvice(this.ctx, this.deployment);
    void this.ui
      .notify('keyRestored', `${t('ENCRYPTION_KEY in {0} now opens the stored keys.', this.deployment.label)} ${advice.advice}.`, { actions: copyRestartAction(advice) })
      .then((answer) => copyRestartIfAsked(this.ctx, answer, advice));
    return { action: 'restoreKey' };
  }

  private async reportSuccess(summary: MigrationSummary): Promise<void> {
    const what =
      summary.mode === 'disable'
        ? t('Decrypted {0} keys and {1} request logs of {2}.', num(summary.apiKeys), num(summary.requestLogs), this.deployment.label)
        : t('Encrypted {0} keys and {1} request logs of {2}.', num(summary.apiKeys), num(summary.requestLogs), this.deployment.label);
    // The daemon's notes end with the restart sentence for this deployment.
    const message = [what, this.backupPath ? t('The state before is backed up in {0}.', this.backupPath) : undefined, ...summary.notes.map(asSentence)].filter(Boolean).join(' ');
    this.ctx.output.info(`migration ${summary.mode} of ${this.deployment.label}: ${summary.apiKeys} keys, ${summary.requestLogs} logs, ${summary.durationMs} ms, ${summary.fromFingerprint} → ${summary.toFingerprint}`);
    const advice = { command: summary.restartCommand ?? null };
    const answer = await this.ui.notify('migrated', message, { actions: copyRestartAction(advice) });
    await copyRestartIfAsked(this.ctx, answer, advice);
  }
}

/** A migration that failed: the daemon's reason, and that nothing changed. */
class MigrationFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(t('Migration failed: {0} Nothing was changed: the stored keys and the .env are as before.', messageOf(cause)));
  }
}
