/**
 * Abnormal access, from GPT-Load's log (and a reverse proxy's access log for client IPs): failed
 * admin logins (`POST /api/auth/login` 401) and failed admin API auth (`/api/*` 401) under
 * `login-failures`, proxy requests refused (`/proxy/*` 401/403) under `proxy-auth-failures` — totals,
 * per-hour counts, bursts (≥ N within M minutes) with their windows. Logs are streamed line by
 * line: memory grows with hours, bursts and client IPs, never with the file.
 */
import { createInterface } from 'node:readline';
import { throwIfCancelled, type Cancellation, type Localized } from '../../core/errors';
import { parseAccessLine } from './accessLog';
import { finding, type AuditFinding } from './findings';
import { mayBeAuthFailure, parseGptLoadLine, type LoggedRequest } from './gptLoadLog';

export type FailureKind = 'login' | 'admin-api' | 'proxy';

export function failureKind(r: Pick<LoggedRequest, 'method' | 'path' | 'status'>): FailureKind | null {
  if (r.path.startsWith('/proxy/')) return r.status === 401 || r.status === 403 ? 'proxy' : null;
  if (r.status !== 401 || !r.path.startsWith('/api/')) return null;
  return r.method === 'POST' && r.path === '/api/auth/login' ? 'login' : 'admin-api';
}

export interface BurstRule {
  /** At least this many failures… */
  count: number;
  /** …within this many minutes. */
  minutes: number;
}

export const DEFAULT_BURST: BurstRule = { count: 10, minutes: 10 };

export interface Burst {
  from: string;
  to: string;
  count: number;
}

function seconds(time: string): number {
  return Date.UTC(+time.slice(0, 4), +time.slice(5, 7) - 1, +time.slice(8, 10), +time.slice(11, 13), +time.slice(14, 16), +time.slice(17, 19)) / 1000;
}

const MAX_BURSTS = 1000;

/** Failures of one kind group: totals, per hour, bursts; times arrive in log order. */
export class FailureTally {
  total = 0;
  readonly perHour = new Map<string, number>();
  readonly bursts: Burst[] = [];
  private window: Array<{ at: number; time: string }> = [];
  private head = 0;
  private open: Burst | null = null;

  constructor(private readonly rule: BurstRule) {}

  add(time: string): void {
    this.total++;
    const hour = time.slice(0, 13);
    this.perHour.set(hour, (this.perHour.get(hour) ?? 0) + 1);
    const at = seconds(time);
    this.window.push({ at, time });
    while (this.head < this.window.length && at - this.window[this.head].at >= this.rule.minutes * 60) this.head++;
    if (this.head > 4096) {
      this.window = this.window.slice(this.head);
      this.head = 0;
    }
    const inWindow = this.window.length - this.head;
    if (inWindow >= this.rule.count) {
      if (this.open) {
        this.open.to = time;
        this.open.count++;
      } else if (this.bursts.length < MAX_BURSTS) {
        this.open = { from: this.window[this.head].time, to: time, count: inWindow };
        this.bursts.push(this.open);
      }
    } else this.open = null;
  }

  busiestHours(n: number): Array<{ hour: string; count: number }> {
    return [...this.perHour].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([hour, count]) => ({ hour: `${hour}:00`, count }));
  }
}

export interface LoginFacts {
  login: FailureTally;
  adminApi: FailureTally;
  proxy: FailureTally;
  /** Client IPs behind each kind, from the access log. */
  ips: Record<FailureKind, Map<string, number>>;
  /** Where the counts come from: GPT-Load's log when given, else the access log. */
  counted: 'gpt-load-log' | 'access-log' | null;
}

export interface LogSource {
  /** A file name, or "-" for stdin. */
  name: string;
  open(): NodeJS.ReadableStream;
}

async function eachLine(source: LogSource, cancellation: Cancellation | undefined, onLine: (line: string) => void): Promise<void> {
  let n = 0;
  for await (const line of createInterface({ input: source.open(), crlfDelay: Infinity })) {
    if ((++n & 0xffff) === 0) throwIfCancelled(cancellation);
    onLine(line);
  }
}

export async function readLoginFacts(params: { logs: LogSource[]; accessLogs: LogSource[]; burst: BurstRule }, cancellation?: Cancellation): Promise<LoginFacts> {
  const facts: LoginFacts = {
    login: new FailureTally(params.burst),
    adminApi: new FailureTally(params.burst),
    proxy: new FailureTally(params.burst),
    ips: { login: new Map(), 'admin-api': new Map(), proxy: new Map() },
    counted: params.logs.length > 0 ? 'gpt-load-log' : params.accessLogs.length > 0 ? 'access-log' : null,
  };
  const tally = (kind: FailureKind, time: string) => (kind === 'login' ? facts.login : kind === 'admin-api' ? facts.adminApi : facts.proxy).add(time);
  for (const log of params.logs) {
    await eachLine(log, cancellation, (line) => {
      if (!mayBeAuthFailure(line)) return;
      const r = parseGptLoadLine(line);
      const kind = r && failureKind(r);
      if (kind) tally(kind, r.time);
    });
  }
  for (const log of params.accessLogs) {
    await eachLine(log, cancellation, (line) => {
      const r = parseAccessLine(line);
      const kind = r && failureKind(r);
      if (!kind) return;
      const ips = facts.ips[kind];
      ips.set(r.ip, (ips.get(r.ip) ?? 0) + 1);
      if (facts.counted === 'access-log') tally(kind, r.time);
    });
  }
  return facts;
}

