/**
 * What a restore dry run finds, as lines for the operator (CLI and extension alike): the keys it drops
 * and brings back, and `outside` (groups, upstreams, where proxy keys differ,
 * settings by name) — what someone who rewrote the backup would have changed. The names are stored
 * text: callers print them through printable().
 */
import { formatCount, KEYS } from './format';
import type { KeysSinceBackup, Lang, OutsideKeyChanges } from './types';

function say(lang: Lang, text: { en: string; zh: string }): string {
  return lang === 'zh-CN' ? text.zh : text.en;
}

/**
 * The keys the restore drops (added since the backup) and brings back (deleted since: a key removed
 * because it leaked would be used again), with a few ids of each. No line for none.
 */
export function keysSinceBackupLines(since: KeysSinceBackup | undefined, lang: Lang): string[] {
  if (!since) return [];
  const ids = (sample: number[], count: number) => `${sample.join(', ')}${count > sample.length ? ', …' : ''}`;
  const lines: string[] = [];
  if (since.added) {
    const keys = formatCount(since.added, KEYS, lang);
    const sample = ids(since.addedIds, since.added);
    lines.push(say(lang, { en: `drops ${keys} added since the backup (they are not in it; ids ${sample})`, zh: `将删除备份之后新增的 ${keys}（备份中没有它们；id ${sample}）` }));
  }
  if (since.gone) {
    const keys = formatCount(since.gone, KEYS, lang);
    const sample = ids(since.goneIds, since.gone);
    lines.push(
      say(lang, {
        en: `brings back ${keys} deleted since the backup (backup ids ${sample}): a key deleted because it leaked would be used again`,
        zh: `将恢复备份之后删除的 ${keys}（备份中的 id ${sample}）：因泄露而删除的密钥会被重新使用`,
      }),
    );
  }
  return lines;
}

/** One line per change (upstreams indented under their group's line); one line when nothing changes. */
export function outsideKeyChangeLines(outside: OutsideKeyChanges, lang: Lang): string[] {
  const list = (names: string[]) => names.join(', ');
  const lines: string[] = [];
  const { groups, settings, proxyKeys } = outside;
  if (groups.added.length) lines.push(say(lang, { en: `groups added: ${list(groups.added)}`, zh: `新增分组：${list(groups.added)}` }));
  if (groups.removed.length) lines.push(say(lang, { en: `groups removed: ${list(groups.removed)}`, zh: `删除分组：${list(groups.removed)}` }));
  for (const g of groups.changed) lines.push(say(lang, { en: `group ${g.name} changes: ${list(g.fields)}`, zh: `分组 ${g.name} 变更：${list(g.fields)}` }));
  for (const u of outside.upstreams) lines.push(say(lang, { en: `  upstreams of ${u.group}: ${u.before ?? '-'} → ${u.after ?? '-'}`, zh: `  ${u.group} 的上游：${u.before ?? '-'} → ${u.after ?? '-'}` }));
  if (proxyKeys.global || proxyKeys.groups.length) {
    const where = [...(proxyKeys.global ? [say(lang, { en: 'the global proxy keys', zh: '全局代理密钥' })] : []), ...proxyKeys.groups];
    lines.push(say(lang, { en: `proxy keys change in: ${list(where)}`, zh: `代理密钥变更于：${list(where)}` }));
  }
  const changedSettings = [...settings.added, ...settings.removed, ...settings.changed];
  if (changedSettings.length) lines.push(say(lang, { en: `settings change: ${list(changedSettings)}`, zh: `设置变更：${list(changedSettings)}` }));
  if (lines.length === 0) lines.push(say(lang, { en: 'groups, upstreams, proxy keys and settings: as they are now', zh: '分组、上游、代理密钥和设置：与当前相同' }));
  return lines;
}
