/**
 * What migrate-keys tells the operator besides its counts: the dry-run verdict, what to do next,
 * how an interrupted earlier run relates to this one, and the likely cause of a refusal.
 */
import { classifyRows, codecFor } from '../../core/crypto';
import type { Localized } from '../../core/errors';
import { assessSecret } from '../../core/secrets';
import type { Store } from '../../store/connect';
import { sampleHashedKeys } from '../../store/rows';
import type { Deployment } from '../deployment';
import type { JournalDatabaseState, MigrationJournal } from '../journal';
import type { InterruptedRun, MigrateKeysResult, MigrationPlan } from './types';
import { PENDING_KEY_VAR, readFileEncryptionKey } from './env';
import { describeTempMigration } from '../history/tempMigration';
import { leftovers, n, rewritten, type PhaseOneCounts } from './plan';

/** The database relative to an interrupted run, from this run's phase-1 counts. */
export function journalDatabaseState(journal: MigrationJournal, from: string, to: string, counts: PhaseOneCounts): JournalDatabaseState {
  const keyed = (c: PhaseOneCounts['api_keys']) => c.total - c.empty;
  const all = [counts.api_keys, counts.request_logs].filter((c): c is PhaseOneCounts['api_keys'] => c !== null);
  if (journal.from !== from || journal.to !== to) return 'unknown';
  // Undecryptable rows a run left as they are (--leave-undecryptable) belong to both sides.
  if (all.every((c) => rewritten(c) + c.unknown === keyed(c))) return 'old';
  if (all.every((c) => c.target + c.unknown === keyed(c))) return 'new';
  return 'other';
}

export function withInterruption(reason: Localized, interrupted: InterruptedRun | null): Localized {
  if (!interrupted || interrupted.sameKeys) return reason;
  const j = interrupted.journal;
  return {
    en: `${reason.en}\n  Note: an interrupted run (started ${j.startedAt}) was moving this database from key ${j.from} to key ${j.to}; if it committed, the data is under ${j.to}${j.updateEnv ? ` (that key is parked in .env as ${PENDING_KEY_VAR})` : ''}.`,
    zh: `${reason.zh}\n  注意：有一次中断的运行（开始于 ${j.startedAt}）正把此数据库从密钥 ${j.from} 迁移到 ${j.to}；若它已提交，数据使用的是 ${j.to}${j.updateEnv ? `（该密钥暂存在 .env 的 ${PENDING_KEY_VAR} 中）` : ''}。`,
  };
}

/**
 * The usual cause of rows that decrypt with neither side: the data is under the ENCRYPTION_KEY the
 * .env holds, and the command forgot it (e.g. --to alone on encrypted data). Checked on GPT-Load's
 * own 20-row sample.
 */
export async function envKeyHint(store: Store, deployment: Deployment, from: string, to: string): Promise<Localized | null> {
  const envKey = readFileEncryptionKey(deployment.envPath);
  if (envKey === '') return null;
  const codec = codecFor(envKey);
  if (codec.fingerprint === from || codec.fingerprint === to) return null;
  const sample = await sampleHashedKeys(store, 20);
  if (sample.length === 0 || !classifyRows(sample, codec).every((state) => state === 'encrypted')) return null;
  return {
    en: `The ENCRYPTION_KEY in ${deployment.envPath} (fingerprint ${codec.fingerprint}) decrypts them: pass it as the old key (--from-env / --from-file / --from-prompt) to change the key.`,
    zh: `${deployment.envPath} 中的 ENCRYPTION_KEY（指纹 ${codec.fingerprint}）能解密它们：如要更换密钥，请把它作为旧密钥传入（--from-env / --from-file / --from-prompt）。`,
  };
}

export function dryRunNote(plan: MigrationPlan, clearsCache: boolean): Localized {
  const what =
    plan.action === 'complete'
      ? { en: 'no row would change', zh: '不会改动任何行' }
      : {
          en: `${n(plan.rows)} rows would be rewritten (api_keys ${n(rewritten(plan.tables.api_keys))}${plan.tables.request_logs ? `, request_logs ${n(rewritten(plan.tables.request_logs))}` : ''})${plan.alreadyDone ? `; ${n(plan.alreadyDone)} are already under the target key` : ''}`,
          zh: `将改写 ${n(plan.rows)} 行（api_keys ${n(rewritten(plan.tables.api_keys))}${plan.tables.request_logs ? `，request_logs ${n(rewritten(plan.tables.request_logs))}` : ''}）${plan.alreadyDone ? `；${n(plan.alreadyDone)} 行已使用目标密钥` : ''}`,
        };
  const then = [
    plan.updateEnv ? { en: '.env would be updated', zh: '将更新 .env' } : null,
    clearsCache ? { en: "GPT-Load's stale Redis entries would be removed", zh: '将删除 GPT-Load 过期的 Redis 缓存' } : null,
  ].filter((x): x is Localized => x !== null);
  const history = historyNotes(plan, true);
  return {
    en: `dry run: every check passed; ${what.en}${history.map((t) => `; ${t.en}`).join('')}${then.map((t) => `; ${t.en}`).join('')}. Nothing was written.`,
    zh: `试运行：所有检查均通过；${what.zh}${history.map((t) => `；${t.zh}`).join('')}${then.map((t) => `；${t.zh}`).join('')}。未写入任何内容。`,
  };
}