function topIps(ips: Map<string, number>, n = 5): string {
  return [...ips].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([ip, count]) => `${ip} (${count})`).join(', ');
}

function describeBursts(tally: FailureTally, rule: BurstRule): Localized {
  const shown = tally.bursts.slice(0, 5).map((b) => `${b.from} – ${b.to.slice(11)} (${b.count})`).join('; ');
  const more = tally.bursts.length > 5 ? ` …+${tally.bursts.length - 5}` : '';
  return {
    en: `${tally.bursts.length} burst(s) of ≥ ${rule.count} within ${rule.minutes} min: ${shown}${more}`,
    zh: `${tally.bursts.length} 次爆发（${rule.minutes} 分钟内 ≥ ${rule.count} 次）：${shown}${more}`,
  };
}

function tallyText(tally: FailureTally, ips: Map<string, number>, rule: BurstRule): Localized {
  const hours = tally.busiestHours(3).map((h) => `${h.hour} (${h.count})`).join(', ');
  const bursts = tally.bursts.length > 0 ? describeBursts(tally, rule) : { en: 'no burst', zh: '无爆发' };
  const ipText = ips.size > 0 ? topIps(ips) : '';
  return {
    en: `busiest hours ${hours}; ${bursts.en}${ipText ? `; client IPs ${ipText}` : ''}`,
    zh: `最多的小时 ${hours}；${bursts.zh}${ipText ? `；客户端 IP ${ipText}` : ''}`,
  };
}

export function loginFindings(facts: LoginFacts, rule: BurstRule, logNames: string[]): AuditFinding[] {
  if (facts.counted === null) {
    const text = {
      en: "No log read: pass GPT-Load's log with --log FILE (or `docker compose logs gpt-load | gpt-load-keystore audit --log -`), and a reverse proxy's access log with --access-log FILE for client IPs. GPT-Load writes a file only with LOG_ENABLE_FILE=true.",
      zh: '未读取任何日志：用 --log FILE 传入 GPT-Load 的日志（或 `docker compose logs gpt-load | gpt-load-keystore audit --log -`），并用 --access-log FILE 传入反向代理的访问日志以获得客户端 IP。GPT-Load 仅在 LOG_ENABLE_FILE=true 时写日志文件。',
    };
    return [finding('logins', 'login-failures', 'unknown', text), finding('logins', 'proxy-auth-failures', 'unknown', text)];
  }
  const from = logNames.join(', ');
  const admin = facts.login.total + facts.adminApi.total;
  const adminIps = new Map([...facts.ips.login]);
  for (const [ip, n] of facts.ips['admin-api']) adminIps.set(ip, (adminIps.get(ip) ?? 0) + n);
  const out: AuditFinding[] = [];
  if (admin === 0) {
    out.push(finding('logins', 'login-failures', 'pass', { en: `No failed admin login or admin API request in ${from}.`, zh: `${from} 中没有失败的管理登录或管理 API 请求。` }));
  } else {
    const burst = facts.login.bursts.length + facts.adminApi.bursts.length > 0;
    const worst = facts.login.bursts.length >= facts.adminApi.bursts.length ? facts.login : facts.adminApi;
    const detail = tallyText(worst, adminIps, rule);
    out.push(
      finding('logins', 'login-failures', burst ? 'warn' : 'pass', {
        en: `${facts.login.total} failed admin login(s) (POST /api/auth/login 401) and ${facts.adminApi.total} failed admin API request(s) (/api/* 401) in ${from}: ${detail.en}.${burst ? ' Someone may be guessing AUTH_KEY (GPT-Load does not rate-limit logins): limit the admin UI by IP, and rotate AUTH_KEY if it may be known (gpt-load-keystore rotate-auth-key).' : ''}`,
        zh: `${from} 中有 ${facts.login.total} 次管理登录失败（POST /api/auth/login 401）和 ${facts.adminApi.total} 次管理 API 请求失败（/api/* 401）：${detail.zh}。${burst ? '可能有人在猜测 AUTH_KEY（GPT-Load 不限制登录频率）：请按 IP 限制管理界面，若 AUTH_KEY 可能已泄露请更换（gpt-load-keystore rotate-auth-key）。' : ''}`,
      }, burst ? { fix: 'rotate-auth-key' } : {}),
    );
  }
  if (facts.proxy.total === 0) {
    out.push(finding('logins', 'proxy-auth-failures', 'pass', { en: `No proxy request refused for its key (/proxy/* 401/403) in ${from}.`, zh: `${from} 中没有因密钥被拒绝的代理请求（/proxy/* 401/403）。` }));
  } else {
    const burst = facts.proxy.bursts.length > 0;
    const detail = tallyText(facts.proxy, facts.ips.proxy, rule);
    out.push(
      finding('logins', 'proxy-auth-failures', burst ? 'warn' : 'pass', {
        en: `${facts.proxy.total} proxy request(s) refused for their key (/proxy/* 401/403) in ${from}: ${detail.en}.${burst ? ' A client may be guessing proxy keys, or still using a revoked one: check the IPs and the keys handed out.' : ''}`,
        zh: `${from} 中有 ${facts.proxy.total} 次代理请求因密钥被拒绝（/proxy/* 401/403）：${detail.zh}。${burst ? '可能有客户端在猜测代理密钥，或仍在使用已撤销的密钥：请检查这些 IP 和已分发的密钥。' : ''}`,
      }),
    );
  }
  return out;
}
