/**
 * `migrate-keys`: GPT-Load's command (same flags, same scenarios) on top of keystore/migrate/migrateKeys.ts,
 * plus ways to pass keys that stay out of shell history and `ps`, a generated key, .env update,
 * confirmation on a terminal, dry run and JSON output. This module turns flags into the two keys,
 * asks, prints; the operation itself lives in keystore/migrate/migrateKeys.ts (the daemon calls it too).
 */
import { keyFingerprint } from '../core/crypto';
import { KeystoreError, localize, type Lang, type Localized } from '../core/errors';
import { generateSecret } from '../core/secrets';
import type { Deployment } from '../keystore/deployment';
import { readJournal } from '../keystore/journal';
import { migrateKeys } from '../keystore/migrate/migrateKeys';
import type { MigrateKeysResult, MigrationPlan } from '../keystore/migrate/types';
import { backupBeforeWrite, plaintextBackupWarning, previousKeyBackupNote, type MigrationBackup } from '../keystore/backup/beforeWrite';
import { keysAndLogs } from '../core/counts';
import { PENDING_KEY_VAR, readFileEncryptionKey, readPendingKey } from '../keystore/migrate/env';
import { breakdown, migrationMode, n } from '../keystore/migrate/plan';
import { readStatus } from '../keystore/status';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { askYes, keyFromEnvVar, keyFromFile, keyRequired, promptHidden } from './keyInput';
import { deploymentOf, DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, fingerprintText, flag, positiveInt, progressPrinter, str, withStore, writeJson } from './options';

// ---------------------------------------------------------------------------------------------
// keys from flags

/** Where a key came from, for messages (never the key). */
type KeySource = 'flag' | 'env-var' | 'file' | 'prompt' | 'generated' | 'pending' | 'env-file' | 'none';

export interface ResolvedKeys {
  fromKey: string;
  toKey: string;
  fromSource: KeySource;
  toSource: KeySource;
  /** Messages about how the keys were found (reuse of a parked key, command-line exposure). */
  notices: Localized[];
}

/** Reads a hidden line from a terminal; injectable for tests. */
export type SecretPrompt = (io: CliIO, question: Localized) => Promise<string>;

function usage(en: string, zh: string): KeystoreError {
  return new KeystoreError('usage', { en, zh });
}

function isTty(io: CliIO): boolean {
  return io.stdin.isTTY === true;
}

/** CI=true (GitHub Actions, GitLab, …): nobody answers a prompt. */
function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
}

/** One side's flags: at most one way to give it. */
function sideFlags(args: ParsedArgs, side: 'from' | 'to'): string[] {
  const names = [side, `${side}-env`, `${side}-file`, `${side}-prompt`, ...(side === 'to' ? ['generate'] : [])];
  return names.filter((name) => args.values[name] !== undefined && args.values[name] !== false);
}

