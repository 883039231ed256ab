/**
 * The clipboard as secrets use it: a copied secret leaves it after gptLoad.clipboard.clearAfterSeconds
 * if it still holds it then (never what the user copied since), and at once when the extension stops.
 */
import * as vscode from 'vscode';
import { t } from './l10n';

export interface ClipboardLike {
  readText(): Thenable<string>;
  writeText(value: string): Thenable<void>;
  /** Whether a copied secret can be cleared later: only where the clipboard can be read, to clear nothing but our own text. */
  readonly canClear: boolean;
}

/**
 * VS Code's clipboard. In a browser (code-server, vscode.dev) reading it needs a permission the page
 * seldom has, so a copied key could not be checked and cleared there: copy messages say so instead.
 */
function platformClipboard(): ClipboardLike {
  return {
    readText: () => vscode.env.clipboard.readText(),
    writeText: (value) => vscode.env.clipboard.writeText(value),
    canClear: vscode.env.uiKind !== vscode.UIKind.Web,
  };
}

export class SecretClipboard implements vscode.Disposable {
  /** Where text goes: VS Code's clipboard (the extension tests put a memory one here). */
  target: ClipboardLike = platformClipboard();
  private timer: NodeJS.Timeout | undefined;
  /** The secret the timer will clear, so dispose can clear it at once instead of dropping the timer. */
  private secret: string | undefined;

  /** `clearAfterSeconds`: gptLoad.clipboard.clearAfterSeconds, read at each copy. */
  constructor(private readonly clearAfterSeconds: () => number) {}

  /** Copies text that is no secret (a restart command): it stays. */
  writeText(value: string): Thenable<void> {
    return this.target.writeText(value);
  }

  /**
   * Copies a secret and clears it from the clipboard after gptLoad.clipboard.clearAfterSeconds, if
   * the clipboard still holds it then. Returns those seconds (0: it will not be cleared).
   */
  async copySecret(value: string): Promise<number> {
    await this.target.writeText(value);
    const seconds = this.target.canClear ? this.clearAfterSeconds() : 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.secret = undefined;
    if (seconds > 0) {
      this.secret = value;
      this.timer = setTimeout(() => void this.clearIf(value), seconds * 1000);
    }
    return seconds;
  }

  /** Clears the clipboard if it still holds `value` (never what the user copied since). True when cleared. */
  async clearIf(value: string): Promise<boolean> {
    if (this.secret === value) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.secret = undefined;
    }
    if (!this.target.canClear) return false;
    try {
      if ((await this.target.readText()) !== value) return false;
      await this.target.writeText('');
      return true;
    } catch {
      return false;
    }
  }

  /** What happens to a copied secret here, for a copy message or a "copy" choice. */
  clearNote(seconds = this.clearAfterSeconds()): string {
    if (!this.target.canClear) return t('This editor cannot clear the clipboard: clear it yourself after pasting.');
    return seconds > 0 ? t('It is cleared from the clipboard in {0} s.', seconds) : t('It stays on the clipboard (gptLoad.clipboard.clearAfterSeconds is 0).');
  }

  /** "Key … copied." and what happens to it on the clipboard. */
  copiedMessage(copied: string): string {
    return `${copied} ${this.clearNote()}`;
  }

  dispose(): void {
    // A pending clear happens now: the secret must not outlive the extension on the clipboard.
    if (this.secret !== undefined) void this.clearIf(this.secret);
  }
}
