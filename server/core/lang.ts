/** The message language of the CLI and the daemon, decided the same way for both. */
import type { Lang } from './errors';

/**
 * `locale` when one is given (the daemon's `initialize`), else the environment as the CLI reads it:
 * GPT_LOAD_KEYSTORE_LANG, LC_ALL, LC_MESSAGES, LANG. 'zh', 'zh-cn', 'zh_CN.UTF-8', 'zh-Hans-TW' … →
 * 'zh-CN'; anything else → 'en'.
 */
export function detectLang(env: NodeJS.ProcessEnv, locale?: string | null): Lang {
  const raw = locale ?? env.GPT_LOAD_KEYSTORE_LANG ?? env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? '';
  return /^zh/i.test(raw) ? 'zh-CN' : 'en';
}
