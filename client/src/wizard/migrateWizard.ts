/**
 * The Migrate Keys wizard: from the database's current state to a safely switched ENCRYPTION_KEY.
 *   1. read the state (status request) and offer what fits: enable, change, disable, or put a
 *      found key back into the `.env`;
 *   2. the source key: the `.env`'s, a saved copy (../keyCopies.ts), or typed — checked against the data;
 *   3. the new key: generated, the one already in the `.env`, or typed with GPT-Load's strength check;
 *   4. a backup, created and verified, unless the user has their own — first the daemon checks that
 *      GPT-Load is stopped (service check), and while it runs the wizard says so with "Check again";
 *   5. proof that the new key is saved: clipboard and/or SecretStorage, then its last 4 characters;
 *   6. the migration itself under a cancellable progress notification; the daemon checks again and
 *      refuses while GPT-Load runs ("Check again"); on success the daemon updated the `.env` and we
 *      show how to restart; on failure what failed and that nothing changed.
 * Every question goes through `ctx.ui` with a step id, which the extension tests answer.
 */
import type { DeploymentRef, MigrationSummary, StatusReport } from '../../../shared/protocol';
import { localize } from '../../../server/core/errors';
import { assessSecret, weakNewKeyWarnings } from '../../../server/core/secrets';
import { Cancelled, isCancellation, messageOf, retryWhileServiceRuns, waitUntilServiceStopped } from '../errors';
import { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { describeState } from '../describe';
import { askForKey } from '../keyPrompt';
import { daemonLocale, t } from '../l10n';
import { protocol, type Protocol } from '../protocol';
import { restartCommand } from '../restartHint';
import type { Choice } from './ui';

export type MigrateAction = 'enable' | 'change' | 'disable' | 'restoreKey';

export interface MigrateOutcome {
  action: MigrateAction;
  summary?: MigrationSummary;
  /** Path of the verified backup taken first, when one was. */
  backup?: string;
}

const required = Ctx.required;
const lang = () => (daemonLocale() === 'zh-CN' ? 'zh-CN' : 'en') as 'en' | 'zh-CN';

/** What the state allows, best first. */
export function actionsFor(report: StatusReport): MigrateAction[] {
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
        detail: report.state === 'needs-migration' ? t('Encrypt the {0} plaintext keys (ENCRYPTION_KEY is set, the data is not encrypted)', report.apiKeys.plaintext) : t('Encrypt the {0} stored keys with a new ENCRYPTION_KEY', report.apiKeys.total),
      };
    case 'change':
      return { id: action, label: t('Change the encryption key'), detail: t('Re-encrypt the {0} stored keys with a new ENCRYPTION_KEY', report.apiKeys.total) };
    case 'disable':
      return { id: action, label: t('Disable encryption'), detail: t('Decrypt the stored keys and remove ENCRYPTION_KEY (keys are then stored in plaintext)') };
    case 'restoreKey':
      return { id: action, label: t('Put the right key back into .env'), detail: t('The data is encrypted with a key the .env does not have: find it and write it back, nothing is re-encrypted') };
  }
}

export class MigrateWizard {
  private ref!: DeploymentRef;
  private p!: Protocol;

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
    const report = await this.ctx.withProgress(t('Checking the keys of {0}', this.deployment.label), this.p.StatusRequest.type, { deployment: this.ref, skipLogs: true });
    this.ctx.fireStatus(this.deployment, report);

    const actions = actionsFor(report);
    if (actions.length === 0) {
      await this.ui.ask('mixedState', t('The stored keys of {0} are in a mixed state; migrating now could make it worse.', this.deployment.label), {
        severity: 'error',
        detail: t('{0} plaintext, {1} encrypted with the .env key, {2} undecryptable. Restore a backup, or run "GPT-Load: Show Encryption Status" to see which rows.', report.apiKeys.plaintext, report.apiKeys.encrypted, report.apiKeys.unknown),
        actions: [],
      });
      return undefined;
    }
    const state = describeState(report.state, report.encryptionEnabled).label;
    const action = required(
      await this.ui.pick('action', actions.map((a) => actionChoice(a, report)), {
        title: t('Migrate Keys — {0}', this.deployment.label),
        placeHolder: t('Now: {0} ({1} keys, {2})', state, report.apiKeys.total, report.target),
      }),
    );

