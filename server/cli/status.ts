import { localize, type Lang } from '../core/errors';
import { describeTempMigration } from '../keystore/history/tempMigration';
import { formatNumber } from '../../shared/format';
import { printable } from '../../shared/printable';
import { KEY_STATUS_TEXT } from './keys';
import { encryptionKeySource } from '../keystore/deployment';
import { CONTAINER_KEY_VIA, readStatus, type StatusReport } from '../keystore/status';
import type { CliCommand } from './command';
import { DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, flag, progressPrinter, withStore, writeJson } from './options';

const VERDICT_TEXT = {
  data_not_encrypted: { en: 'ENCRYPTION_KEY is configured, but the data is not encrypted: run migrate-keys', zh: '已配置 ENCRYPTION_KEY，但数据未加密：请运行 migrate-keys' },
  key_not_configured: { en: 'the data is encrypted, but ENCRYPTION_KEY is not configured', zh: '数据已加密，但未配置 ENCRYPTION_KEY' },
  key_mismatch: { en: 'ENCRYPTION_KEY does not match the data (wrong key)', zh: 'ENCRYPTION_KEY 与数据不匹配（密钥错误）' },
};

const STATE_TEXT = {
  empty: { en: 'no keys stored yet', zh: '尚未存储任何密钥' },
  ok: { en: 'every key is stored as the configured ENCRYPTION_KEY says', zh: '所有密钥均与当前 ENCRYPTION_KEY 一致' },
  'needs-migration': { en: 'keys are plaintext although ENCRYPTION_KEY is set: run migrate-keys --to', zh: '已设置 ENCRYPTION_KEY，但密钥仍为明文：请运行 migrate-keys --to' },
  'key-missing': { en: 'keys are encrypted but no ENCRYPTION_KEY is set: GPT-Load cannot use them', zh: '密钥已加密但未设置 ENCRYPTION_KEY：GPT-Load 无法使用它们' },
  'wrong-key': { en: 'no key decrypts with the configured ENCRYPTION_KEY: it is the wrong key', zh: '当前 ENCRYPTION_KEY 无法解密任何密钥：密钥错误' },
  mixed: { en: 'keys are in more than one state (see counts and what to do below)', zh: '密钥处于多种状态（见计数及下方处理方法）' },
  'not-encrypted': { en: 'encryption is disabled: the data is stored in plaintext', zh: '未启用加密：数据以明文存储' },
};

const KEY_SOURCE_TEXT = {
  environment: { en: ', from the environment (shell), which overrides .env', zh: '，来自环境变量（shell），它优先于 .env' },
  'env-file': { en: ', from .env', zh: '，来自 .env' },
};

/**
 * The dashboard's encryption verdict, or, without one, what it still shows: with no ENCRYPTION_KEY its
 * security panel warns that sensitive data is stored in plain text.
 */
function dashboardText(report: StatusReport, t: (en: string, zh: string) => string): string {
  const verdict = report.dashboard.verdict;
  if (verdict) return `${verdict} — ${t(VERDICT_TEXT[verdict].en, VERDICT_TEXT[verdict].zh)}`;
  return report.encryptionEnabled ? t('no warning', '无警告') : t('ENCRYPTION_KEY is not set: sensitive data will be stored in plain text', '未设置 ENCRYPTION_KEY：敏感数据将以明文存储');
}

