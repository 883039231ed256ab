/**
 * User-facing strings. Every message is written in English at its call site and translated through
 * `l10n/bundle.l10n.zh-cn.json`. With `gptLoad.language` = auto VS Code's own l10n picks the bundle
 * for the display language; an explicit setting loads the bundle itself, so the extension can speak
 * Chinese in an English VS Code (and the other way round). The daemon gets the same language.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { formatNumber, pluralTemplate } from '../../shared/format';
import type { Lang } from '../../shared/types';

export type Language = 'en' | 'zh-cn';
type Arg = string | number | boolean;

let explicit: { language: Language; bundle: Record<string, string> } | undefined;
let bundleDir: vscode.Uri | undefined;

function format(message: string, args: Arg[]): string {
  return message.replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = args[Number(index)];
    return value === undefined ? whole : String(value);
  });
}

/** Called on activation and whenever `gptLoad.language` changes. */
export function configureLanguage(extensionUri: vscode.Uri, setting: string): void {
  bundleDir = vscode.Uri.joinPath(extensionUri, 'l10n');
  if (setting !== 'en' && setting !== 'zh-cn') {
    explicit = undefined;
    return;
  }
  let bundle: Record<string, string> = {};
  if (setting === 'zh-cn') {
    try {
      bundle = JSON.parse(readFileSync(vscode.Uri.joinPath(bundleDir, 'bundle.l10n.zh-cn.json').fsPath, 'utf8')) as Record<string, string>;
    } catch {
      bundle = {};
    }
  }
  explicit = { language: setting, bundle };
}

/** Translates `message` (English, `{0}` placeholders) into the extension's language. */
export function t(message: string, ...args: Arg[]): string {
  if (!explicit) return vscode.l10n.t(message, ...args);
  return format(explicit.bundle[message] ?? message, args);
}

/** The language the extension speaks: the setting, else VS Code's display language. */
export function currentLanguage(): Language {
  if (explicit) return explicit.language;
  return vscode.env.language.toLowerCase().startsWith('zh') ? 'zh-cn' : 'en';
}

/** The extension's language as shared/ names it: for texts made by shared/ and the daemon's `initialize` locale. */
export function sharedLang(): Lang {
  return currentLanguage() === 'zh-cn' ? 'zh-CN' : 'en';
}

/**
 * A counted message: `one` or `other` (English templates, `{0}` = the count) chosen by the count's
 * plural form, the count written with thousands separators; further arguments are `{1}`, `{2}`…
 */
export function tn(count: number, one: string, other: string, ...args: Arg[]): string {
  return t(pluralTemplate(count, one, other), formatNumber(count, sharedLang()), ...args);
}

/** A number as the extension's language writes it ("1,108"). */
export function num(value: number): string {
  return formatNumber(value, sharedLang());
}
