/**
 * The `.env` side of migrate-keys. With --update-env the new key is parked in the `.env` as
 * GPT_LOAD_KEYSTORE_PENDING_KEY before the database is touched (GPT-Load ignores variables it
 * does not know), so no run killed after its commit can lose a generated key; after the commit one
 * atomic write sets ENCRYPTION_KEY (removes it when disabling) and drops the parked copy.
 * Also: how the operator restarts GPT-Load, from what lies beside the `.env`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveComposeDeployment } from '../../core/compose';
import { parseDotenv } from '../../core/env/read';
import { updateEnvVariables } from '../../core/env/write';
import { KeystoreError, type Localized } from '../../core/errors';

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

type DeploymentStyle = 'docker-compose' | 'make' | 'binary' | 'unknown';

export interface RestartHint {
  deployment: DeploymentStyle;
  /** What to run beside the `.env` so GPT-Load reads the new ENCRYPTION_KEY; null when unknown. */
  command: string | null;
  /** One sentence: how to restart this deployment (the command only when it was detected). */
  advice: Localized;
}

/**
 * Docker Compose reads env_file when it creates the container, so `restart` would keep the old
 * key: the container is recreated instead.
 */
export function restartHint(envDir: string): RestartHint {
  const compose = resolveComposeDeployment(envDir);
  if (compose) {
    const command = `docker compose up -d --force-recreate ${compose.service?.name ?? 'gpt-load'}`;
    return {
      deployment: 'docker-compose',
      command,
      advice: {
        en: `Restart GPT-Load by recreating its container (a plain restart keeps the old environment): ${command}`,
        zh: `请重建 GPT-Load 容器以重启它（普通的 restart 会沿用旧的环境变量）：${command}`,
      },
    };
  }
  if (existsSync(join(envDir, 'Makefile'))) {
    return { deployment: 'make', command: 'make run', advice: { en: 'Restart GPT-Load: stop it, then start it again in its source folder with make run', zh: '请重启 GPT-Load：先停止它，再在其源码目录中运行 make run' } };
  }
  if (existsSync(join(envDir, 'gpt-load'))) {
    return { deployment: 'binary', command: './gpt-load', advice: { en: 'Restart GPT-Load: stop the running gpt-load, then start ./gpt-load again beside the .env', zh: '请重启 GPT-Load：先停止正在运行的 gpt-load，再在 .env 所在目录重新运行 ./gpt-load' } };
  }
  return {
    deployment: 'unknown',
    command: null,
    advice: {
      en: 'Restart GPT-Load the way it is run here (service manager, container or terminal); nothing beside the .env (Compose file, Makefile, gpt-load binary) says which',
      zh: '请按此处运行 GPT-Load 的方式重启它（服务管理器、容器或终端）；.env 旁没有 Compose 文件、Makefile 或 gpt-load 程序可供判断',
    },
  };
}