async function readSide(
  args: ParsedArgs,
  io: CliIO,
  side: 'from' | 'to',
  prompt: SecretPrompt,
  notices: Localized[],
  deployment: Deployment,
): Promise<{ key: string; source: KeySource } | null> {
  const given = sideFlags(args, side);
  if (given.length > 1) throw usage(`give the ${side === 'from' ? 'old' : 'new'} key one way only (got --${given.join(', --')})`, `${side === 'from' ? '旧' : '新'}密钥只能用一种方式给出（收到 --${given.join('、--')}）`);
  const which = given[0];
  if (which === undefined || which === 'generate') return null;
  if (which === side) {
    const value = str(args, side)!;
    if (value === '') {
      throw usage(
        `--${side} needs a key; to mean "no encryption" leave --${side} out (--to alone enables, --from alone disables)`,
        `--${side} 需要密钥；如表示“不加密”请省略 --${side}（只给 --to 为启用，只给 --from 为停用）`,
      );
    }
    notices.push({
      en: `--${side} puts the key into shell history and the process list; --${side}-env, --${side}-file or --${side}-prompt avoid that`,
      zh: `--${side} 会让密钥留在 shell 历史和进程列表中；--${side}-env、--${side}-file 或 --${side}-prompt 可避免`,
    });
    return { key: value, source: 'flag' };
  }
  if (which === `${side}-env`) return { key: keyFromEnvVar(io, `--${which}`, str(args, which)!, deployment.env), source: 'env-var' };
  if (which === `${side}-file`) return { key: keyFromFile(io, `--${which}`, str(args, which)!), source: 'file' };
  // --from-prompt / --to-prompt
  if (!isTty(io)) {
    throw usage(
      `--${which}: stdin is not a terminal, so nothing is asked; use --${side}-env NAME or --${side}-file PATH`,
      `--${which}：标准输入不是终端，因此不会提问；请改用 --${side}-env NAME 或 --${side}-file PATH`,
    );
  }
  const label = side === 'from' ? { en: 'current ENCRYPTION_KEY (old key)', zh: '当前 ENCRYPTION_KEY（旧密钥）' } : { en: 'new ENCRYPTION_KEY', zh: '新的 ENCRYPTION_KEY' };
  const first = await prompt(io, { en: `${label.en}: `, zh: `${label.zh}：` });
  if (first === '') throw keyRequired('no key entered', '未输入密钥');
  if (side === 'to') {
    const again = await prompt(io, { en: 'repeat it: ', zh: '再输入一次：' });
    if (again !== first) throw keyRequired('the two entries differ; nothing was done', '两次输入不一致；未做任何操作');
  }
  return { key: first, source: 'prompt' };
}

/**
 * Flags → (fromKey, toKey) with GPT-Load's meaning ('' = plaintext side). A parked key of an
 * interrupted run (GPT_LOAD_KEYSTORE_PENDING_KEY in .env) is the target when the command gives
 * none or asks to --generate one, so rerunning the same command finishes that run.
 */
export async function resolveMigrationKeys(args: ParsedArgs, io: CliIO, deployment: Deployment, prompt: SecretPrompt = promptHidden): Promise<ResolvedKeys> {
  const notices: Localized[] = [];
  const from = await readSide(args, io, 'from', prompt, notices, deployment);
  let to = await readSide(args, io, 'to', prompt, notices, deployment);
  const pending = readPendingKey(deployment.envPath);
  if (to === null && (flag(args, 'generate') || from === null)) {
    if (pending !== null) {
      to = { key: pending, source: 'pending' };
      notices.push({
        en: `using the new key parked in ${deployment.envPath} (${PENDING_KEY_VAR}, fingerprint ${keyFingerprint(pending)}) by an interrupted run`,
        zh: `使用中断的运行暂存在 ${deployment.envPath} 中的新密钥（${PENDING_KEY_VAR}，指纹 ${keyFingerprint(pending)}）`,
      });
    } else if (flag(args, 'generate')) {
      to = interruptedRunKey(deployment) ?? { key: generateSecret(), source: 'generated' };
      if (to.source === 'env-file') {
        notices.push({
          en: `an interrupted run already wrote its generated key into .env as ENCRYPTION_KEY; using it instead of generating another`,
          zh: `中断的运行已把生成的密钥写入 .env 的 ENCRYPTION_KEY；直接使用它，不再另行生成`,
        });
      }
    }
  }
  if (from === null && to === null) {
    throw usage(
      'give --to NEW to enable encryption, --from OLD to disable it, or both to change the key (see --help for ways that keep keys off the command line)',
      '请用 --to 新密钥 启用加密，用 --from 旧密钥 停用加密，或同时给出两者以更换密钥（--help 中有避免在命令行暴露密钥的方式）',
    );
  }
  // A resumed run without --from: the data is under the key .env still names.
  const fromKey = from?.key ?? (to?.source === 'pending' && !sideFlags(args, 'to').length && !flag(args, 'generate') ? deployment.encryptionKey : '');
  return {
    fromKey,
    toKey: to?.key ?? '',
    fromSource: from?.source ?? (fromKey !== '' ? 'env-file' : 'none'),
    toSource: to?.source ?? 'none',
    notices,
  };
}

