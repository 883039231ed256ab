/**
 * Secrets the extension keeps: copies of ENCRYPTION_KEY (so a lost `.env` is not a lost database;
 * their labels live in ./keyCopies.ts) and database passwords for DSN overrides. Only VS Code's
 * SecretStorage holds them — never settings, globalState or logs.
 */
import type * as vscode from 'vscode';

export class Secrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  private static key(kind: 'keyCopy' | 'dbPassword', id: string): string {
    return `gptLoad.${kind}:${id}`;
  }

  /** One saved copy of ENCRYPTION_KEY, by the id of its label (keyCopies.ts). */
  keyCopy(id: string): Thenable<string | undefined> {
    return this.storage.get(Secrets.key('keyCopy', id));
  }

  storeKeyCopy(id: string, value: string): Thenable<void> {
    return this.storage.store(Secrets.key('keyCopy', id), value);
  }

  deleteKeyCopy(id: string): Thenable<void> {
    return this.storage.delete(Secrets.key('keyCopy', id));
  }

  /** Keyed by the deployment's `.env` path. */
  databasePassword(envFile: string): Thenable<string | undefined> {
    return this.storage.get(Secrets.key('dbPassword', envFile));
  }

  storeDatabasePassword(envFile: string, value: string): Thenable<void> {
    return this.storage.store(Secrets.key('dbPassword', envFile), value);
  }
}

/** Puts a password into a DSN that has none (MySQL `user@tcp(…)`, PostgreSQL URL); others unchanged. */
export function dsnWithPassword(dsn: string, password: string): string {
  if (/^postgres(ql)?:\/\//i.test(dsn)) {
    try {
      const url = new URL(dsn);
      if (url.username && !url.password) url.password = password;
      return url.toString();
    } catch {
      return dsn;
    }
  }
  const at = dsn.lastIndexOf('@tcp(');
  if (at > 0 && !dsn.slice(0, at).includes(':')) return `${dsn.slice(0, at)}:${password}${dsn.slice(at)}`;
  return dsn;
}
