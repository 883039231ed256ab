/** `backup prune`: flags in, keystore/backup/prune.ts, what went and what stayed out. */
import { resolve } from 'node:path';
import { codecFor } from '../core/crypto';
import { localize, type Lang, type Localized } from '../core/errors';
import { defaultBackupDir } from '../keystore/backup/format';
import { plaintextHeld, pruneBackups, type PruneEntry, type PruneReason, type PruneReport } from '../keystore/backup/prune';
import { bytes, durationFlag } from './backup';
import type { CliCommand } from './command';
import { askYes } from './keyInput';
import { deploymentOf, DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, flag, positiveInt, str, writeJson } from './options';

const REASON_TEXT: Record<PruneReason, Localized> = {
  'newest-for-key': { en: 'the newest backup for its key', zh: '该密钥最新的备份' },
  keep: { en: 'among the newest --keep', zh: '属于最新的 --keep 个' },
  'max-age': { en: 'younger than --max-age', zh: '未超过 --max-age' },
  'no-rule': { en: 'no --keep or --max-age given', zh: '未指定 --keep 或 --max-age' },
  unchecked: { en: 'not a whole backup (damaged or interrupted): look at it, then delete it yourself', zh: '不是完整的备份（已损坏或中断）：请检查后自行删除' },
  plaintext: { en: 'holds keys in PLAINTEXT', zh: '含明文密钥' },
  pruned: { en: 'no rule keeps it', zh: '没有规则保留它' },
};

function entryLine(entry: PruneEntry, directory: string, lang: Lang): string {
  const name = entry.path.startsWith(directory + '/') ? entry.path.slice(directory.length + 1) : entry.path;
  const key = entry.keyFingerprint === null ? '?' : entry.keyFingerprint;
  return `  ${name}  (${entry.createdAt?.replace(/\.\d+Z$/, 'Z') ?? '-'}, ${localize({ en: 'key', zh: '密钥' }, lang)} ${key}, ${bytes(entry.bytes)}) — ${localize(REASON_TEXT[entry.reason], lang)}`;
}

function pruneText(report: PruneReport, lang: Lang): string {
  const t = (text: Localized) => localize(text, lang);
  const lines: string[] = [];
  const deleted = report.deleted.length;
  lines.push(
    report.dryRun
      ? t({ en: `Dry run: would delete ${deleted} backup(s) in ${report.directory} (${bytes(report.bytesFreed)})`, zh: `试运行：将删除 ${report.directory} 中的 ${deleted} 个备份（${bytes(report.bytesFreed)}）` })
      : t({ en: `Deleted ${deleted} backup(s) in ${report.directory} (${bytes(report.bytesFreed)})`, zh: `已删除 ${report.directory} 中的 ${deleted} 个备份（${bytes(report.bytesFreed)}）` }),
  );
  for (const entry of report.deleted) lines.push(entryLine(entry, report.directory, lang));
  const held = plaintextHeld(report.deleted);
  if (held) lines.push(`  ${t(held)}`);
  if (report.orphans.length > 0) lines.push(t({ en: `  and ${report.orphans.length} digest file(s) whose backup was already gone`, zh: `  以及 ${report.orphans.length} 个对应备份已不存在的摘要文件` }));
  if (report.kept.length > 0) {
    lines.push(t({ en: `Kept ${report.kept.length}:`, zh: `保留 ${report.kept.length} 个：` }));
    for (const entry of report.kept) lines.push(entryLine(entry, report.directory, lang));
  }
  const stillPlaintext = plaintextHeld(report.kept);
  if (stillPlaintext) lines.push(t({ en: `note: ${stillPlaintext.en} — --plaintext deletes them`, zh: `说明：${stillPlaintext.zh} — --plaintext 可删除它们` }));
  for (const w of report.warnings) lines.push(`${t({ en: 'warning', zh: '警告' })}: ${t(w)}`);
  return lines.join('\n') + '\n';
}

export const backupPruneCommand: CliCommand = {
  name: 'backup prune',
  summary: 'delete old backups (plaintext ones first on request), keeping the newest backup for each key',
  help: `Usage: gpt-load-keystore backup prune [--keep N] [--max-age DUR] [--plaintext] [--dry-run] [--yes] [--dir DIR] [--json]

Deletes the backups in DIR (default: backups/ beside the .env) that no rule keeps. Always kept:
the newest whole backup for each ENCRYPTION_KEY fingerprint (the only way back to data under that
key), and every file that is not a whole backup (damaged, interrupted or still being written):
look at those and delete them yourself. Each backup goes with its .sha256 file, the backup first.

--plaintext deletes every backup that holds keys in plaintext — such as the one migrate-keys took
before enabling encryption — whatever else would keep it. When nothing would be left that
restores the current data, prune says so and deletes only after confirmation (--yes).

Options:
  --keep N              keep the newest N whole backups
  --max-age DUR         keep whole backups younger than DUR (e.g. 24h, 30d)
  --plaintext           delete backups that hold keys in plaintext
  --dry-run             list what would be deleted; delete nothing
  --yes                 do not ask on a terminal (and confirm deleting the last backup of the
                        current data)
  --dir DIR             folder to prune
  --json                machine-readable result on stdout
${DEPLOYMENT_HELP}

Exit codes: 0 done (or dry run), 2 no rule given, 5 would leave no backup of the current data
(without --yes), 10 a file cannot be deleted, 130 not confirmed.

Examples:
  gpt-load-keystore backup prune --keep 5 --max-age 30d --dry-run
  gpt-load-keystore backup prune --plaintext --yes`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    keep: { type: 'string' },
    'max-age': { type: 'string' },
    plaintext: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    const directory = str(args, 'dir') !== undefined ? resolve(io.cwd, str(args, 'dir')!) : defaultBackupDir(deployment.envDir);
    const yes = flag(args, 'yes');
    const report = await pruneBackups(
      {
        directory,
        codec: codecFor(deployment.encryptionKey),
        keep: str(args, 'keep') === undefined ? undefined : positiveInt(args, 'keep', 0, 0),
        maxAgeMs: durationFlag(args, 'max-age'),
        plaintext: flag(args, 'plaintext'),
        dryRun: flag(args, 'dry-run'),
        confirmed: yes,
        confirm:
          io.stdin.isTTY === true && !yes
            ? (plan) => {
                io.stderr.write(pruneText({ ...plan, dryRun: true }, io.lang));
                return askYes(io, localize({ en: 'Delete these backups? Type "yes": ', zh: '确认删除这些备份？请输入 "yes"：' }, io.lang));
              }
            : undefined,
      },
      { cancellation: io.cancellation },
    );
    if (flag(args, 'json')) writeJson(io, report);
    else io.stdout.write(pruneText(report, io.lang));
    return 0;
  },
};
