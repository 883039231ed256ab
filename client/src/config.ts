/**
 * Typed access to the extension's settings (`gptLoad.*`). Settings that decide what runs or what
 * the extension connects to are `restricted` in package.json: in an untrusted workspace VS Code
 * hands back only the user's (not the workspace's) values for them.
 */
import * as vscode from 'vscode';

const SECTION = 'gptLoad';

export type LanguageSetting = 'auto' | 'en' | 'zh-cn';

export class Config {
  private get root(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  private scoped(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION, scope);
  }

  /** `.env` files (absolute, or relative to a workspace folder); empty = every `.env` found. */
  envFiles(folder?: vscode.WorkspaceFolder): string[] {
    return this.scoped(folder).get<string[]>('envFiles', []).filter((p) => p.trim() !== '');
  }

  /** DATABASE_DSN override, without its password (that lives in SecretStorage). */
  dsn(scope?: vscode.ConfigurationScope): string | undefined {
    return this.scoped(scope).get<string>('database.dsn', '').trim() || undefined;
  }

  /** HOST[:PORT] replacing the database host (Docker Compose service names). */
  databaseHost(scope?: vscode.ConfigurationScope): string | undefined {
    return this.scoped(scope).get<string>('database.host', '').trim() || undefined;
  }

  /** HOST[:PORT] replacing the host of REDIS_DSN when GPT-Load's cache is cleared (Docker Compose's `redis`). */
  redisHost(scope?: vscode.ConfigurationScope): string | undefined {
    return this.scoped(scope).get<string>('redis.host', '').trim() || undefined;
  }

  /** Node executable for the daemon; empty = choose automatically. */
  get daemonRuntime(): string {
    return this.root.get<string>('daemon.runtime', '').trim();
  }

  /** Seconds after which a copied key is cleared from the clipboard; 0 = never. */
  get clipboardClearSeconds(): number {
    const value = this.root.get<number>('clipboard.clearAfterSeconds', 60);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  get language(): LanguageSetting {
    const value = this.root.get<string>('language', 'auto');
    return value === 'en' || value === 'zh-cn' ? value : 'auto';
  }

  /** Keys per page in the key explorer. */
  get pageSize(): number {
    const value = this.root.get<number>('explorer.pageSize', 100);
    return Math.min(Math.max(Number.isFinite(value) ? Math.trunc(value) : 100, 10), 1000);
  }

  /** Days after which a rotated AUTH_KEY is due again. */
  get authKeyRotationDays(): number {
    const value = this.root.get<number>('authKey.rotationReminderDays', 90);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  /** Days after which unchecked copies of ENCRYPTION_KEY are due for GPT-Load: Check Key Backups; 0 = never. */
  get keyCheckReminderDays(): number {
    const value = this.root.get<number>('keyBackups.reminderDays', 30);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  static affects(event: vscode.ConfigurationChangeEvent, ...keys: string[]): boolean {
    return keys.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
  }
}
