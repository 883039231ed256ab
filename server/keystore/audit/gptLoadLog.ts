/**
 * GPT-Load's own log, one request per line from its Logger middleware
 * (`"%s %s - %d - %v…"`: method, path, status, duration, …) in any of the shapes it is found in:
 * logrus text (`time="…" level=warning msg="…"`), logrus on a terminal (`WARN[…] …`, colours
 * included), JSON (`LOG_FORMAT=json`), each possibly behind `docker compose logs`' `gpt-load  | `.
 */

export interface LoggedRequest {
  /** `YYYY-MM-DD HH:MM:SS` as the log wrote it (its own time zone). */
  time: string;
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
}

const COMPOSE_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*\s+\|\s?/;
const ANSI = /\x1b\[[0-9;]*m/g;
const TEXT = /\btime="([^"]*)"[^]*?\bmsg="((?:[^"\\]|\\.)*)"/;
const TTY = /^[A-Z]{4}\[([^\]]*)\]\s*(.*)$/;
const REQUEST = /^([A-Z]+) (\S+) - (\d{3}) - /;

/** `2006-01-02 15:04:05` / `2006-01-02T15:04:05.000+08:00` → `2006-01-02 15:04:05`. */
export function logTime(text: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(text);
  return m ? `${m[1]} ${m[2]}` : null;
}

function request(time: string | null, msg: string): LoggedRequest | null {
  const m = REQUEST.exec(msg);
  if (!m || time === null) return null;
  const query = m[2].indexOf('?');
  return { time, method: m[1], path: query >= 0 ? m[2].slice(0, query) : m[2], status: Number(m[3]) };
}

/** One line of GPT-Load's log as a request, or null for anything else (startup lines, errors, noise). */
export function parseGptLoadLine(raw: string): LoggedRequest | null {
  let line = raw.replace(COMPOSE_PREFIX, '');
  if (line.includes('\x1b')) line = line.replace(ANSI, '');
  if (line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as { msg?: unknown; time?: unknown };
      return typeof entry.msg === 'string' && typeof entry.time === 'string' ? request(logTime(entry.time), entry.msg) : null;
    } catch {
      return null;
    }
  }
  const text = TEXT.exec(line);
  if (text) return request(logTime(text[1]), text[2].replace(/\\(.)/g, '$1'));
  const tty = TTY.exec(line);
  return tty ? request(logTime(tty[1]), tty[2]) : null;
}

/** A cheap test before the parse: every line of interest carries ` - 401 - ` or ` - 403 - `. */
export function mayBeAuthFailure(line: string): boolean {
  return line.includes(' - 401 - ') || line.includes(' - 403 - ');
}
