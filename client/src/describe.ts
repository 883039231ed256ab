/** Words for states the daemon reports, shared by the status bar, the status page and the explorer. */
import type { DashboardVerdict, EnvDatabaseState } from '../../shared/protocol';
import { t } from './l10n';

export interface StateWords {
  label: string;
  /** Codicon id. */
  icon: string;
  /** Needs the operator's attention. */
  warning: boolean;
  /** Why, and what can be done, for a tooltip. */
  detail?: string;
}

export function describeState(state: EnvDatabaseState, encryptionEnabled: boolean | undefined): StateWords {
  switch (state) {
    case 'ok':
      return encryptionEnabled === false
        ? { label: t('not encrypted'), icon: 'unlock', warning: true }
        : { label: t('encrypted'), icon: 'lock', warning: false };
    case 'needs-migration':
      return { label: t('key set, data not encrypted'), icon: 'unlock', warning: true };
    case 'key-missing':
      return { label: t('data encrypted, key missing'), icon: 'key', warning: true };
    case 'wrong-key':
      return { label: t('wrong ENCRYPTION_KEY'), icon: 'error', warning: true };
    case 'mixed':
      return { label: t('mixed (partly encrypted)'), icon: 'warning', warning: true };
    case 'not-encrypted':
      return { label: t('not encrypted (stored in plaintext)'), icon: 'unlock', warning: true };
    case 'empty':
      return { label: t('no keys'), icon: 'circle-outline', warning: false };
    case 'unreachable':
      return { label: t('database unreachable'), icon: 'debug-disconnect', warning: true };
    case 'unchecked':
      return { label: t('not checked'), icon: 'question', warning: false };
  }
}

export function describeVerdict(verdict: DashboardVerdict): string | undefined {
  switch (verdict) {
    case 'data_not_encrypted':
      return t('ENCRYPTION_KEY is configured, but the data is not encrypted: migrate the keys.');
    case 'key_not_configured':
      return t('The data is encrypted, but ENCRYPTION_KEY is not configured.');
    case 'key_mismatch':
      return t('ENCRYPTION_KEY does not match the encrypted data.');
    default:
      return undefined;
  }
}

/** `needed`: fingerprint of the key the backup needs, when known. */
function describeBackupVerdict(verdict: string, needed?: string | null): StateWords {
  switch (verdict) {
    case 'ok':
      return { label: t('works with the current key'), icon: 'pass', warning: false };
    case 'stale':
      return { label: t('stale'), icon: 'history', warning: true };
    case 'differs':
      return { label: t('differs from the database'), icon: 'diff', warning: true };
    case 'needs-key':
      return { label: needed ? t('needs another key ({0})', needed) : t('needs another key'), icon: 'key', warning: true };
    case 'unverified':
      return {
        label: t('unverified seal'),
        icon: 'warning',
        warning: true,
        detail: t(
          'Its seal cannot be verified with the keys at hand (an older unkeyed backup, or one sealed under another key), so its rows may not be what was backed up. The extension does not restore it; if you know where the file comes from, the CLI\'s `backup restore --accept-unverified` can.',
        ),
      };
    default:
      return { label: t('corrupt'), icon: 'error', warning: true };
  }
}

/** A backup's words: its verdict's, except that a backup holding keys in plaintext is first of all that risk. */
export function describeBackup(verdict: string, needed?: string | null, plaintext?: boolean): StateWords {
  const words = describeBackupVerdict(verdict, needed);
  if (!plaintext) return words;
  return { ...words, label: verdict === 'ok' ? t('keys in PLAINTEXT (a risk)') : t('{0}, keys in PLAINTEXT', words.label), icon: 'unlock', warning: true };
}

/** Local "YYYY-MM-DD HH:mm" of an ISO date (the input itself when it is not one). */
export function shortDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}
