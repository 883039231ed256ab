/**
 * The seam between commands and VS Code's prompts. Every question a command asks goes through a
 * `UI` with a stable step id, so the extension tests can answer them (the test API of
 * activate() swaps the UI) while users get quick picks, input boxes and dialogs.
 */
import * as vscode from 'vscode';

export interface Choice<T extends string = string> {
  id: T;
  label: string;
  description?: string;
  detail?: string;
  picked?: boolean;
}

export interface PickOptions {
  title: string;
  placeHolder?: string;
  /** Show a Back button; pressing it rejects with GoBack. */
  back?: boolean;
}

/** Thrown by a prompt whose Back button was pressed: the wizard returns to its previous step. */
export class GoBack extends Error {
  constructor() {
    super('back');
    this.name = 'GoBack';
  }
}

/** By name: a test UI bundled apart from the extension throws its own copy of the class. */
export function isGoBack(err: unknown): boolean {
  return err instanceof Error && err.name === 'GoBack';
}

export interface InputOptions {
  title: string;
  prompt?: string;
  placeHolder?: string;
  value?: string;
  /** Hide what is typed (keys). */
  password?: boolean;
  /** Returns a message while the value is not acceptable. */
  validate?: (value: string) => string | undefined;
  /** Show a Back button; pressing it rejects with GoBack. */
  back?: boolean;
}

export type Severity = 'info' | 'warning' | 'error';

export interface AskOptions<T extends string> {
  detail?: string;
  severity?: Severity;
  /** The buttons; a modal's own Cancel answers undefined. */
  actions: Array<{ id: T; title: string }>;
}

export interface UI {
  pick<T extends string>(step: string, items: Choice<T>[], options: PickOptions): Promise<T | undefined>;
  pickMany<T extends string>(step: string, items: Choice<T>[], options: PickOptions): Promise<T[] | undefined>;
  input(step: string, options: InputOptions): Promise<string | undefined>;
  /** A modal question: the user must answer (or cancel) before anything goes on. */
  ask<T extends string>(step: string, message: string, options: AskOptions<T>): Promise<T | undefined>;
  /** A notification; resolves with the action clicked, or undefined when dismissed. */
  notify<T extends string>(step: string, message: string, options?: Partial<AskOptions<T>>): Promise<T | undefined>;
  /** Shows a plaintext secret the user asked to see; the secret goes nowhere else. */
  showSecret(step: string, title: string, secret: string): Promise<void>;
}

/** Prompts with VS Code's own quick pick, input box and message dialogs. */
export class VsCodeUI implements UI {
  async pick<T extends string>(_step: string, items: Choice<T>[], options: PickOptions): Promise<T | undefined> {
    const picked = await quickPick(items, options, false);
    return picked?.[0];
  }

  pickMany<T extends string>(_step: string, items: Choice<T>[], options: PickOptions): Promise<T[] | undefined> {
    return quickPick(items, options, true);
  }

  input(_step: string, options: InputOptions): Promise<string | undefined> {
    const box = vscode.window.createInputBox();
    Object.assign(box, { title: options.title, prompt: options.prompt, placeholder: options.placeHolder, value: options.value ?? '', password: options.password ?? false, ignoreFocusOut: true });
    if (options.back) box.buttons = [vscode.QuickInputButtons.Back];
    return new Promise<string | undefined>((resolve, reject) => {
      const done = (settle: () => void) => {
        settle();
        box.dispose();
      };
      box.onDidChangeValue((value) => (box.validationMessage = options.validate?.(value)));
      box.onDidAccept(() => {
        const problem = options.validate?.(box.value);
        if (problem) box.validationMessage = problem;
        else done(() => resolve(box.value));
      });
      box.onDidTriggerButton(() => done(() => reject(new GoBack())));
      box.onDidHide(() => done(() => resolve(undefined)));
      box.show();
    });
  }

  async ask<T extends string>(_step: string, message: string, options: AskOptions<T>): Promise<T | undefined> {
    const items = options.actions.map((a) => ({ title: a.title, id: a.id }));
    const show = showFor(options.severity);
    const answer = await show<{ title: string; id: T }>(message, { modal: true, detail: options.detail }, ...items);
    return answer?.id;
  }

  async notify<T extends string>(_step: string, message: string, options: Partial<AskOptions<T>> = {}): Promise<T | undefined> {
    const items = (options.actions ?? []).map((a) => ({ title: a.title, id: a.id }));
    const text = options.detail ? `${message} ${options.detail}` : message;
    const answer = await showFor(options.severity)<{ title: string; id: T }>(text, ...items);
    return answer?.id;
  }

  async showSecret(_step: string, title: string, secret: string): Promise<void> {
    // A modal keeps the value on screen only while the user looks at it: no notification history.
    await vscode.window.showInformationMessage(title, { modal: true, detail: secret });
  }
}

type Show = <I extends vscode.MessageItem & { id: string }>(message: string, ...rest: unknown[]) => Thenable<I | undefined>;

function showFor(severity: Severity | undefined): Show {
  const fn = severity === 'error' ? vscode.window.showErrorMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  return fn;
}

/** A quick pick (one or many) with an optional Back button; undefined when dismissed. */
function quickPick<T extends string>(items: Choice<T>[], options: PickOptions, many: boolean): Promise<T[] | undefined> {
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { choice: T }>();
  const entries = items.map((item) => ({ label: item.label, description: item.description, detail: item.detail, choice: item.id }));
  Object.assign(pick, { title: options.title, placeholder: options.placeHolder, ignoreFocusOut: true, canSelectMany: many, matchOnDescription: true, items: entries });
  if (many) pick.selectedItems = entries.filter((_, i) => items[i].picked);
  if (options.back) pick.buttons = [vscode.QuickInputButtons.Back];
  return new Promise<T[] | undefined>((resolve, reject) => {
    const done = (settle: () => void) => {
      settle();
      pick.dispose();
    };
    pick.onDidAccept(() => {
      const chosen = many ? pick.selectedItems : pick.activeItems.slice(0, 1);
      if (!many && chosen.length === 0) return;
      done(() => resolve(chosen.map((c) => c.choice)));
    });
    pick.onDidTriggerButton(() => done(() => reject(new GoBack())));
    pick.onDidHide(() => done(() => resolve(undefined)));
    pick.show();
  });
}
