/**
 * Is GPT-Load running against this database? A running GPT-Load keeps decrypted keys in memory and
 * keeps writing rows with the key it started with, so operations that rewrite keys refuse while it
 * answers `GET http://HOST:PORT/health` (HOST/PORT from its .env; 0.0.0.0 probed as 127.0.0.1) or,
 * on MySQL/PostgreSQL, while other sessions are connected to its database. `--force` overrides.
 */
import { request } from 'node:http';
import { KeystoreError, type Localized } from '../core/errors';
import { TOOL } from '../core/tool';
import { countOtherSessions, type Store } from '../store/connect';
import type { Deployment } from './deployment';

interface HealthProbe {
  url: string;
  /** Something answered HTTP there (any status: GPT-Load answers 200, or 503 while unhealthy). */
  answered: boolean;
  status?: number;
}

export interface ServiceCheck {
  health: HealthProbe;
  /** Other sessions on the database (ours excluded); null on SQLite. */
  otherSessions: number | null;
  running: boolean;
}

/** Short: a stopped service refuses at once; a firewalled port must not stall the run. */
const HEALTH_TIMEOUT_MS = 1500;

function healthUrl(service: Deployment['service']): string {
  const host = service.host.includes(':') ? `[${service.host}]` : service.host;
  return `http://${host}:${service.port}/health`;
}

function probeHealth(url: string, timeoutMs = HEALTH_TIMEOUT_MS): Promise<HealthProbe> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (probe: HealthProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(probe);
    };
    const req = request(url, { method: 'GET', headers: { 'user-agent': TOOL.name } }, (res) => {
      res.resume();
      finish({ url, answered: true, status: res.statusCode });
    });
    const timer = setTimeout(() => finish({ url, answered: false }), timeoutMs);
    req.on('error', () => finish({ url, answered: false }));
    req.end();
  });
}

/**
 * How long sessions seen on the database get to go before they count: a client that has just
 * disconnected stays in MySQL's PROCESSLIST (and pg_stat_activity) for a moment, while GPT-Load's
 * pool keeps its connections open.
 */
const SESSION_SETTLE_MS = 300;

export async function checkService(store: Store, deployment: Deployment, timeoutMs = HEALTH_TIMEOUT_MS): Promise<ServiceCheck> {
  const sessions = async () => {
    const seen = await countOtherSessions(store);
    if (!seen) return seen;
    await new Promise((resolve) => setTimeout(resolve, SESSION_SETTLE_MS));
    return countOtherSessions(store);
  };
  const [health, otherSessions] = await Promise.all([probeHealth(healthUrl(deployment.service), timeoutMs), sessions()]);
  return { health, otherSessions, running: health.answered || (otherSessions ?? 0) > 0 };
}

/** The findings, for the refusal and for the summary of a forced run. */
export function describeService(check: ServiceCheck): Localized {
  const parts: Localized[] = [];
  if (check.health.answered) {
    parts.push({
      en: `GPT-Load answers at ${check.health.url} (HTTP ${check.health.status})`,
      zh: `GPT-Load 在 ${check.health.url} 有响应（HTTP ${check.health.status}）`,
    });
  }
  if ((check.otherSessions ?? 0) > 0) {
    parts.push({
      en: `${check.otherSessions} other session(s) are connected to the database`,
      zh: `另有 ${check.otherSessions} 个会话连接着该数据库`,
    });
  }
  return { en: parts.map((p) => p.en).join('; '), zh: parts.map((p) => p.zh).join('；') };
}

export function serviceRunningError(check: ServiceCheck, restartHint: string | null): KeystoreError {
  const found = describeService(check);
  const stop = restartHint?.startsWith('docker compose')
    ? { en: ' (e.g. docker compose stop)', zh: '（例如 docker compose stop）' }
    : { en: '', zh: '' };
  return new KeystoreError(
    'service-running',
    {
      en:
        `GPT-Load looks running: ${found.en}. A running GPT-Load keeps using the old keys and writes new rows with them; ` +
        `stop it first${stop.en}, or pass --force if you know these are not GPT-Load. Nothing was written.`,
      zh:
        `GPT-Load 似乎正在运行：${found.zh}。运行中的 GPT-Load 会继续使用旧密钥并用它写入新数据；` +
        `请先停止它${stop.zh}，如确认不是 GPT-Load，可加 --force。未写入任何内容。`,
    },
    { health: check.health, otherSessions: check.otherSessions },
  );
}
