/**
 * `backup create | check | restore | list` and `keys check-copies`: flags in, one keystore operation,
 * text or JSON out. Keys never come from argv unwarned: --key-env, --key-file and --key-prompt keep
 * them out of shell history and `ps`; copies to check come on stdin, one per line.
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { codecFor, type KeyCodec } from '../core/crypto';
import { KeystoreError, localize, type Lang, type Localized } from '../core/errors';
import { createBackup } from '../keystore/backup/create';
import { backupFilesIn, checkBackup, listBackups, VERDICT_EXIT_CODES, type BackupCheckReport, type BackupListEntry, type LiveDatabase } from '../keystore/backup/check';
import type { BackupVerdict } from '../../shared/types';
import { defaultBackupDir, type BackupFinding, type BackupInfo } from '../keystore/backup/format';
import { checkKeyCandidates, type KeyCandidatesReport } from '../keystore/backup/keys';
import { recordKeyCopyCheck } from '../keystore/audit/record';
import { restoreBackup, type BackupRestoreReport } from '../keystore/backup/restore';
import type { Deployment } from '../keystore/deployment';
import { formatAgo, formatNumber } from '../../shared/format';
import { keysAndLogs } from '../core/counts';
import { openStore, type Store } from '../store/connect';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { askYes, keyFromEnvVar, keyFromFile, keyRequired, promptHidden } from './keyInput';
import { deploymentOf, DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, fingerprintText, flag, positiveInt, progressPrinter, str, writeJson } from './options';
import { deploymentSealKeys } from '../keystore/backup/seal';
import { keysSinceBackupLines, outsideKeyChangeLines } from '../../shared/restorePreview';
import { printable, printableLines } from '../../shared/printable';
import { tableLines } from './table';

// ---------------------------------------------------------------------------------------------
// shared plumbing

const KEY_OPTIONS = {
  key: { type: 'string' },
  'key-env': { type: 'string' },
  'key-file': { type: 'string' },
  'key-prompt': { type: 'boolean' },
} as const;

const KEY_HELP = `Backup key (when it is not the .env's ENCRYPTION_KEY; one way only):
  --key-env NAME        from the environment variable NAME
  --key-file PATH       from a file holding only the key
  --key-prompt          asked on the terminal without echo
  --key KEY             on the command line (lands in shell history and \`ps\`: avoid)`;

/** The key given with --key* flags, or undefined when none was given. */
async function keyFromFlags(args: ParsedArgs, io: CliIO): Promise<string | undefined> {
  const given = Object.keys(KEY_OPTIONS).filter((name) => args.values[name] !== undefined && args.values[name] !== false);
  if (given.length > 1) throw new KeystoreError('usage', { en: `give the key one way only (got --${given.join(', --')})`, zh: `密钥只能用一种方式给出（收到 --${given.join('、--')}）` });
  let key: string | undefined;
  switch (given[0]) {
    case undefined:
      return undefined;
    case 'key':
      io.stderr.write(localize({ en: 'warning: --key puts the key into shell history and the process list; --key-env, --key-file or --key-prompt avoid that\n', zh: '警告：--key 会让密钥留在 shell 历史和进程列表中；--key-env、--key-file 或 --key-prompt 可避免\n' }, io.lang));
      key = str(args, 'key')!;
      break;
    case 'key-env':
      key = keyFromEnvVar(io, '--key-env', str(args, 'key-env')!);
      break;
    case 'key-file':
      key = keyFromFile(io, '--key-file', str(args, 'key-file')!);
      break;
    default:
      if (io.stdin.isTTY !== true) throw new KeystoreError('usage', { en: '--key-prompt: stdin is not a terminal; use --key-env or --key-file', zh: '--key-prompt：标准输入不是终端；请改用 --key-env 或 --key-file' });
      key = await promptHidden(io, { en: "the backup's ENCRYPTION_KEY: ", zh: '备份的 ENCRYPTION_KEY：' });
  }
  if (key === '') throw keyRequired('the key given is empty (an unencrypted backup needs no key)', '所给密钥为空（未加密的备份不需要密钥）');
  return key;
}

