/**
 * The `.env` side of migrate-keys. With --update-env the new key is parked in the `.env` as
 * GPT_LOAD_KEYSTORE_PENDING_KEY before the database is touched (GPT-Load ignores variables it
 * does not know), so no run killed after its commit can lose a generated key; after the commit one
 * atomic write sets ENCRYPTION_KEY (removes it when disabling) and drops the parked copy.
 * Also: how the operator restarts GPT-Load, from what lies beside the `.env`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveComposeDeployment } from '../core/compose';
import { parseDotenv, removeEnvKey, setEnvValue, writeFileAtomic } from '../core/env';
import { KeystoreError } from '../core/errors';

export const PENDING_KEY_VAR = 'GPT_LOAD_KEYSTORE_PENDING_KEY';

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new KeystoreError('io', { en: `cannot read ${path} (${(err as NodeJS.ErrnoException).code})`, zh: `无法读取 ${path}（${(err as NodeJS.ErrnoException).code}）` });
  }
}

/** The parked key of an interrupted run, as written in the file (never from the process environment). */
export function readPendingKey(envPath: string): string | null {
  const text = readText(envPath);
  if (text === null) return null;
  const values = parseDotenv(text).values;
  const value = values?.[PENDING_KEY_VAR];
  return value === undefined || value === '' ? null : value;
}

/** ENCRYPTION_KEY as the file says ('' when absent). */
export function readFileEncryptionKey(envPath: string): string {
  const text = readText(envPath);
  return (text === null ? undefined : parseDotenv(text).values?.ENCRYPTION_KEY) ?? '';
}

/** A `.env` text after `changes` (value null = remove), as applyEnvChanges writes it. */
export function envTextAfter(text: string, changes: Record<string, string | null>): string {
  let after = text;
  for (const [key, value] of Object.entries(changes)) after = value === null ? removeEnvKey(after, key) : setEnvValue(after, key, value);
  return after;
}

/**
 * Several variables of one `.env` in one atomic write (value null = remove), then read back: if
 * godotenv would not read exactly that, the previous content is restored. Returns whether the
 * file changed.
 */
export function applyEnvChanges(path: string, changes: Record<string, string | null>): boolean {
  const before = readText(path);
  const after = envTextAfter(before ?? '', changes);
  if (after === (before ?? '')) return false;
  writeFileAtomic(path, after);
  const written = parseDotenv(readFileSync(path, 'utf8')).values;
  const ok =
    written !== null &&
    Object.entries(changes).every(([key, value]) => (value === null ? !Object.prototype.hasOwnProperty.call(written, key) : written[key] === value));
  if (!ok) {
    writeFileAtomic(path, before ?? '');
    throw new KeystoreError('internal', {
      en: `${path}: after writing, godotenv did not read the new values as intended; the previous content was restored`,
      zh: `${path}：写入后 godotenv 读到的值与预期不符，已恢复原内容`,
    });
  }
  return true;
}

export type DeploymentStyle = 'docker-compose' | 'make' | 'binary' | 'unknown';

export interface RestartHint {
  deployment: DeploymentStyle;
  /** What to run beside the `.env` so GPT-Load reads the new ENCRYPTION_KEY; null when unknown. */
  command: string | null;
}

/**
 * Docker Compose reads env_file when it creates the container, so `restart` would keep the old
 * key: the container is recreated instead.
 */
export function restartHint(envDir: string): RestartHint {
  const compose = resolveComposeDeployment(envDir);
  if (compose) return { deployment: 'docker-compose', command: `docker compose up -d --force-recreate ${compose.service?.name ?? 'gpt-load'}` };
  if (existsSync(join(envDir, 'Makefile'))) return { deployment: 'make', command: 'make run' };
  if (existsSync(join(envDir, 'gpt-load'))) return { deployment: 'binary', command: './gpt-load' };
  return { deployment: 'unknown', command: null };
}