export function formatStatus(report: StatusReport, lang: Lang): string {
  const t = (en: string, zh: string) => (lang === 'zh-CN' ? zh : en);
  const n = (value: number) => formatNumber(value, lang);
  const ids = (list: Array<number | string> | undefined, total: number) =>
    list && list.length ? ` (${t('e.g. ids', '例如 id')} ${list.slice(0, 5).join(', ')}${total > 5 ? ', …' : ''})` : '';
  const counts = (c: StatusReport['apiKeys']) =>
    `${n(c.total)} ${t('rows', '行')}: ${n(c.plaintext)} ${t('plaintext', '明文')}${ids(c.exampleIds?.plaintext, c.plaintext)}, ` +
    `${n(c.encrypted)} ${t('encrypted with the configured key', '已用当前密钥加密')}, ${n(c.unknown)} ${t('undecryptable', '无法解密')}${ids(c.unknownIds, c.unknown)}` +
    (c.noHash ? `, ${n(c.noHash)} ${t('plaintext without key_hash', '无 key_hash 的明文')}${ids(c.exampleIds?.noHash, c.noHash)}` : '') +
    (c.wrongHash ? `, ${n(c.wrongHash)} ${t('decryptable with a wrong key_hash', '可解密但 key_hash 错误')}${ids(c.exampleIds?.wrongHash, c.wrongHash)}` : '') +
    (c.empty ? `, ${n(c.empty)} ${t('without key', '无密钥')}` : '');
  const container = report.keySource?.container;
  const via = container ? CONTAINER_KEY_VIA[container.via] : { en: '', zh: '' };
  const sameKey = container?.fingerprint === report.keyFingerprint;
  const lines = [
    ...(report.migration ? [`${t('Interrupted migration', '中断的迁移')}: ${localize(report.migration.explanation, lang)}`] : []),
    `${t('Database', '数据库')}: ${report.target}`,
    `ENCRYPTION_KEY: ${report.encryptionEnabled ? t(`set (fingerprint ${report.keyFingerprint})`, `已设置（指纹 ${report.keyFingerprint}）`) : t('not set (encryption disabled)', '未设置（未启用加密）')}` +
      (report.keySource && report.keySource.from !== 'unset' ? localize(KEY_SOURCE_TEXT[report.keySource.from], lang) : ''),
    ...(container
      ? [
          t(
            `GPT-Load's container (Compose service ${container.service}): ENCRYPTION_KEY from ${via.en} at ${container.file}:${container.line}, ${sameKey ? 'the same key' : `fingerprint ${container.fingerprint} (another key)`}`,
            `GPT-Load 容器（Compose 服务 ${container.service}）：ENCRYPTION_KEY 来自 ${via.zh}（${container.file}:${container.line}），${sameKey ? '同一密钥' : `指纹 ${container.fingerprint}（另一个密钥）`}`,
          ),
        ]
      : []),
    `${t('State', '状态')}: ${report.state} — ${localize(STATE_TEXT[report.state], lang)}`,
    `${t("GPT-Load's dashboard", 'GPT-Load 仪表盘')}: ${dashboardText(report, t)} (${t('sample', '抽样')} ${report.dashboard.sampled})`,
    `api_keys: ${counts(report.apiKeys)}`,
    `request_logs: ${counts(report.requestLogs)}`,
    ...(report.tempMigration ? [`temp_migration: ${localize(describeTempMigration(report.tempMigration), lang)}`] : []),
    ...(report.attention?.length ? [`${t('Needs attention', '需要处理')}:`, ...report.attention.map((item) => `  - ${localize(item, lang)}`)] : []),
    `${t('Groups', '分组')}:`,
    ...report.groups.map(
      (g) =>
        `  ${g.name} [${g.channelType}${g.groupType === 'aggregate' ? t(', aggregate', '，聚合') : ''}]: ` +
        `${n(g.active)} ${localize(KEY_STATUS_TEXT.active, lang)}${t(', ', '，')}${n(g.invalid)} ${localize(KEY_STATUS_TEXT.invalid, lang)}`,
    ),
  ];
  return lines.map(printable).join('\n');
}

export const statusCommand: CliCommand = {
  name: 'status',
  summary: "encryption state: GPT-Load's dashboard verdict and exact per-row counts",
  help: `Usage: gpt-load-keystore status [--env FILE] [--json] [--skip-logs]

Reports GPT-Load's own dashboard verdict (data_not_encrypted / key_not_configured / key_mismatch,
from the same 20-row sample and thresholds) and, beyond it, the exact state of every row of
api_keys and request_logs: plaintext, encrypted with the configured ENCRYPTION_KEY, plaintext
without key_hash (GPT-Load before v1.1.0), decryptable with a wrong key_hash, or undecryptable;
a temp_migration table left by an interrupted GPT-Load migrate-keys; the groups with their key
counts by status; and for each finding the command that resolves it. It says where the
ENCRYPTION_KEY it judged came from: the environment (which wins over .env, for GPT-Load too) or
.env, and when the environment's key hides a different one in .env; with a Compose file beside
the .env, the key GPT-Load's container gets (environment:, env_file:) and whether it is another
(fingerprints only, never a key).

Options:
  --json                machine-readable report
  --skip-logs           do not classify request_logs (it can hold millions of rows)
${DEPLOYMENT_HELP}

Exit codes: 0 state ok or empty, 1 anything needing attention (plaintext keys, encryption disabled,
missing or wrong key_hash, undecryptable rows, temp_migration, an interrupted migrate-keys run),
3 the .env is missing (--env FILE names no file), 7 cannot connect, 8 not a GPT-Load database.

Examples:
  gpt-load-keystore status
  gpt-load-keystore status --env /srv/gpt-load/.env --db-host 127.0.0.1:3306 --json`,
  options: { ...DEPLOYMENT_OPTIONS, json: { type: 'boolean' }, 'skip-logs': { type: 'boolean' } },
  async run(args, io) {
    const report = await withStore(args, io, (store, deployment) =>
      readStatus(
        store,
        { encryptionKey: deployment.encryptionKey, keySource: encryptionKeySource(deployment), skipLogs: flag(args, 'skip-logs'), envPath: deployment.envPath },
        { progress: flag(args, 'json') ? undefined : progressPrinter(io), cancellation: io.cancellation },
      ),
      { requireEnv: true },
    );
    if (flag(args, 'json')) writeJson(io, report);
    else io.stdout.write(formatStatus(report, io.lang) + '\n');
    // An interrupted migrate-keys run needs attention even where the rows look fine: its journal,
    // and perhaps a parked key in .env, wait for a rerun.
    // So does anything status lists with its command (a leftover temp_migration, rows of GPT-Load's history).
    return (report.state === 'ok' || report.state === 'empty') && !report.migration && !report.attention?.length ? 0 : 1;
  },
};
