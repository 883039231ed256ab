/**
 * The migration journal: `<envDir>/.gpt-load-keystore/migration.json`, written before migrate-keys
 * writes anything, updated after its database transaction commits, removed when the run is done.
 * It holds no key material — only fingerprints, the phase and who ran it — so a run killed at any
 * moment leaves a file that explains the state (`status`) and lets the next run finish or clean up.
 * The database transaction itself is the real journal: the engine rolls back an uncommitted one.
 */
import { mkdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/fs';
import { KeystoreError, type Localized } from '../core/errors';
import { processAlive, removeOrphanedFiles } from './orphans';

const JOURNAL_DIR = '.gpt-load-keystore';
const JOURNAL_FILE = 'migration.json';

type JournalPhase =
  /** The write transaction may be open: the database is all-old, or all-new if it committed just before an exit. */
  | 'writing'
  /** The transaction committed: the database is all-new; .env / cache / cleanup may be missing. */
  | 'committed';

export interface MigrationJournal {
  version: 1;
  mode: 'enable' | 'disable' | 'change';
  /** Fingerprints (never keys) of the source and target ENCRYPTION_KEY; "plaintext" for none. */
  from: string;
  to: string;
  phase: JournalPhase;
  startedAt: string;
  committedAt?: string;
  /** Database label, without password. */
  target: string;
  pid: number;
  host: string;
  updateEnv: boolean;
  skipLogs: boolean;
}

export function journalPath(envDir: string): string {
  return join(envDir, JOURNAL_DIR, JOURNAL_FILE);
}

/** The journal beside `.env`, or null; an unreadable one is reported as such (never silently ignored). */
export function readJournal(envDir: string): MigrationJournal | null {
  let text: string;
  try {
    text = readFileSync(journalPath(envDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw journalError(envDir, err);
  }
  try {
    const value = JSON.parse(text) as MigrationJournal;
    if (value && value.version === 1 && typeof value.from === 'string' && typeof value.to === 'string') return value;
  } catch {
    // fall through
  }
  throw new KeystoreError('io', {
    en: `${journalPath(envDir)} is not a migration journal this version understands; look at it, then delete it`,
    zh: `${journalPath(envDir)} 不是本版本能识别的迁移日志；请查看后删除`,
  });
}

export function writeJournal(envDir: string, journal: MigrationJournal): void {
  try {
    mkdirSync(join(envDir, JOURNAL_DIR), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw journalError(envDir, err);
  }
  writeFileAtomic(journalPath(envDir), JSON.stringify(journal, null, 2) + '\n');
}

export function removeJournal(envDir: string): void {
  removeStaleTempFiles(journalPath(envDir));
  try {
    unlinkSync(journalPath(envDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw journalError(envDir, err);
  }
  try {
    rmdirSync(join(envDir, JOURNAL_DIR));
  } catch {
    // not empty (someone else's file) or already gone: leave it
  }
}

export function newJournal(fields: Omit<MigrationJournal, 'version' | 'phase' | 'startedAt' | 'pid' | 'host'>): MigrationJournal {
  return { version: 1, phase: 'writing', startedAt: new Date().toISOString(), pid: process.pid, host: hostname(), ...fields };
}

/**
 * writeFileAtomic writes `.<name>.<pid>.<hex>.tmp` beside `path` and renames it; a process killed
 * in between leaves that file behind — beside `.env` it holds the whole file, keys included.
 * Removes those of dead processes; returns how many.
 */
export function removeStaleTempFiles(path: string): number {
  const name = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return removeOrphanedFiles(dirname(path), new RegExp(`^\\.${name}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`));
}

/**
 * Whether the run that wrote the journal is still alive: same machine, its pid answers and, where
 * /proc tells, that pid is a Node.js process (a pid reused by anything else after a reboot or a
 * container restart must not block every later run).
 */
export function journalOwnerAlive(journal: MigrationJournal): boolean {
  if (journal.host !== hostname() || journal.pid === process.pid || !processAlive(journal.pid)) return false;
  try {
    return /node/i.test(readFileSync(`/proc/${journal.pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

function journalError(envDir: string, err: unknown): KeystoreError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new KeystoreError('io', { en: `cannot access ${journalPath(envDir)} (${code})`, zh: `无法访问 ${journalPath(envDir)}（${code}）` });
}

/** Where the database stands relative to an interrupted run, as far as its state can tell. */
export type JournalDatabaseState = 'old' | 'new' | 'other' | 'unknown';

/**
 * What `status` says about an interrupted migration. `database` is judged by the caller: 'old' when
 * every row is under the journal's source key, 'new' when under its target key.
 */
export function explainJournal(journal: MigrationJournal, database: JournalDatabaseState, envFingerprint: string | null): Localized {
  const when = `${journal.startedAt} (pid ${journal.pid}${journal.host !== hostname() ? ` on ${journal.host}` : ''})`;
  const head: Localized = {
    en: `an interrupted migrate-keys run (${journal.mode}, key ${journal.from} → ${journal.to}, started ${when}, last phase: ${journal.phase})`,
    zh: `有一次中断的 migrate-keys（${journal.mode}，密钥 ${journal.from} → ${journal.to}，开始于 ${when}，最后阶段：${journal.phase}）`,
  };
  const envSays =
    envFingerprint === null
      ? null
      : envFingerprint === journal.to
        ? { en: '.env already has the new key', zh: '.env 已是新密钥' }
        : envFingerprint === journal.from
          ? { en: `.env still has the old key (${journal.from})`, zh: `.env 仍是旧密钥（${journal.from}）` }
          : { en: `.env has neither key (fingerprint ${envFingerprint})`, zh: `.env 中两个密钥都不是（指纹 ${envFingerprint}）` };
  let body: Localized;
  switch (database) {
    case 'new':
      body = {
        en: `the database is entirely under the new key (fingerprint ${journal.to})${envSays ? ` but ${envSays.en}` : ''}: rerun the same command to finish (.env, Redis cache, cleanup)`,
        zh: `数据库已全部使用新密钥（指纹 ${journal.to}）${envSays ? `，但${envSays.zh}` : ''}：请重新运行同一命令以完成（.env、Redis 缓存、清理）`,
      };
      break;
    case 'old':
      body = {
        en: `it never committed: the database is entirely under the old key (${journal.from}), nothing changed; rerun the command to migrate, or any run cleans this up`,
        zh: `它未提交：数据库仍全部使用旧密钥（${journal.from}），没有任何变化；重新运行命令即可迁移，任何一次运行都会清理此记录`,
      };
      break;
    case 'other':
      body = {
        en: 'the database is under neither of its keys, or mixed: run migrate-keys --dry-run with the keys you have to see exact counts',
        zh: '数据库既不属于其中任一密钥，或处于混合状态：请用手头的密钥运行 migrate-keys --dry-run 查看精确计数',
      };
      break;
    default:
      body = {
        en: 'rerun the same command: it finishes a committed change or starts over on an untouched database',
        zh: '请重新运行同一命令：已提交的变更会被完成，未改动的数据库会重新开始迁移',
      };
  }
  return { en: `${head.en}: ${body.en}`, zh: `${head.zh}：${body.zh}` };
}