function timeoutMs(args: ParsedArgs): number {
  return positiveInt(args, 'timeout', 5) * 1000;
}

async function openReadOnly(args: ParsedArgs, deployment: Deployment): Promise<Store> {
  return openStore(deployment.target, { timeoutMs: timeoutMs(args), readonly: true });
}

/** "7d", "24h", "90m" → ms. */
export function durationFlag(args: ParsedArgs, name: string): number | undefined {
  const raw = str(args, name);
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/.exec(raw.trim());
  if (!m) throw new KeystoreError('usage', { en: `--${name} takes a duration such as 90m, 24h or 7d`, zh: `--${name} 的取值形如 90m、24h 或 7d` });
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

function t(lang: Lang, text: Localized): string {
  return localize(text, lang);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function age(ms: number | null, lang: Lang): string {
  return ms === null ? '-' : formatAgo(ms, lang);
}

function findingLines(findings: BackupFinding[], lang: Lang): string[] {
  const label: Record<BackupFinding['severity'], Localized> = { error: { en: 'error', zh: '错误' }, warning: { en: 'warning', zh: '警告' }, info: { en: 'note', zh: '说明' } };
  return findings.map((f) => `${t(lang, label[f.severity])}: ${t(lang, f.text)}`);
}

function rowsText(info: BackupInfo): string {
  return Object.entries(info.rows)
    .map(([table, rows]) => `${table} ${rows.toLocaleString('en-US')}`)
    .join(', ');
}

const VERDICT_TEXT: Record<BackupVerdict, Localized> = {
  ok: { en: 'ok — whole, and the key opens it', zh: '正常 — 完整，且密钥可以打开' },
  stale: { en: 'stale — whole, but old', zh: '过旧 — 完整，但时间较久' },
  differs: { en: 'differs — whole, but the live database has changed since', zh: '已不同 — 完整，但当前数据库此后已变化' },
  'needs-key': { en: 'needs another key — whole, but the key given does not open it', zh: '需要其他密钥 — 完整，但所给密钥无法打开' },
  unverified: { en: 'UNVERIFIED — its seal cannot be verified with the keys at hand: anyone with the backups folder could have rewritten it', zh: '未验证 — 无法用手头的密钥验证其封签：任何能访问备份目录的人都可能改写过它' },
  corrupt: { en: 'corrupt — damaged, incomplete or not a backup: do not rely on it', zh: '已损坏 — 损坏、不完整或不是备份：不可依赖' },
};

/** Appended to a plaintext backup's verdict: whole or not, it is a copy of the keys anyone can read. */
const PLAINTEXT_RISK: Localized = { en: ' — RISK: keys in PLAINTEXT', zh: ' — 风险：密钥为明文' };

/** `backup check`'s exit code: the verdict's, and 1 (a finding) for a plaintext backup that is otherwise ok. */
function checkExitCode(report: BackupCheckReport): number {
  return Math.max(VERDICT_EXIT_CODES[report.verdict], report.plaintext ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// backup create

const backupCreateCommand: CliCommand = {
  name: 'backup create',
  summary: "back up GPT-Load's tables (SQLite: online backup; MySQL/PostgreSQL: one consistent snapshot)",
  help: `Usage: gpt-load-keystore backup create [--out FILE | --dir DIR] [--no-logs] [--json]

Backs up GPT-Load's tables (api_keys, groups, group_sub_groups, request_logs, system_settings,
group_hourly_stats) while GPT-Load may keep running:
  SQLite             a copy made with SQLite's online backup API: a plain .db file, plus
                     FILE.sha256 (sha256sum format) beside it
  MySQL/PostgreSQL   one snapshot transaction streamed into a gzip'd JSON Lines file
                     (docs/backup-format.md); memory stays flat at any size
Every backup carries a sealed manifest: source (no password), time, tool version, per-table row
counts and SHA-256 checksums, the encryption state of every stored key, and the fingerprint of
the ENCRYPTION_KEY it needs. Files are created with mode 0600. Default location:
<.env folder>/backups/gpt-load-<engine>-<UTC time>.db|.jsonl.gz

Options:
  --out FILE            write exactly this file (must not exist)
  --dir DIR             folder for the generated name (default: backups/ beside the .env)
  --no-logs             leave request_logs out (it can hold millions of rows)
  --json                machine-readable result on stdout
${DEPLOYMENT_HELP}

Exit codes: 0 written, 7 cannot connect, 8 not a GPT-Load database, 10 file I/O, 130 cancelled.

Examples:
  gpt-load-keystore backup create
  gpt-load-keystore backup create --env /srv/gpt-load/.env --db-host 127.0.0.1:5432 --out /safe/before-rotation.jsonl.gz`,
  options: { ...DEPLOYMENT_OPTIONS, out: { type: 'string' }, dir: { type: 'string' }, 'no-logs': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    const store = await openReadOnly(args, deployment);
    let result;
    try {
      result = await createBackup(
        store,
        {
          encryptionKey: deployment.encryptionKey,
          authKey: deployment.env.get('AUTH_KEY'),
          envDir: deployment.envDir,
          out: str(args, 'out') !== undefined ? resolve(io.cwd, str(args, 'out')!) : undefined,
          dir: str(args, 'dir') !== undefined ? resolve(io.cwd, str(args, 'dir')!) : undefined,
          includeLogs: !flag(args, 'no-logs'),
        },
        { progress: progressPrinter(io), cancellation: io.cancellation },
      );
    } finally {
      await store.close();
    }
    if (flag(args, 'json')) {
      writeJson(io, result);
      return 0;
    }
    const lang = io.lang;
    const info = result.info;
    io.stdout.write(
      printableLines([
        t(lang, { en: `Backup written: ${info.path} (${bytes(info.bytes)}, mode 0600)`, zh: `备份已写入：${info.path}（${bytes(info.bytes)}，权限 0600）` }),
        t(lang, { en: `  source: ${info.source}`, zh: `  来源：${info.source}` }),
        t(lang, { en: `  rows: ${rowsText(info)}`, zh: `  行数：${rowsText(info)}` }),
        t(lang, { en: `  needs key: ${info.keyFingerprint}`, zh: `  所需密钥：${fingerprintText(info.keyFingerprint, 'zh-CN')}` }),
        ...findingLines(result.warnings, lang),
      ]),
    );
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------
// backup check

function checkText(report: BackupCheckReport, lang: Lang): string {
  const lines = [`${t(lang, { en: 'Backup', zh: '备份' })}: ${report.path}`];
  const info = report.info;
  if (info) {
    lines.push(
      t(lang, { en: `  ${info.layout === 'sqlite' ? 'SQLite file' : 'portable file'}, ${bytes(info.bytes)}, taken ${info.createdAt} (${age(report.ageMs, 'en')}) from ${info.source} by gpt-load-keystore ${info.toolVersion}`, zh: `  ${info.layout === 'sqlite' ? 'SQLite 文件' : '可移植文件'}，${bytes(info.bytes)}，${info.createdAt}（${age(report.ageMs, 'zh-CN')}）取自 ${info.source}，工具版本 ${info.toolVersion}` }),
      t(lang, { en: `  rows: ${rowsText(info)}`, zh: `  行数：${rowsText(info)}` }),
    );
    const key = report.key;
    const stored = keysAndLogs(info.rows.api_keys ?? 0, info.rows.request_logs ?? 0);
    if (key.needed === 'plaintext') {
      lines.push(t(lang, { en: `  needs no key: ${stored.en} stored in plaintext`, zh: `  无需密钥：${stored.zh}以明文存储` }));
    } else {
      const opens =
        key.works === null
          ? t(lang, { en: 'not tested', zh: '未测试' })
          : key.works
            ? t(lang, { en: key.checked > 0 ? `opens all of them (${stored.en})` : 'matches', zh: key.checked > 0 ? `可全部打开（${stored.zh}）` : '匹配' })
            : t(lang, { en: 'does NOT open it', zh: '无法打开' });
      lines.push(t(lang, { en: `  needs key: ${key.needed ?? 'unknown'}; key given: ${key.given ?? '-'} — ${opens}`, zh: `  所需密钥：${fingerprintText(key.needed, 'zh-CN')}；所给密钥：${key.given ? fingerprintText(key.given, 'zh-CN') : '-'} — ${opens}` }));
    }
  }
  if (report.live) {
    const live = report.live;
    lines.push(
      live.missing === 0 && live.added === 0
        ? t(lang, { en: `  live database (${live.target}): the same ${keysAndLogs(live.liveKeys, 0).en}`, zh: `  当前数据库（${live.target}）：相同的 ${keysAndLogs(live.liveKeys, 0).zh}` })
        : t(lang, {
            en: `  live database (${live.target}): ${live.missing} key(s) gone since the backup${live.missingIds.length ? ` (backup ids ${live.missingIds.join(', ')})` : ''}, ${live.added} added${live.addedIds.length ? ` (ids ${live.addedIds.join(', ')})` : ''}`,
            zh: `  当前数据库（${live.target}）：备份后有 ${live.missing} 个密钥已删除${live.missingIds.length ? `（备份 id ${live.missingIds.join('、')}）` : ''}，新增 ${live.added} 个${live.addedIds.length ? `（id ${live.addedIds.join('、')}）` : ''}`,
          }),
    );
  }
  lines.push(...findingLines(report.findings, lang));
  lines.push(`${t(lang, { en: 'Verdict', zh: '结论' })}: ${t(lang, VERDICT_TEXT[report.verdict])}${report.plaintext ? t(lang, PLAINTEXT_RISK) : ''}`);
  return printableLines(lines);
}

const backupCheckCommand: CliCommand = {
  name: 'backup check',
  summary: 'verify a backup: integrity, completeness, the key it needs, age, and what changed since',
  positionals: true,
  help: `Usage: gpt-load-keystore backup check FILE [--env FILE] [--key-env NAME | --key-file PATH | --key-prompt] [--max-age 7d] [--no-live] [--json]

Checks a backup made by \`backup create\`:
  integrity     every byte against its digest; every row against its table's SHA-256; every
                table present with the manifest's row count; SQLite's PRAGMA integrity_check
  key           every stored key opens with the key given, else the .env's ENCRYPTION_KEY (or:
                "this backup needs the key with fingerprint …")
  age           older than --max-age (default 7d) is stale
  live          keys missing from, or added to, the deployment's database since the backup (by
                hash); skipped with a note when the database cannot be reached

Options:
  --max-age DUR         e.g. 24h, 7d (default 7d)
  --no-live             do not compare with the live database
  --json                the full report on stdout
${KEY_HELP}
${DEPLOYMENT_HELP}

Exit codes: 0 ok, 1 stale, the live database differs, or the backup holds keys in plaintext (a
risk: anyone who reads the file has them), 4 the key does not open the backup, 9 corrupt or
incomplete (or not a backup), 10 file unreadable.

Examples:
  gpt-load-keystore backup check backups/gpt-load-sqlite-20250101T020304Z.db
  OLD_KEY=… gpt-load-keystore backup check old.jsonl.gz --key-env OLD_KEY --no-live --json`,
  options: { ...DEPLOYMENT_OPTIONS, ...KEY_OPTIONS, 'max-age': { type: 'string' }, 'no-live': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    const file = singleFile(args, 'backup check');
    const deployment = deploymentOf(args, io);
    const key = await keyFromFlags(args, io);
    const codec: KeyCodec = codecFor(key ?? deployment.encryptionKey);
    let store: Store | null = null;
    let live: LiveDatabase | { unavailable: Localized } | undefined;
    if (!flag(args, 'no-live')) {
      try {
        store = await openReadOnly(args, deployment);
        live = { store, codec: codecFor(deployment.encryptionKey) };
      } catch (err) {
        if (!(err instanceof KeystoreError) || err.code === 'cancelled') throw err;
        live = { unavailable: err.text };
      }
    }
    let report: BackupCheckReport;
    try {
      report = await checkBackup(resolve(io.cwd, file), { codec, sealKeys: deploymentSealKeys(deployment), live, maxAgeMs: durationFlag(args, 'max-age') }, { progress: flag(args, 'json') ? undefined : progressPrinter(io), cancellation: io.cancellation });
    } finally {
      await store?.close();
    }
    if (flag(args, 'json')) writeJson(io, report);
    else io.stdout.write(checkText(report, io.lang));
    return checkExitCode(report);
  },
};

function singleFile(args: ParsedArgs, command: string): string {
  if (args.positionals.length !== 1) throw new KeystoreError('usage', { en: `${command} takes one backup FILE`, zh: `${command} 需要一个备份文件 FILE` });
  return args.positionals[0];
}

// ---------------------------------------------------------------------------------------------
// backup restore

/** `asking`: the plan shown before the terminal's question, worded as what is about to happen. */
function restoreText(report: BackupRestoreReport, lang: Lang, asking = false): string {
  const rows = Object.entries(report.restored)
    .map(([table, n]) => `${table} ${formatNumber(n, lang)}`)
    .join(', ');
  const ahead = asking || report.dryRun;
  const header: Localized = asking
    ? { en: `About to restore ${report.file} into ${report.target}`, zh: `即将把 ${report.file} 恢复到 ${report.target}` }
    : report.dryRun
      ? { en: `Dry run: would restore ${report.file} into ${report.target}`, zh: `试运行：将把 ${report.file} 恢复到 ${report.target}` }
      : { en: `Restored ${report.file} into ${report.target}, in one transaction`, zh: `已在同一事务中把 ${report.file} 恢复到 ${report.target}` };
  const lines = [
    t(lang, header),
    t(lang, { en: `  rows${ahead ? ' (replacing every row of these tables)' : ''}: ${rows}`, zh: `  行数${ahead ? '（替换这些表的全部数据）' : ''}：${rows}` }),
  ];
  lines.push(...keysSinceBackupLines(report.keysSinceBackup, lang).map((line) => `  ${line}`));
  if (report.outside) lines.push(...outsideKeyChangeLines(report.outside, lang).map((line) => `  ${line}`));
  if (report.untouched.length) lines.push(t(lang, { en: `  not in the backup, left as they are: ${report.untouched.join(', ')}`, zh: `  不在备份中、保持不变：${report.untouched.join('、')}` }));
  if (report.reencrypted) {
    lines.push(t(lang, { en: `  keys re-encrypted ${report.reencrypted.from} → ${report.reencrypted.to} (the .env's key): ${formatNumber(report.reencrypted.rows, 'en')}`, zh: `  密钥重新加密 ${report.reencrypted.from} → ${report.reencrypted.to}（.env 的密钥）：${formatNumber(report.reencrypted.rows, 'zh-CN')} 行` }));
  }
  if (report.safetyBackup) lines.push(t(lang, { en: `  the state before is backed up in ${report.safetyBackup.path}`, zh: `  恢复前的状态已备份到 ${report.safetyBackup.path}` }));
  if (report.cache) lines.push(t(lang, { en: `  Redis: removed ${formatNumber(report.cache.removed, 'en')} stale entries`, zh: `  Redis：删除了 ${formatNumber(report.cache.removed, 'zh-CN')} 个过期条目` }));
  for (const w of report.warnings) lines.push(`${t(lang, { en: 'warning', zh: '警告' })}: ${t(lang, w)}`);
  if (!ahead) lines.push(t(lang, { en: 'Start GPT-Load again when ready.', zh: '准备就绪后请重新启动 GPT-Load。' }));
  return printableLines(lines);
}


const backupRestoreCommand: CliCommand = {
  name: 'backup restore',
  summary: "replace GPT-Load's rows with a checked backup, in one transaction",
  positionals: true,
  help: `Usage: gpt-load-keystore backup restore FILE [--dry-run] [--force] [--yes] [--key-env NAME | --key-file PATH | --key-prompt]

Checks the backup in full, then replaces every row of the tables it holds with the backup's rows
in ONE transaction: a crash or kill at any point leaves the old data as it was. SQLite is
restored into the live file itself (its journal makes the transaction atomic); the state before
is first saved as a new verified backup (unless --no-safety-backup).

Refuses a backup whose seal cannot be verified (unless --accept-unverified), and refuses while GPT-Load runs (its /health answers, or other sessions are connected to the
database) unless --force; refuses a damaged backup; refuses when the backup's keys are under
another ENCRYPTION_KEY than the .env's unless that key is given — then every key is
re-encrypted to the .env's key in the same transaction, so GPT-Load reads them at once. A backup
of plaintext keys is encrypted with the .env's key the same way.

Options:
  --dry-run             every check, and what would be restored, including the keys added since
                        the backup (dropped) and deleted since (brought back); nothing written
  --force               go on although GPT-Load looks running
  --yes                 do not ask for confirmation on a terminal
  --no-safety-backup    do not back up the current state first
  --no-cache            do not clear GPT-Load's stale Redis entries afterwards
  --redis-host HOST[:PORT]  reach REDIS_DSN's server here
  --json                machine-readable result on stdout
  --accept-unverified   restore even though the backup's seal cannot be verified with the keys at
                        hand (an older unkeyed backup, or one sealed under a key not given): its
                        rows may not be what was backed up. Only for files you know the origin of
${KEY_HELP}
${DEPLOYMENT_HELP}

Exit codes: 0 restored (or dry run), 3 the backup's key is needed, 4 wrong key / a stored key
does not open, 5 the database cannot take the backup, 6 GPT-Load is running, 7 cannot connect,
9 the backup is corrupt or incomplete, 130 cancelled or not confirmed.

Examples:
  gpt-load-keystore backup restore backups/gpt-load-postgres-20250101T020304Z.jsonl.gz --dry-run
  OLD_KEY=… gpt-load-keystore backup restore old.db --key-env OLD_KEY`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    ...KEY_OPTIONS,
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
    yes: { type: 'boolean' },
    'no-safety-backup': { type: 'boolean' },
    'no-cache': { type: 'boolean' },
    'redis-host': { type: 'string' },
    json: { type: 'boolean' },
    'accept-unverified': { type: 'boolean' },
  },
  async run(args, io) {
    const file = resolve(io.cwd, singleFile(args, 'backup restore'));
    const deployment = deploymentOf(args, io);
    const backupKey = await keyFromFlags(args, io);
    const json = flag(args, 'json');
    const report = await restoreBackup(
      {
        deployment,
        file,
        backupKey,
        force: flag(args, 'force'),
        dryRun: flag(args, 'dry-run'),
        safetyBackup: !flag(args, 'no-safety-backup'),
        clearCache: !flag(args, 'no-cache'),
        redisHost: str(args, 'redis-host'),
        timeoutMs: timeoutMs(args),
        acceptUnverified: flag(args, 'accept-unverified'),
        hooks:
          io.stdin.isTTY === true && !flag(args, 'yes')
            ? {
                async confirm(plan) {
                  io.stderr.write(restoreText(plan, io.lang, true));
                  return askYes(io, t(io.lang, { en: 'Replace these rows? Type "yes": ', zh: '确认替换这些数据？请输入 "yes"：' }));
                },
              }
            : {},
      },
      { progress: progressPrinter(io), cancellation: io.cancellation },
    );
    if (json) writeJson(io, report);
    else io.stdout.write(restoreText(report, io.lang));
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------
// backup list

function listText(entries: BackupListEntry[], directory: string, lang: Lang): string {
  if (entries.length === 0) return t(lang, { en: `no backups in ${directory}\n`, zh: `${directory} 中没有备份\n` });
  const verdict: Record<BackupVerdict, Localized> = {
    ok: { en: 'works with the current key', zh: '可用当前密钥' },
    stale: { en: 'stale', zh: '过旧' },
    differs: { en: 'differs', zh: '已不同' },
    'needs-key': { en: 'needs another key', zh: '需要其他密钥' },
    unverified: { en: 'UNVERIFIED', zh: '未验证' },
    corrupt: { en: 'CORRUPT', zh: '已损坏' },
  };
  // A plaintext backup is never shown as just "works with the current key": it is a copy of every key.
  const plaintextLabel: Localized = { en: 'PLAINTEXT keys (risk)', zh: '明文密钥（风险）' };
  const rows = entries.map((e) => [
    e.plaintext === null ? t(lang, verdict[e.verdict]) : e.verdict === 'ok' ? t(lang, plaintextLabel) : `${t(lang, verdict[e.verdict])}, ${t(lang, plaintextLabel)}`,
    e.info?.createdAt.replace(/\.\d+Z$/, 'Z') ?? '-',
    e.info?.engine ?? '-',
    e.key.needed ? fingerprintText(e.key.needed, lang) : '?',
    bytes(e.bytes),
    e.path.slice(directory.length + 1),
  ].map(printable));
  const header = t(lang, { en: 'VERDICT|CREATED|ENGINE|NEEDS KEY|SIZE|FILE', zh: '结论|创建时间|引擎|所需密钥|大小|文件' }).split('|');
  const lines = tableLines([header, ...rows]);
  for (const e of entries.filter((x) => x.verdict === 'corrupt')) lines.push(...findingLines(e.findings.filter((f) => f.severity === 'error'), lang).map((l) => `${e.path.slice(directory.length + 1)}: ${l}`));
  for (const e of entries.filter((x) => x.plaintext !== null)) lines.push(...findingLines(e.findings.filter((f) => f.code === 'plaintext-keys'), lang).map((l) => `${e.path.slice(directory.length + 1)}: ${l}`));
  return printableLines(lines);
}

const backupListCommand: CliCommand = {
  name: 'backup list',
  summary: 'backups beside the deployment with their verdicts (works with the current key / needs another / stale / corrupt / plaintext keys)',
  help: `Usage: gpt-load-keystore backup list [--dir DIR] [--max-age 7d] [--json]

Lists the backups in DIR (default: backups/ beside the .env), newest first, each quickly
checked: manifest and seal, every byte against its digest, the key it needs compared with the
.env's ENCRYPTION_KEY by fingerprint, and its age. Interrupted backups (*.partial) show as
corrupt: delete them, they may hold keys. Backups that hold keys in plaintext (taken before
encryption was enabled) are marked as a risk: \`backup prune --plaintext\` deletes them once a
backup under the current key exists. \`backup check FILE\` checks one backup in full.

Options:
  --dir DIR             folder to list
  --max-age DUR         older is stale (default 7d)
  --json                machine-readable list
${DEPLOYMENT_HELP}

Exit codes: 0 listed (whatever the verdicts), 3 .env unreadable, 10 folder unreadable.`,
  options: { ...DEPLOYMENT_OPTIONS, dir: { type: 'string' }, 'max-age': { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    const directory = str(args, 'dir') !== undefined ? resolve(io.cwd, str(args, 'dir')!) : defaultBackupDir(deployment.envDir);
    const list = await listBackups(directory, { codec: codecFor(deployment.encryptionKey), sealKeys: deploymentSealKeys(deployment), maxAgeMs: durationFlag(args, 'max-age') }, { cancellation: io.cancellation });
    if (flag(args, 'json')) writeJson(io, list);
    else io.stdout.write(listText(list.backups, list.directory, io.lang));
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------
// keys check-copies

async function readCandidates(io: CliIO): Promise<string[]> {
  const candidates: string[] = [];
  if (io.stdin.isTTY === true) {
    for (;;) {
      const key = await promptHidden(io, { en: `copy #${candidates.length + 1} (empty line to finish): `, zh: `第 ${candidates.length + 1} 份副本（空行结束）：` });
      if (key === '') return candidates;
      candidates.push(key);
    }
  }
  for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) if (line !== '') candidates.push(line);
  return candidates;
}

function copiesText(report: KeyCandidatesReport, lang: Lang): string {
  const lines = [
    report.sampled > 0
      ? t(lang, { en: `Tried each copy on ${report.sampled} stored encrypted keys; the .env's key has fingerprint ${report.envFingerprint}`, zh: `每份副本在 ${report.sampled} 个已加密的存储密钥上测试；.env 中密钥的指纹为 ${report.envFingerprint}` })
      : t(lang, { en: `No encrypted keys are stored: copies are compared by fingerprint only (.env: ${report.envFingerprint})`, zh: `数据库中没有已加密的密钥：仅按指纹比较（.env：${report.envFingerprint}）` }),
  ];
  for (const r of report.results) {
    const verdict = r.sampled > 0 ? (r.works ? { en: `opens ${r.decrypted}/${r.sampled}`, zh: `可打开 ${r.decrypted}/${r.sampled}` } : { en: `opens ${r.decrypted}/${r.sampled}: NOT the key`, zh: `可打开 ${r.decrypted}/${r.sampled}：不是该密钥` }) : { en: '', zh: '' };
    const parts = [
      `#${r.index + 1}: ${t(lang, { en: 'fingerprint', zh: '指纹' })} ${r.fingerprint}`,
      t(lang, verdict),
      r.matchesEnv ? t(lang, { en: "same as the .env's key", zh: '与 .env 中的密钥相同' }) : t(lang, { en: "differs from the .env's key", zh: '与 .env 中的密钥不同' }),
      r.matchesBackups.length ? t(lang, { en: `opens backups: ${r.matchesBackups.join(', ')}`, zh: `可打开备份：${r.matchesBackups.join('、')}` }) : '',
    ].filter(Boolean);
    lines.push(parts.join(' — '));
  }
  for (const path of report.unreadableBackups) lines.push(t(lang, { en: `note: ${path} is not a readable backup`, zh: `说明：${path} 不是可读的备份` }));
  return lines.join('\n') + '\n';
}

const keysCheckCopiesCommand: CliCommand = {
  name: 'keys check-copies',
  summary: 'check copies of ENCRYPTION_KEY (stdin, one per line) against the stored keys and the backups',
  help: `Usage: gpt-load-keystore keys check-copies [--backups DIR] [--json] < copies.txt

A lost ENCRYPTION_KEY makes every stored key unrecoverable, backups included: keep copies and
check them. Reads one copy per line on stdin (asked without echo on a terminal; never from the
command line), tries each on a sample of the stored encrypted keys, and says whether it is the
.env's key and which backups (in --backups DIR, default backups/ beside the .env) it opens.
Only fingerprints are printed.

Options:
  --backups DIR         folder of backups to match (default: backups/ beside the .env)
  --json                machine-readable report
${DEPLOYMENT_HELP}

Exit codes: 0 every copy is the key (or, with no encrypted keys stored, the .env's key),
1 some copy is not, 2 no copies given, 7 cannot connect.

Example:
  pass show gpt-load/encryption-key | gpt-load-keystore keys check-copies`,
  options: { ...DEPLOYMENT_OPTIONS, backups: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    const candidates = await readCandidates(io);
    if (candidates.length === 0) throw new KeystoreError('usage', { en: 'no copies on stdin (one key per line)', zh: '标准输入中没有副本（每行一个密钥）' });
    const directory = str(args, 'backups') !== undefined ? resolve(io.cwd, str(args, 'backups')!) : defaultBackupDir(deployment.envDir);
    const backups = backupFilesIn(directory);
    const store = await openReadOnly(args, deployment);
    let report: KeyCandidatesReport;
    try {
      report = await checkKeyCandidates(store, { candidates, envKey: deployment.encryptionKey, backups }, { cancellation: io.cancellation });
    } finally {
      await store.close();
    }
    recordKeyCopyCheck(deployment.envDir, deployment.encryptionKey, report.results);
    if (flag(args, 'json')) writeJson(io, report);
    else io.stdout.write(copiesText(report, io.lang));
    const good = report.results.every((r) => (report.sampled > 0 ? r.works : r.matchesEnv));
    return good ? 0 : 1;
  },
};

export const BACKUP_COMMANDS: CliCommand[] = [backupCreateCommand, backupCheckCommand, backupRestoreCommand, backupListCommand, keysCheckCopiesCommand];
