/** Flags and plumbing shared by the commands that open a GPT-Load deployment. */
import { KeystoreError, type Lang } from '../core/errors';
import { openStore, type Store } from '../store/connect';
import { resolveDeployment, type Deployment } from '../keystore/deployment';
import { phaseLabel, type Progress } from '../keystore/operation';
import { formatNumber } from '../../shared/format';
import type { CliIO, ParsedArgs } from './command';

export const DEPLOYMENT_OPTIONS = {
  env: { type: 'string' },
  dsn: { type: 'string' },
  'db-host': { type: 'string' },
  timeout: { type: 'string' },
} as const;

export const DEPLOYMENT_HELP = `Deployment options:
  --env FILE            GPT-Load's .env (default ./.env); relative SQLite paths resolve beside it
  --dsn DSN             DATABASE_DSN override (else the process environment, then .env, then
                        ./data/gpt-load.db beside .env — GPT-Load's own order)
  --db-host HOST[:PORT] connect here instead of the DSN's host (Docker Compose service names such
                        as "mysql" or "postgres" do not resolve outside the compose network)
  --timeout SECONDS     connection timeout (default 5)
  --lang en|zh-CN       message language`;

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function positiveInt(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const raw = str(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new KeystoreError('usage', { en: `--${name} takes a whole number ≥ ${min}`, zh: `--${name} 需要不小于 ${min} 的整数` });
  }
  return n;
}

export function deploymentOf(args: ParsedArgs, io: CliIO): Deployment {
  const compose = str(args, 'compose');
  return resolveDeployment({
    envFile: str(args, 'env'),
    dsn: str(args, 'dsn'),
    dbHost: str(args, 'db-host'),
    cwd: io.cwd,
    processEnv: io.env,
    composeFiles: compose === undefined ? undefined : [compose],
  });
}

/**
 * A `.env` named with --env that does not exist (or none at all, with nothing else naming the
 * database): said as such, rather than as a missing SQLite file beside it.
 */
function requireEnvFile(args: ParsedArgs, deployment: Deployment): void {
  if (deployment.env.exists || (str(args, 'env') === undefined && deployment.dsnSource !== 'default')) return;
  throw new KeystoreError(
    'env-missing',
    {
      en: `${deployment.envPath} does not exist: name GPT-Load's .env with --env FILE (or its database with --dsn)`,
      zh: `${deployment.envPath} 不存在：请用 --env FILE 指定 GPT-Load 的 .env（或用 --dsn 指定其数据库）`,
    },
    { path: deployment.envPath },
  );
}

export async function withStore<T>(
  args: ParsedArgs,
  io: CliIO,
  run: (store: Store, deployment: Deployment) => Promise<T>,
  options: { requireEnv?: boolean } = {},
): Promise<T> {
  const deployment = deploymentOf(args, io);
  const timeoutMs = positiveInt(args, 'timeout', 5) * 1000;
  if (options.requireEnv) requireEnvFile(args, deployment);
  const store = await openStore(deployment.target, { timeoutMs });
  try {
    return await run(store, deployment);
  } finally {
    await store.close();
  }
}

/** Progress on stderr: one rewritten line on a terminal, a line per second elsewhere. */
export function progressPrinter(io: CliIO): (p: Progress) => void {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let lastLine = 0;
  return (p) => {
    const n = (value: number) => formatNumber(value, io.lang);
    const pct = p.total > 0 ? ` ${Math.floor((100 * p.done) / p.total)}%` : '';
    // Per second of what the phase counts (rows, pages…): the phase names it.
    const rate = p.rate !== undefined ? (io.lang === 'zh-CN' ? `，${n(p.rate)}/秒` : `, ${n(p.rate)}/s`) : '';
    const text = `${phaseLabel(p.phase, io.lang)}: ${n(p.done)}/${n(p.total)}${pct}${rate}`;
    if (tty) io.stderr.write(`\r\x1b[K${text}${p.done >= p.total ? '\n' : ''}`);
    else if (Date.now() - lastLine >= 1000 || p.done >= p.total) {
      lastLine = Date.now();
      io.stderr.write(text + '\n');
    }
  };
}

/** A key's fingerprint as shown: "plaintext" (no key, GPT-Load's disabled mode) in the operator's language. */
export function fingerprintText(fingerprint: string | null | undefined, lang: Lang): string {
  if (fingerprint === 'plaintext') return lang === 'zh-CN' ? '明文' : 'plaintext';
  return fingerprint ?? (lang === 'zh-CN' ? '未知' : 'unknown');
}

export function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
