/**
 * Every failure the keystore reports, with a stable code (the CLI maps it to an exit code, the
 * daemon to a JSON-RPC error code) and its message in English and Simplified Chinese.
 * Messages never contain a secret: callers pass counts, row ids, hosts and file names only.
 */
import type { ErrorCode, Lang } from '../../shared/types';

export interface Localized {
  en: string;
  zh: string;
}

// The codes and languages are the wire contract's (shared/types.ts): the daemon sends them as they are.
export type { ErrorCode, Lang };

/** Process exit codes, documented in the README; grouped so scripts can branch on them. */
export const EXIT_CODES: Record<ErrorCode, number> = {
  usage: 2,
  'env-parse': 3,
  'env-missing': 3,
  'key-required': 3,
  'wrong-key': 4,
  'decrypt-failed': 4,
  'refused-by-check': 5,
  'service-running': 6,
  'host-not-found': 7,
  'connection-refused': 7,
  'connection-timeout': 7,
  'auth-refused': 7,
  'database-missing': 7,
  'native-module-unavailable': 7,
  'not-gpt-load-database': 8,
  'backup-invalid': 9,
  io: 10,
  cancelled: 130,
  internal: 70,
  'compose-override': 5,
  'weak-key': 3,
  untrusted: 11,
};

export class KeystoreError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly text: Localized,
    /** Machine-readable details (counts, ids); never secrets. */
    readonly details?: Record<string, unknown>,
  ) {
    super(text.en);
    this.name = 'KeystoreError';
  }

  localized(lang: Lang): string {
    return lang === 'zh-CN' ? this.text.zh : this.text.en;
  }
}

export function localize(text: Localized, lang: Lang): string {
  return lang === 'zh-CN' ? text.zh : text.en;
}

/** Turns anything thrown into a KeystoreError without leaking the original message's secrets. */
export function asKeystoreError(err: unknown): KeystoreError {
  if (err instanceof KeystoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new KeystoreError('internal', { en: `internal error: ${message}`, zh: `内部错误：${message}` });
}

/** Cooperative cancellation shared by the CLI (Ctrl-C) and the daemon (JSON-RPC $/cancelRequest). */
export interface Cancellation {
  readonly cancelled: boolean;
}

export function throwIfCancelled(token: Cancellation | undefined): void {
  if (token?.cancelled) throw new KeystoreError('cancelled', { en: 'cancelled', zh: '已取消' });
}
