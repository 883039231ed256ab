/**
 * A GPT-Load deployment as our tools see it: the `.env` GPT-Load reads, the database it points at,
 * the key it encrypts with and where its service listens — resolved exactly as GPT-Load resolves
 * them, with the operator's overrides (--dsn, --db-host) on top.
 */
import { dirname, resolve } from 'node:path';
import { describeEnvParseError, loadEnv, type LoadedEnv } from '../core/env/read';
import { keyFingerprint } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import { composeOf } from './composeCheck';
import { describeTarget, overrideHost, resolveDsn, type DatabaseTarget } from '../store/dsn';
import type { KeySource } from '../../shared/types';

export interface DeploymentOptions {
  /** Path of the `.env`; default `.env` in `cwd`. */
  envFile?: string;
  /** DATABASE_DSN override. */
  dsn?: string;
  /** HOST[:PORT] replacing the DSN's host (Docker Compose service names do not resolve outside). */
  dbHost?: string;
  cwd: string;
  processEnv: NodeJS.ProcessEnv;
  /** Docker Compose files (`--compose`); default: those `docker compose` finds beside the `.env`. */
  composeFiles?: string[];
}

export interface Deployment {
  envPath: string;
  /** Where GPT-Load runs from: relative SQLite paths resolve here. */
  envDir: string;
  env: LoadedEnv;
  target: DatabaseTarget;
  /** Safe to print: no password. */
  targetLabel: string;
  dsnSource: 'flag' | 'process' | 'file' | 'default';
  /** ENCRYPTION_KEY as GPT-Load reads it ("" = encryption disabled). */
  encryptionKey: string;
  /** Where GPT-Load's `/health` answers when it runs (0.0.0.0 probed as 127.0.0.1). */
  service: { host: string; port: number };
  redisDsn: string;
  /** The environment GPT-Load's `.env` is read with, and `docker compose` interpolates from. */
  processEnv: NodeJS.ProcessEnv;
  /** Absolute; undefined = found beside the `.env`. */
  composeFiles?: string[];
}

export function resolveDeployment(options: DeploymentOptions): Deployment {
  const envPath = resolve(options.cwd, options.envFile ?? '.env');
  const env = loadEnv(envPath, options.processEnv);
  if (env.exists && env.doc.error) {
    // godotenv's own message quotes the rest of the file, secrets included: describe it instead.
    const { line, character } = env.doc.error.position;
    const why = describeEnvParseError(env.doc.error);
    throw new KeystoreError(
      'env-parse',
      {
        en: `${envPath}: godotenv refuses this file (${why.en}), so GPT-Load ignores all of it. Fix it first (gpt-load-keystore lint shows where).`,
        zh: `${envPath}：godotenv 无法解析此文件（${why.zh}），GPT-Load 会忽略整个文件。请先修复（gpt-load-keystore lint 会指出位置）。`,
      },
      { line, character },
    );
  }
  const envDir = dirname(envPath);
  const fromEnv = env.get('DATABASE_DSN');
  const dsn = options.dsn ?? fromEnv ?? '';
  const dsnSource = options.dsn !== undefined ? 'flag' : fromEnv ? (env.source('DATABASE_DSN') ?? 'file') : 'default';
  let target = resolveDsn(dsn, envDir);
  if (options.dbHost) target = overrideHost(target, options.dbHost);
  const host = env.get('HOST') || '0.0.0.0';
  const port = Number.parseInt(env.get('PORT') || '3001', 10);
  return {
    envPath,
    envDir,
    env,
    target,
    targetLabel: describeTarget(target),
    dsnSource,
    encryptionKey: env.get('ENCRYPTION_KEY') ?? '',
    service: { host: host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host, port: Number.isFinite(port) ? port : 3001 },
    redisDsn: env.get('REDIS_DSN') ?? '',
    processEnv: options.processEnv,
    composeFiles: options.composeFiles?.map((f) => resolve(options.cwd, f)),
  };
}

/**
 * Where the deployment's ENCRYPTION_KEY came from, the .env's own key when the environment's
 * hides a different one (an old key exported in the shell silently wins over a new .env, for
 * GPT-Load started from that shell too), and the key a Compose file gives GPT-Load's container:
 * status says which one it judged and which one GPT-Load gets.
 */
export function encryptionKeySource(deployment: Deployment): KeySource {
  const { env } = deployment;
  const source = env.source('ENCRYPTION_KEY');
  const inFile = env.doc.values?.ENCRYPTION_KEY;
  const hidden = source === 'process' && inFile !== undefined && inFile !== deployment.encryptionKey;
  const entry = env.doc.entries.filter((e) => e.key === 'ENCRYPTION_KEY').at(-1);
  return {
    from: source === 'process' ? 'environment' : source === 'file' ? 'env-file' : 'unset',
    hiddenEnvFileKey: hidden && entry ? { fingerprint: keyFingerprint(inFile), line: entry.keyRange.start.line + 1 } : null,
    container: containerKey(deployment),
  };
}

/**
 * The key a Compose file beside the .env gives GPT-Load's container, which is not always the
 * shell's or the .env's: a shell variable reaches it only through `environment:` interpolation.
 */
function containerKey(deployment: Deployment): KeySource['container'] {
  const compose = composeOf(deployment);
  if (!compose?.service) return null;
  const effective = compose.effectiveVariable('ENCRYPTION_KEY');
  if (effective.error || effective.value === undefined || !effective.source) return null;
  const { file, line, kind } = effective.source;
  return { service: compose.service.name, via: kind, file, line, fingerprint: keyFingerprint(effective.value) };
}