/** After a crash between writing .env and removing the journal, .env already holds the generated key. */
function interruptedRunKey(deployment: Deployment): { key: string; source: KeySource } | null {
  const journal = readJournal(deployment.envDir);
  if (!journal || !journal.updateEnv) return null;
  const key = readFileEncryptionKey(deployment.envPath);
  return key !== '' && keyFingerprint(key) === journal.to ? { key, source: 'env-file' } : null;
}

// ---------------------------------------------------------------------------------------------
// terminal

const MODE_TEXT: Record<MigrationPlan['mode'], Localized> = {
  enable: { en: 'enable encryption', zh: '启用加密' },
  disable: { en: 'disable encryption', zh: '停用加密' },
  change: { en: 'change the encryption key', zh: '更换加密密钥' },
};

function planText(plan: MigrationPlan, lang: Lang): string {
  const t = (l: Localized) => localize(l, lang);
  const lines = [
    t({ en: `About to ${MODE_TEXT[plan.mode].en} of ${plan.target}`, zh: `即将对 ${plan.target} ${MODE_TEXT[plan.mode].zh}` }),
    t({ en: `  key: ${plan.fromFingerprint} → ${plan.toFingerprint}`, zh: `  密钥：${fingerprintText(plan.fromFingerprint, 'zh-CN')} → ${fingerprintText(plan.toFingerprint, 'zh-CN')}` }),
    `  ${t(breakdown(plan.mode, 'api_keys', plan.tables.api_keys))}`,
    plan.tables.request_logs
      ? `  ${t(breakdown(plan.mode, 'request_logs', plan.tables.request_logs))}`
      : t({ en: '  request_logs: left as they are (--skip-logs)', zh: '  request_logs：保持不变（--skip-logs）' }),
    t({ en: `  rows to rewrite: ${n(plan.rows)}, in one transaction`, zh: `  待改写：${n(plan.rows)} 行，在同一事务中完成` }),
    ...[...plan.keyWarnings, ...plan.warnings].map((w) => `  ${t({ en: 'warning', zh: '警告' })}: ${t(w)}`),
  ];
  return lines.join('\n') + '\n';
}

function printGeneratedKey(io: CliIO, key: string, json: boolean): void {
  const out = json ? io.stderr : io.stdout;
  const text = localize(
    {
      en:
        `\nNew ENCRYPTION_KEY (generated; shown this once):\n\n    ${key}\n\n` +
        'Store it in several safe places now. Losing it loses every stored key — backups included:\n' +
        'nothing can decrypt them without it.\n\n',
      zh:
        `\n新的 ENCRYPTION_KEY（已生成；仅显示这一次）：\n\n    ${key}\n\n` +
        '请立即把它保存到多个安全的地方。丢失它就会丢失所有已存储的密钥（包括备份）：\n' +
        '没有它，任何东西都无法解密。\n\n',
    },
    io.lang,
  );
  out.write(text);
}