    // The key the data is encrypted with now ('' = plaintext; undefined = the .env's, which works).
    const dataEncrypted = report.state === 'key-missing' || report.state === 'wrong-key' || (report.encryptionEnabled && report.state === 'ok');
    let fromKey: string | undefined = dataEncrypted ? undefined : '';
    if (report.state === 'key-missing' || report.state === 'wrong-key') fromKey = await this.askSourceKey();

    if (action === 'restoreKey') return this.restoreKey(required(fromKey));

    const toKey = action === 'disable' ? '' : await this.askNewKey(report, fromKey);
    // A backup taken while GPT-Load writes is stale at once, and the migration would refuse anyway.
    await waitUntilServiceStopped(this.ui, () => this.ctx.request(this.p.ServiceCheckRequest.type, { deployment: this.ref }));
    const backup = await this.backup(fromKey);
    const restoreSecret = toKey ? await this.confirmSaved(toKey) : undefined;

    const go = await this.ui.ask('confirm', this.confirmText(action, report), {
      severity: 'warning',
      detail: t('Stop GPT-Load first. Stored keys and request logs are rewritten in one switch; ENCRYPTION_KEY in {0} is updated afterwards. Then restart GPT-Load.', this.deployment.envFile),
      actions: [{ id: 'migrate', title: t('Migrate') }],
    });
    if (go !== 'migrate') {
      await restoreSecret?.();
      throw new Cancelled();
    }