/** The leftovers of GPT-Load's history a run brings along, and the undecryptable rows it leaves, per table. */
function historyNotes(plan: MigrationPlan, future: boolean): Localized[] {
  const out: Localized[] = [];
  const tables = ([['api_keys', plan.tables.api_keys], ['request_logs', plan.tables.request_logs]] as const).filter(([, c]) => c !== null);
  const brought = tables.filter(([, c]) => leftovers(c!) > 0);
  if (brought.length > 0) {
    const list = (lang: 'en' | 'zh') =>
      brought
        .map(([table, c]) =>
          lang === 'en'
            ? `${table} ${n(leftovers(c!))} (${n(c!.plaintext)} plaintext, ${n(c!.noHash)} without key_hash, ${n(c!.wrongHash)} with a wrong key_hash; e.g. ids ${c!.leftoverIds.join(', ')})`
            : `${table} ${n(leftovers(c!))} 行（明文 ${n(c!.plaintext)}，无 key_hash ${n(c!.noHash)}，key_hash 错误 ${n(c!.wrongHash)}；例如 id ${c!.leftoverIds.join('、')}）`,
        )
        .join(lang === 'en' ? '; ' : '；');
    out.push({
      en: `${future ? 'would bring' : 'brought'} along leftovers of GPT-Load's history: ${list('en')}`,
      zh: `${future ? '将一并处理' : '已一并处理'} GPT-Load 历史遗留的行：${list('zh')}`,
    });
  }
  if (plan.tempMigration) {
    const found = describeTempMigration(plan.tempMigration);
    out.push({ en: `${found.en}: ${future ? 'would be dropped' : 'dropped'}`, zh: `${found.zh}：${future ? '将被删除' : '已删除'}` });
  }
  const left = tables.filter(([, c]) => c!.unknown > 0);
  if (left.length > 0) {
    const list = left.map(([table, c]) => `${table} ${n(c!.unknown)} (ids ${c!.sampleIds.join(', ')}${c!.unknown > c!.sampleIds.length ? ', …' : ''})`).join('; ');
    out.push({
      en: `--leave-undecryptable: ${list} undecryptable rows ${future ? 'would stay' : 'stayed'} exactly as they were; GPT-Load shows them as failed-to-decrypt. List them with \`keys list --undecryptable\``,
      zh: `--leave-undecryptable：${list} 行无法解密的数据${future ? '将' : '已'}保持原样；GPT-Load 会将其显示为 failed-to-decrypt。可用 \`keys list --undecryptable\` 列出`,
    });
  }
  return out;
}

export function summaryNotes(plan: MigrationPlan, result: MigrateKeysResult): Localized[] {
  const out: Localized[] = historyNotes(plan, false);
  if (plan.action === 'finish') {
    out.push({
      en: `finished a partial change: ${n(plan.alreadyDone)} rows were already under the target key, ${n(plan.rows)} were rewritten`,
      zh: `已完成一次未完成的变更：${n(plan.alreadyDone)} 行原已使用目标密钥，改写了 ${n(plan.rows)} 行`,
    });
  }
  if (plan.skipLogs) {
    out.push({
      en: 'request_logs were left as they are (--skip-logs): their key_value / key_hash stay under the old key',
      zh: 'request_logs 保持不变（--skip-logs）：其 key_value / key_hash 仍使用旧密钥',
    });
  }
  const restart = result.restart.advice;
  if (plan.updateEnv) {
    out.push({ en: `ENCRYPTION_KEY in .env is updated. ${restart.en}.`, zh: `.env 中的 ENCRYPTION_KEY 已更新。${restart.zh}。` });
  } else {
    const set: Localized =
      plan.mode === 'disable'
        ? { en: 'remove ENCRYPTION_KEY from .env', zh: '从 .env 删除 ENCRYPTION_KEY' }
        : { en: `set ENCRYPTION_KEY in .env to the new key (fingerprint ${plan.toFingerprint})`, zh: `把 .env 中的 ENCRYPTION_KEY 设为新密钥（指纹 ${plan.toFingerprint}）` };
    out.push({ en: `Next, ${set.en} (or rerun with --update-env). ${restart.en}.`, zh: `下一步：${set.zh}（或加 --update-env 重新运行）。${restart.zh}。` });
  }
  return out;
}

/**
 * GPT-Load's dashboard warnings (assessSecret, its wording) about the keys a run reads with: the
 * --from key, and the .env's ENCRYPTION_KEY when it is neither side (the new key has its own check).
 */
export function currentKeyWarnings(fromKey: string, toKey: string, envKey: string): Localized[] {
  const about = (key: string, which: Localized) =>
    assessSecret(key, 'ENCRYPTION_KEY').map((w) => ({ en: `${which.en}: ${w.text.en}`, zh: `${which.zh}：${w.text.zh}` }));
  return [
    ...(fromKey !== '' ? about(fromKey, { en: 'the --from key', zh: '--from 密钥' }) : []),
    ...(envKey !== '' && envKey !== fromKey && envKey !== toKey ? about(envKey, { en: "the .env's ENCRYPTION_KEY", zh: '.env 中的 ENCRYPTION_KEY' }) : []),
  ];
}
