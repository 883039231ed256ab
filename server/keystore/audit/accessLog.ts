/**
 * A reverse proxy's access log, for the client IPs GPT-Load's own log lacks: nginx's `combined`
 * (and `common`) format, and Caddy's JSON access log.
 */
import { logTime, type LoggedRequest } from './gptLoadLog';

export interface AccessLogRequest extends LoggedRequest {
  ip: string;
}

const COMBINED = /^(\S+) \S+ \S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}:\d{2}:\d{2})[^\]]*\] "([A-Z]+) (\S+)[^"]*" (\d{3}) /;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function withoutQuery(uri: string): string {
  const q = uri.indexOf('?');
  return q >= 0 ? uri.slice(0, q) : uri;
}

export function parseAccessLine(line: string): AccessLogRequest | null {
  if (line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as { ts?: unknown; status?: unknown; request?: { remote_ip?: unknown; client_ip?: unknown; method?: unknown; uri?: unknown } };
      const r = entry.request;
      const ip = r?.client_ip ?? r?.remote_ip;
      if (typeof ip !== 'string' || typeof r?.method !== 'string' || typeof r?.uri !== 'string' || typeof entry.status !== 'number') return null;
      const time = typeof entry.ts === 'number' ? logTime(new Date(entry.ts * 1000).toISOString()) : null;
      return time ? { ip, time, method: r.method, path: withoutQuery(r.uri), status: entry.status } : null;
    } catch {
      return null;
    }
  }
  const m = COMBINED.exec(line);
  if (!m) return null;
  const month = MONTHS.indexOf(m[3]) + 1;
  if (month === 0) return null;
  return { ip: m[1], time: `${m[4]}-${String(month).padStart(2, '0')}-${m[2]} ${m[5]}`, method: m[6], path: withoutQuery(m[7]), status: Number(m[8]) };
}
