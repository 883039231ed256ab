/**
 * Numbers and counted words as the operator's language writes them, through `Intl` (no hand-made
 * rules): "1 key", "1,108 keys", "1,108 个密钥", "5 minutes ago", "5分钟前". Shared by the CLI, the
 * daemon and the extension so all three print the same figures the same way.
 */
import type { Lang } from './types';

const numberFormats = new Map<Lang, Intl.NumberFormat>();
const pluralRules = new Map<Lang, Intl.PluralRules>();

function localeOf(lang: Lang): string {
  return lang === 'zh-CN' ? 'zh-CN' : 'en-US';
}

/** 1108 → "1,108" (both languages group thousands with a comma). */
export function formatNumber(value: number, lang: Lang = 'en'): string {
  let format = numberFormats.get(lang);
  if (!format) numberFormats.set(lang, (format = new Intl.NumberFormat(localeOf(lang), { maximumFractionDigits: 1 })));
  return format.format(value);
}

/** A counted noun: English singular and plural, and the Chinese measure word with its noun ("个密钥"). */
export interface CountNoun {
  one: string;
  other: string;
  zh: string;
}

/** API keys as counted: "1 key", "3 keys", "3 个密钥". */
export const KEYS: CountNoun = { one: 'key', other: 'keys', zh: '个密钥' };

/** Which English form `count` takes ('one' or 'other'); Chinese has only 'other'. */
function pluralForm(count: number, lang: Lang = 'en'): 'one' | 'other' {
  let rules = pluralRules.get(lang);
  if (!rules) pluralRules.set(lang, (rules = new Intl.PluralRules(localeOf(lang))));
  return rules.select(count) === 'one' ? 'one' : 'other';
}

/** "1 key", "2 keys", "1,108 个密钥". */
export function formatCount(count: number, noun: CountNoun, lang: Lang = 'en'): string {
  const number = formatNumber(count, lang);
  if (lang === 'zh-CN') return `${number} ${noun.zh}`;
  return `${number} ${pluralForm(count, lang) === 'one' ? noun.one : noun.other}`;
}

/** The English template for `count` ("{0} failure" / "{0} failures"): for message catalogues keyed by English text. */
export function pluralTemplate(count: number, one: string, other: string): string {
  return pluralForm(count, 'en') === 'one' ? one : other;
}

/** How long ago `ms` milliseconds were, in whole minutes, hours or days: "5 minutes ago", "3小时前". */
export function formatAgo(ms: number, lang: Lang = 'en'): string {
  const format = new Intl.RelativeTimeFormat(localeOf(lang), { numeric: 'always' });
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return format.format(-minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return format.format(-hours, 'hour');
  return format.format(-Math.round(hours / 24), 'day');
}

/** A note written as a clause ("completed the interrupted run…") as a sentence of a message: capital first letter, final stop. */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?。！？]$/.test(capital) ? capital : /[\u4e00-\u9fff）]$/.test(capital) ? `${capital}。` : `${capital}.`;
}