function summaryText(result: MigrateKeysResult, lang: Lang): string {
  const t = (l: Localized) => localize(l, lang);
  const heading: Record<MigrateKeysResult['outcome'], Localized> = {
    migrated: { en: 'Done', zh: '完成' },
    finished: { en: 'Done (finished a partial change)', zh: '完成（补全了未完成的变更）' },
    completed: { en: 'Done (the database was already migrated; finished the remaining steps)', zh: '完成（数据库已迁移；补全了剩余步骤）' },
    'nothing-to-migrate': { en: 'Done (no stored keys to migrate)', zh: '完成（没有需要迁移的密钥）' },
    'nothing-to-do': { en: 'Nothing to do (already done)', zh: '无需操作（已完成）' },
    'dry-run': { en: 'Dry run', zh: '试运行' },
  };
  const rewritten = keysAndLogs(result.apiKeys, result.tables.request_logs ? result.requestLogs : 0);
  const lines = [
    `${t(heading[result.outcome])}: ${t(MODE_TEXT[result.mode])} — ${result.target}`,
    t({ en: `  key: ${result.fromFingerprint} → ${result.toFingerprint}`, zh: `  密钥：${fingerprintText(result.fromFingerprint, 'zh-CN')} → ${fingerprintText(result.toFingerprint, 'zh-CN')}` }),
    t({
      en: `  ${result.dryRun ? 'would rewrite' : 'rewrote'} ${rewritten.en}${result.tables.request_logs ? '' : ' (request_logs skipped)'}`,
      zh: `  ${result.dryRun ? '将改写' : '已改写'} ${rewritten.zh}${result.tables.request_logs ? '' : '（request_logs 已跳过）'}`,
    }),
  ];
  if (result.rate !== null) {
    lines.push(t({ en: `  took ${(result.durationMs / 1000).toFixed(1)} s (write: ${n(result.rate)} rows/s)`, zh: `  耗时 ${(result.durationMs / 1000).toFixed(1)} 秒（写入：每秒 ${n(result.rate)} 行）` }));
  }
  if (result.cache) {
    lines.push(
      t({
        en: `  Redis: removed ${n(result.cache.removed)} stale entries (${n(result.cache.keyEntries)} gpt-load:key:*, ${n(result.cache.groupLists)} gpt-load:group:*:active_keys); everything else kept`,
        zh: `  Redis：删除了 ${n(result.cache.removed)} 个过期条目（${n(result.cache.keyEntries)} 个 gpt-load:key:*，${n(result.cache.groupLists)} 个 gpt-load:group:*:active_keys）；其余保留`,
      }),
    );
  }
  if (result.env.action !== 'not-requested') {
    const what: Record<string, Localized> = {
      set: { en: 'ENCRYPTION_KEY set', zh: '已设置 ENCRYPTION_KEY' },
      removed: { en: 'ENCRYPTION_KEY removed', zh: '已删除 ENCRYPTION_KEY' },
      unchanged: { en: 'already up to date', zh: '已是最新' },
    };
    lines.push(`  .env (${result.env.path}): ${t(what[result.env.action])}`);
  }
  const backup = result.backup as MigrationBackup | null;
  lines.push(
    backup
      ? t({ en: `  backup (checked) of the state before: ${backup.file}`, zh: `  迁移前状态的备份（已校验）：${backup.file}` })
      : t({ en: '  no backup taken (--no-backup or nothing written)', zh: '  未创建备份（--no-backup 或无需写入）' }),
  );
  const plaintextBackup = plaintextBackupWarning(backup);
  if (plaintextBackup) lines.push(`${t({ en: 'warning', zh: '警告' })}: ${t(plaintextBackup)}`);
  const previousKeyBackup = previousKeyBackupNote(backup);
  if (previousKeyBackup) lines.push(`  ${t(previousKeyBackup)}`);
  if (result.forced) lines.push(t({ en: '  --force: GPT-Load looked running and the checks were overridden', zh: '  --force：GPT-Load 似乎在运行，已强制跳过检查' }));
  for (const w of result.warnings) lines.push(`${t({ en: 'warning', zh: '警告' })}: ${t(w)}`);
  for (const note of result.notes) lines.push(t(note));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------

/**
 * --from-env read the .env and found the --to key: what a rerun of `--from-env ENCRYPTION_KEY
 * --update-env` reads once the first run succeeded (.env holds the new key on both sides). Nothing to do when status
 * finds every row under that key and .env says so; anything else is the usage error it always was.
 */
async function rerunAfterSuccess(args: ParsedArgs, io: CliIO, deployment: Deployment, key: string, json: boolean): Promise<number> {
  const report = await withStore(args, io, (store) =>
    readStatus(store, { encryptionKey: key, skipLogs: flag(args, 'skip-logs'), envPath: deployment.envPath }, { progress: progressPrinter(io), cancellation: io.cancellation }),
  );
  if (!['ok', 'empty'].includes(report.state) || readFileEncryptionKey(deployment.envPath) !== key) migrationMode(key, key);
  if (json) writeJson(io, { outcome: 'nothing-to-do', keyFingerprint: report.keyFingerprint });
  else {
    io.stdout.write(
      `${localize(
        {
          en: `Nothing to do (already done): every stored key is under key ${report.keyFingerprint} and ${deployment.envPath} already says so`,
          zh: `无需操作（已完成）：所有已存储的密钥都已使用密钥 ${report.keyFingerprint}，且 ${deployment.envPath} 也已是该设置`,
        },
        io.lang,
      )}\n`,
    );
  }
  return 0;
}

export const migrateKeysCommand: CliCommand = {
  name: 'migrate-keys',
  summary: 'enable, change or disable encryption of stored keys (api_keys and request_logs), all or nothing',
  help: `Usage: gpt-load-keystore migrate-keys [--from OLD] [--to NEW] [options]

GPT-Load's migrate-keys, made safe: --to alone enables encryption, --from alone disables it, both
change the key (the same key twice is an error). Every row of api_keys and request_logs is
checked before anything is written; a run either rewrites all of them in one transaction per
database or changes nothing. What GPT-Load's own history leaves behind is brought along to the
target: plaintext request logs its migrate-keys never touched, rows with a NULL/empty key_hash
(before v1.1.0) and decryptable rows whose key_hash is wrong; the summary counts them. GPT-Load must be stopped (its /health must not answer and, on
MySQL/PostgreSQL, no other session may be connected). With REDIS_DSN set, GPT-Load's stale cache
entries (gpt-load:key:*, gpt-load:group:*:active_keys) are removed afterwards; pending request
logs and everything else stay.

Keys (one way per side; prefer those that keep keys out of shell history and \`ps\`):
  --from KEY / --to KEY            on the command line (as GPT-Load)
  --from-env NAME / --to-env NAME  from an environment variable, else from NAME in the .env as
                                   GPT-Load reads it (--from-env ENCRYPTION_KEY: the current key)
  --from-file PATH / --to-file PATH  from a file holding only the key
  --from-prompt / --to-prompt      asked on the terminal without echo
  --generate                       a new strong key, printed once (store it safely)

Options:
  --update-env          write the new ENCRYPTION_KEY into .env (removed when disabling); the new
                        key is parked in .env as ${PENDING_KEY_VAR} while the database changes
  --skip-logs           leave request_logs as they are (GPT-Load's own behaviour)
  --leave-undecryptable rows under neither key stay exactly as they are (named in the summary;
                        \`keys list --undecryptable\` lists them) instead of refusing the run
  --dry-run             run every check and report what would change; write nothing
  --force               go on although GPT-Load looks running (the summary says so)
  --yes                 do not ask for confirmation on a terminal
  --allow-weak-key      accept a new key GPT-Load's dashboard would flag (short, weak pattern, low
                        complexity) where no terminal confirms it (--yes, CI, no TTY); refused
                        otherwise, before anything is written. On a terminal the warnings are
                        shown with the plan, before you confirm
  --compose FILE        the Docker Compose file GPT-Load runs from (default: compose.yaml /
                        docker-compose.yml and its override beside .env). With --update-env the
                        run is refused unless GPT-Load's container will get the new key from it;
                        always refused when its DATABASE_DSN names another database
  --json                machine-readable summary on stdout (progress stays on stderr)
  --redis-host HOST[:PORT]  reach REDIS_DSN's server here (Docker Compose names do not resolve)
  --no-cache            do not touch Redis
  --no-backup           skip the backup (by default a backup of the data before the switch is
                        written to <.env folder>/backups and checked before anything is written)
  --backup-dir DIR      write that backup here instead
  --threads N           crypto worker threads (default: one per CPU, less one on MySQL/PostgreSQL; 0 = main thread)
  --batch-size N        rows per batch (default 2000 on SQLite, 2500 on MySQL/PostgreSQL)
${DEPLOYMENT_HELP}

An interrupted run (Ctrl-C, crash, kill) leaves the database all-old or all-new, never mixed:
rerun the same command to finish it; \`status\` explains what was left.

Exit codes: 0 done (or nothing to do: the data is already under the --to key and .env says so),
2 usage, 3 key input (a weak key nobody confirmed; --update-env without a .env),
5 refused by a check (exact counts given; Docker Compose would give GPT-Load another key or
database), 6 GPT-Load is running, 7 cannot connect, 10 file I/O, 130 cancelled.

Examples:
  gpt-load-keystore migrate-keys --generate --update-env
  ENC_NEW=… gpt-load-keystore migrate-keys --from-env ENC_OLD --to-env ENC_NEW --update-env
  gpt-load-keystore migrate-keys --from-prompt --dry-run`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    'from-env': { type: 'string' },
    'to-env': { type: 'string' },
    'from-file': { type: 'string' },
    'to-file': { type: 'string' },
    'from-prompt': { type: 'boolean' },
    'to-prompt': { type: 'boolean' },
    generate: { type: 'boolean' },
    'update-env': { type: 'boolean' },
    'skip-logs': { type: 'boolean' },
    'leave-undecryptable': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
    yes: { type: 'boolean' },
    'allow-weak-key': { type: 'boolean' },
    compose: { type: 'string' },
    json: { type: 'boolean' },
    'redis-host': { type: 'string' },
    'no-cache': { type: 'boolean' },
    'no-backup': { type: 'boolean' },
    'backup-dir': { type: 'string' },
    threads: { type: 'string' },
    'batch-size': { type: 'string' },
  },
  async run(args, io) {
    const json = flag(args, 'json');
    const dryRun = flag(args, 'dry-run');
    const deployment = deploymentOf(args, io);
    const keys = await resolveMigrationKeys(args, io, deployment);
    for (const notice of keys.notices) io.stderr.write(`${localize(notice, io.lang)}\n`);
    // --from-env NAME read from the .env (not the environment) is the key the .env names now.
    const fromEnvName = str(args, 'from-env');
    const fromDotenv = fromEnvName !== undefined && io.env[fromEnvName] === undefined;
    if (fromDotenv && keys.fromKey !== '' && keys.fromKey === keys.toKey) return rerunAfterSuccess(args, io, deployment, keys.toKey, json);
    let keyShown = keys.toSource !== 'generated';
    const showGenerated = () => {
      if (keyShown) return;
      keyShown = true;
      printGeneratedKey(io, keys.toKey, json);
    };
    const context = { progress: progressPrinter(io), cancellation: io.cancellation };
    const threads = str(args, 'threads') !== undefined ? positiveInt(args, 'threads', 0, 0) : undefined;
    // Only a person at a terminal can confirm; --yes and CI say nobody will.
    const canConfirm = isTty(io) && !flag(args, 'yes') && !isCi(io.env);
    const result = await migrateKeys(
      {
        deployment,
        fromKey: keys.fromKey,
        toKey: keys.toKey,
        updateEnv: flag(args, 'update-env'),
        force: flag(args, 'force'),
        skipLogs: flag(args, 'skip-logs'),
        leaveUndecryptable: flag(args, 'leave-undecryptable'),
        dryRun,
        clearCache: !flag(args, 'no-cache'),
        redisHost: str(args, 'redis-host'),
        timeoutMs: positiveInt(args, 'timeout', 5) * 1000,
        threads,
        batchSize: str(args, 'batch-size') !== undefined ? positiveInt(args, 'batch-size', 1, 1) : undefined,
        allowWeakKey: flag(args, 'allow-weak-key') || canConfirm,
        hooks: {
          async confirm(plan) {
            if (canConfirm) {
              io.stderr.write(planText(plan, io.lang));
              if (!(await askYes(io, localize({ en: 'Proceed? Type "yes": ', zh: '确认执行？请输入 "yes"：' }, io.lang)))) return false;
            }
            else for (const w of plan.keyWarnings) io.stderr.write(`${localize({ en: 'warning', zh: '警告' }, io.lang)}: ${localize(w, io.lang)}\n`);
            // Shown before the first write: a run killed after its commit must not take the only copy along.
            showGenerated();
            return true;
          },
          beforeWrite: flag(args, 'no-backup')
            ? undefined
            : backupBeforeWrite({ fromKey: keys.fromKey, authKey: deployment.env.get('AUTH_KEY'), envDir: deployment.envDir, dir: str(args, 'backup-dir'), threads }, context),
        },
      },
      context,
    );
    if (!dryRun) showGenerated();
    else if (keys.toSource === 'generated') {
      io.stderr.write(localize({ en: 'dry run: a new key would be generated (none was kept)\n', zh: '试运行：将生成新密钥（本次未保留）\n' }, io.lang));
    }
    if (json) writeJson(io, result);
    else io.stdout.write(summaryText(result, io.lang));
    return 0;
  },
};
