/**
 * The UI the suite installs through the extension's test API: every prompt is answered from
 * a script keyed by step id, and every prompt and notification is recorded. A prompt without an
 * answer fails the test at once instead of waiting for a human.
 */
import { GoBack, type AskOptions, type Choice, type InputOptions, type PickOptions, type UI } from '../../../../client/src/ui';

/** The answer that presses a step's Back button. */
export const BACK = '$back';

export type Answer = string | string[] | undefined | ((prompt: Prompt) => string | string[] | undefined);

export interface Prompt {
  kind: 'pick' | 'pickMany' | 'input' | 'ask' | 'notify' | 'secret';
  step: string;
  message?: string;
  detail?: string;
  /** The step offered a Back button. */
  back?: boolean;
  /** Item labels and descriptions of a pick, as shown. */
  labels?: string[];
  /** A pick's placeholder (where a step shows its warnings). */
  placeHolder?: string;
  items?: string[];
  options?: InputOptions;
  /** showSecret's value: only ever compared in tests, never printed. */
  secret?: string;
}

export class ScriptedUI implements UI {
  readonly prompts: Prompt[] = [];
  private readonly answers = new Map<string, Answer[]>();

  /** Answers for the next prompts of `step` (one per occurrence; the last one repeats). */
  answer(step: string, ...answers: Answer[]): this {
    this.answers.set(step, answers);
    return this;
  }

  private next(prompt: Prompt, required: boolean): string | string[] | undefined {
    this.prompts.push(prompt);
    const queue = this.answers.get(prompt.step);
    if (!queue || queue.length === 0) {
      if (required) throw new Error(`unexpected prompt '${prompt.step}' (${prompt.kind}): ${prompt.message ?? ''}`);
      return undefined;
    }
    const answer = queue.length > 1 ? queue.shift() : queue[0];
    return typeof answer === 'function' ? answer(prompt) : answer;
  }

  steps(): string[] {
    return this.prompts.map((p) => p.step);
  }

  messages(step?: string): string[] {
    return this.prompts.filter((p) => (step ? p.step === step : p.kind === 'notify')).map((p) => p.message ?? '');
  }

  /** Presses Back when the script says so (and the step has the button). */
  private backIf(step: string, answer: unknown, back: boolean | undefined): void {
    if (answer !== BACK) return;
    if (!back) throw new Error(`'${step}' has no Back button`);
    throw new GoBack();
  }

  async pick<T extends string>(step: string, items: Choice<T>[], options: PickOptions): Promise<T | undefined> {
    const answer = this.next(
      { kind: 'pick', step, message: options.title, items: items.map((i) => i.id), back: options.back, placeHolder: options.placeHolder, labels: items.map((i) => [i.label, i.description, i.detail].filter(Boolean).join(' ')) },
      true,
    );
    this.backIf(step, answer, options.back);
    if (answer !== undefined && !items.some((i) => i.id === answer)) throw new Error(`'${step}' offers ${items.map((i) => i.id).join(', ')}, not ${answer}`);
    return answer as T | undefined;
  }

  async pickMany<T extends string>(step: string, items: Choice<T>[], options: PickOptions): Promise<T[] | undefined> {
    const answer = this.next({ kind: 'pickMany', step, message: options.title, items: items.map((i) => i.id), back: options.back }, true);
    this.backIf(step, answer, options.back);
    return answer as T[] | undefined;
  }

  async input(step: string, options: InputOptions): Promise<string | undefined> {
    const answer = this.next({ kind: 'input', step, message: options.title, options, back: options.back }, true) as string | undefined;
    this.backIf(step, answer, options.back);
    const problem = answer !== undefined ? options.validate?.(answer) : undefined;
    if (problem) throw new Error(`'${step}' rejects the scripted answer: ${problem}`);
    return answer;
  }

  async ask<T extends string>(step: string, message: string, options: AskOptions<T>): Promise<T | undefined> {
    return this.next({ kind: 'ask', step, message, detail: options.detail, items: options.actions.map((a) => a.id) }, true) as T | undefined;
  }

  async notify<T extends string>(step: string, message: string, options: Partial<AskOptions<T>> = {}): Promise<T | undefined> {
    return this.next({ kind: 'notify', step, message, detail: options.detail, items: options.actions?.map((a) => a.id) }, false) as T | undefined;
  }

  async showSecret(step: string, title: string, secret: string): Promise<void> {
    this.next({ kind: 'secret', step, message: title, secret }, false);
  }
}

/** A clipboard in memory: the web workbench's real one needs browser permissions headless Chromium lacks. */
export class MemoryClipboard {
  text = '';
  canClear = true;
  async readText(): Promise<string> {
    return this.text;
  }
  async writeText(value: string): Promise<void> {
    this.text = value;
  }
}
