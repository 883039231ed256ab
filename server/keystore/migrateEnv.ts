/**
 * The `.env` side of migrate-keys. With --update-env the new key is parked in the `.env` as
 * GPT_LOAD_KEYSTORE_PENDING_KEY before the database is touched (GPT-Load ignores variables it
 * does not know), so no run killed after its commit can lose a generated key; after the commit one
 * atomic write sets ENCRYPTION_KEY (removes it when disabling) and drops the parked copy.
 * Also: how the operator restarts GPT-Load, from what lies beside the `.env`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDotenv, updateEnvVariables } from '../core/env';
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

/** Several variables of one `.env` in one atomic write, every other byte kept (core updateEnvVariables). */
export const applyEnvChanges = updateEnvVariables;

export type DeploymentStyle = 'docker-compose' | 'make' | 'binary' | 'unknown';

export interface RestartHint {
  deployment: DeploymentStyle;
  /** What to run beside the `.env` so GPT-Load reads the new ENCRYPTION_KEY; null when unknown. */
  command: string | null;
}

const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.yaml', 'compose.yml', 'compose.yaml'];

/**
 * The compose service running GPT-Load's image (`image: …gpt-load…`), found without a YAML
 * library: service names are the keys one level under `services:`.
 */
export function composeServiceName(text: string): string | null {
  let inServices = false;
  let serviceIndent = -1;
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    const key = /^\s*([A-Za-z0-9._-]+|"[^"]+"|'[^']+'):(\s|$)/.exec(line)?.[1]?.replace(/^["']|["']$/g, '');
    if (indent === 0) {
      inServices = key === 'services';
      serviceIndent = -1;
      current = null;
      continue;
    }
    if (!inServices) continue;
    if (serviceIndent < 0) serviceIndent = indent;
    if (indent === serviceIndent) current = key ?? null;
    else if (current && /^\s*image:\s*["']?[^"'\s]*gpt-load[^"'\s]*/.test(line)) return current;
  }
  return null;
}

/**
 * Docker Compose reads env_file when it creates the container, so `restart` would keep the old
 * key: the container is recreated instead.
 */
export function restartHint(envDir: string): RestartHint {
  const compose = COMPOSE_FILES.map((f) => join(envDir, f)).find((f) => existsSync(f));
  if (compose) {
    const service = composeServiceName(readText(compose) ?? '') ?? 'gpt-load';
    return { deployment: 'docker-compose', command: `docker compose up -d --force-recreate ${service}` };
  }
  if (existsSync(join(envDir, 'Makefile'))) return { deployment: 'make', command: 'make run' };
  if (existsSync(join(envDir, 'gpt-load'))) return { deployment: 'binary', command: './gpt-load' };
  return { deployment: 'unknown', command: null };
}