    try {
      const summary = await this.migrate(fromKey, toKey);
      // Every row is now as the new key says: no need for another pass over the table to know it.
      this.ctx.fireStatus(this.deployment, { ...report, state: 'ok', encryptionEnabled: toKey !== '', keyFingerprint: summary.toFingerprint });
      this.ctx.fireDataChanged(this.deployment);
      void this.reportSuccess(summary, backup);
      return { action, summary, backup };
    } catch (err) {
      await restoreSecret?.();
      if (isCancellation(err)) {
        void this.ui.notify('migrateCancelled', t('Migration cancelled; nothing was changed.'));
        throw new Cancelled();
      }
      throw new MigrationFailed(err);
    }
  }

  private confirmText(action: MigrateAction, report: StatusReport): string {
    switch (action) {
      case 'enable':
        return t('Encrypt {0} keys of {1}?', report.apiKeys.total, this.deployment.label);
      case 'change':
        return t('Re-encrypt {0} keys of {1} with the new key?', report.apiKeys.total, this.deployment.label);
      default:
        return t('Decrypt {0} keys of {1} and store them in plaintext?', report.apiKeys.total, this.deployment.label);
    }
  }

  /** Whether `key` opens the stored keys (checked by the daemon on a sample, used for that request only). */
  private async keyWorks(key: string): Promise<boolean> {
    const result = await this.ctx.request(this.p.KeyBackupsRequest.type, { deployment: this.ref, candidates: [key] });
    return result.results[0]?.works === true;
  }

  /** The data's current key when the `.env` does not have it: a saved copy, else typed — checked against the data. */
  private async askSourceKey(): Promise<string> {
    for (;;) {
      const key = await askForKey(this.ctx, this.deployment, { step: 'sourceKey', title: t('Which key are the stored keys encrypted with now?') });
      if (await this.keyWorks(key.value)) return key.value;
      const retry = await this.ui.ask('sourceKeyWrong', t('This key does not decrypt the stored keys.'), { severity: 'error', actions: [{ id: 'retry', title: t('Try Another Key') }] });
      if (retry !== 'retry') throw new Cancelled();
    }
  }

  private async askNewKey(report: StatusReport, fromKey: string | undefined): Promise<string> {
    const choices: Choice<'generate' | 'env' | 'type'>[] = [{ id: 'generate', label: t('Generate a strong key'), detail: t('48 random characters, safe in .env and Docker Compose') }];
    if (report.state === 'needs-migration') choices.push({ id: 'env', label: t('Use the ENCRYPTION_KEY already in .env (fingerprint {0})', report.keyFingerprint) });
    choices.push({ id: 'type', label: t('Type a key') });
    const method = required(await this.ui.pick('newKeyMethod', choices, { title: t('New ENCRYPTION_KEY') }));
    if (method === 'generate') return (await this.ctx.daemon.request(this.p.GenerateSecretRequest.type, { name: 'ENCRYPTION_KEY' })).value;
    if (method === 'env') {
      const env = await this.ctx.daemon.request(this.p.EnvReadRequest.type, { envFile: this.deployment.envFile, reveal: 'ENCRYPTION_KEY' });
      return required(env.revealed?.value ?? undefined);
    }
    for (;;) {
      const key = required(
        await this.ui.input('newKeyValue', {
          title: t('New ENCRYPTION_KEY'),
          prompt: t('At least 16 characters; 32 or more recommended.'),
          password: true,
          validate: (v) => (v === '' ? t('Enter the key.') : v !== v.trim() ? t('No spaces at either end.') : undefined),
        }),
      );
      if (fromKey !== undefined && key === fromKey) {
        await this.ui.notify('newKeySame', t('The new key is the current key.'), { severity: 'warning' });
        continue;
      }
      const warnings = [...weakNewKeyWarnings(key), ...assessSecret(key, 'ENCRYPTION_KEY').map((w) => w.text)].map((w) => localize(w, lang()));
      if (warnings.length === 0) return key;
      const answer = await this.ui.ask('weakKey', t('This key is weak.'), {
        severity: 'warning',
        detail: [...new Set(warnings)].join('\n'),
        actions: [
          { id: 'retry', title: t('Choose Another') },
          { id: 'use', title: t('Use It Anyway') },
        ],
      });
      if (answer === 'use') return key;
      if (answer !== 'retry') throw new Cancelled();
    }
  }

  /** A verified backup first, unless the user opts out. Returns its path. */
  private async backup(fromKey: string | undefined): Promise<string | undefined> {
    const choice = required(
      await this.ui.pick<'backup' | 'skip'>(
        'backup',
        [
          { id: 'backup', label: t('Back up the keys first (recommended)'), detail: t('Written beside the .env and checked before anything changes') },
          { id: 'skip', label: t('Skip: I have a current backup of the database') },
        ],
        { title: t('Backup') },
      ),
    );
    if (choice === 'skip') return undefined;
    const info = await this.ctx.withProgress(t('Backing up {0}', this.deployment.label), this.p.BackupCreateRequest.type, { deployment: this.ref });
    const check = await this.ctx.withProgress(t('Checking the backup'), this.p.BackupCheckRequest.type, {
      path: info.path,
      ...(fromKey ? { encryptionKey: fromKey } : { deployment: this.ref }),
    });
    if (!check.valid || check.decryptsWithKey === false) {
      throw new Error(t('The backup {0} did not verify: {1}', info.path, check.problems.join('; ') || t('the current key does not open it')));
    }
    this.ctx.backups.changed(this.deployment);
    return info.path;
  }

  /**
   * The user proves the new key is kept somewhere: clipboard and/or SecretStorage, then its last 4
   * characters. Returns an undo for a new SecretStorage copy (used when the migration does not happen).
   */
  private async confirmSaved(newKey: string): Promise<() => Promise<void>> {
    let saved: string | undefined;
    const where = required(
      await this.ui.pickMany<'clipboard' | 'secretStorage'>(
        'saveKey',
        [
          { id: 'secretStorage', label: t('Store it in VS Code\'s secret storage'), picked: true },
          { id: 'clipboard', label: t('Copy it to the clipboard (for your password manager)'), detail: t('Cleared from the clipboard after {0} s', this.ctx.config.clipboardClearSeconds || '∞') },
        ],
        { title: t('Save the new ENCRYPTION_KEY — without it the encrypted keys cannot be recovered') },
      ),
    );
    if (where.includes('secretStorage')) {
      const { copy, existed } = await this.ctx.keyCopies.save(this.deployment, newKey, 'migration');
      if (!existed) saved = copy.id;
    }
    if (where.includes('clipboard')) await this.ctx.copySecret(newKey);
    const last4 = newKey.slice(-4);
    required(
      await this.ui.input('confirmLast4', {
        title: t('Confirm you saved the new key'),
        prompt: t('Type the last 4 characters of the new ENCRYPTION_KEY.'),
        validate: (v) => (v === last4 ? undefined : t('That is not how the key ends. Look at your saved copy.')),
      }),
    );
    return async () => {
      if (saved) await this.ctx.keyCopies.remove(saved);
    };
  }

  /** Sends the migration; while GPT-Load is running, says so and offers "Check again". */
  private migrate(fromKey: string | undefined, toKey: string): Promise<MigrationSummary> {
    const redisHost = this.ctx.redisHost(this.deployment);
    return retryWhileServiceRuns(this.ui, () =>
      this.ctx.withProgress(t('Migrating the keys of {0}', this.deployment.label), this.p.MigrateRequest.type, {
        deployment: this.ref,
        ...(fromKey !== undefined ? { fromKey } : {}),
        toKey,
        updateEnv: true,
        // The wizard took (and checked) its own backup, or the user opted out.
        backup: false,
        ...(redisHost ? { redisHost } : {}),
      }),
    );
  }

  /** The data's key was found (typed or stored): write it into the `.env`, nothing else changes. */
  private async restoreKey(key: string): Promise<MigrateOutcome> {
    await this.ctx.daemon.request(this.p.EnvWriteRequest.type, { envFile: this.deployment.envFile, key: 'ENCRYPTION_KEY', value: key });
    this.ctx.fireDataChanged(this.deployment);
    void this.ui.notify('keyRestored', t('ENCRYPTION_KEY in {0} now opens the stored keys. Restart GPT-Load: {1}', this.deployment.label, restartCommand(this.deployment.envFile)));
    return { action: 'restoreKey' };
  }

  private async reportSuccess(summary: MigrationSummary, backup: string | undefined): Promise<void> {
    const command = summary.restartCommand ?? restartCommand(this.deployment.envFile);
    const what =
      summary.mode === 'disable'
        ? t('Decrypted {0} keys and {1} request logs of {2}.', summary.apiKeys, summary.requestLogs, this.deployment.label)
        : t('Encrypted {0} keys and {1} request logs of {2}.', summary.apiKeys, summary.requestLogs, this.deployment.label);
    const env = summary.envUpdated ? t('ENCRYPTION_KEY in .env was updated.') : t('Update ENCRYPTION_KEY in .env yourself.');
    const message = [what, env, backup ? t('The state before is backed up in {0}.', backup) : undefined, t('Restart GPT-Load now: {0}', command), ...summary.notes].filter(Boolean).join(' ');
    this.ctx.output.info(`migration ${summary.mode} of ${this.deployment.label}: ${summary.apiKeys} keys, ${summary.requestLogs} logs, ${summary.durationMs} ms, ${summary.fromFingerprint} → ${summary.toFingerprint}`);
    const answer = await this.ui.notify('migrated', message, { actions: [{ id: 'copyCommand', title: t('Copy Restart Command') }] });
    if (answer === 'copyCommand') await this.ctx.clipboard.writeText(command);
  }
}

/** A migration that failed: the daemon's reason, and that nothing changed. */
export class MigrationFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(t('Migration failed: {0} Nothing was changed: the stored keys and the .env are as before.', messageOf(cause)));
  }
}
