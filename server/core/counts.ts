/**
 * Row counts of the two tables that hold API keys, as people read them: "3,000 keys and 2,000
 * request logs" (not "5,000 API keys": a request log is a copy of a key, not another key), numbers
 * grouped as each language does (Intl, through shared/format.ts).
 */
import { formatCount, KEYS, type CountNoun } from '../../shared/format';
import type { Lang, Localized } from './errors';

const REQUEST_LOGS: CountNoun = { one: 'request log', other: 'request logs', zh: '条请求日志' };

function keysAndLogsIn(lang: Lang, apiKeys: number, requestLogs: number): string {
  const parts = [apiKeys > 0 || requestLogs === 0 ? formatCount(apiKeys, KEYS, lang) : null, requestLogs > 0 ? formatCount(requestLogs, REQUEST_LOGS, lang) : null];
  return parts.filter((p) => p !== null).join(lang === 'zh-CN' ? '和 ' : ' and ');
}

/** "3,000 keys and 2,000 request logs" / "3,000 个密钥和 2,000 条请求日志"; a zero count is left out (both zero: "0 keys"). */
export function keysAndLogs(apiKeys: number, requestLogs: number): Localized {
  return { en: keysAndLogsIn('en', apiKeys, requestLogs), zh: keysAndLogsIn('zh-CN', apiKeys, requestLogs) };
}
