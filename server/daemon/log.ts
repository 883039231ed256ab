/**
 * The daemon's log: stderr (which LSP clients show in their output channel) and, with --log-file,
 * a file. stdout is never written: it carries only protocol traffic.
 *
 * Callers log methods, durations, counts and ids — never values. As a second line of defence every
 * line passes through a redactor that knows the secrets this session has seen (keys given in
 * requests, secrets of open `.env` files, database passwords) and blanks them, so a driver's error
 * text or a dependency's console output cannot carry one out either.
 */
import { appendFileSync, openSync, closeSync } from 'node:fs';

export const LOG_LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const REDACTED = '‹redacted›';
/** Shorter values are too likely to be ordinary words to blank everywhere. */
const MIN_SECRET_LENGTH = 6;
/** Secrets remembered at most; the oldest are dropped first (memory stays flat). */
const MAX_SECRETS = 2048;

/** Secrets seen this session, longest first so a secret containing another is blanked whole. */
class Redactor {
  private readonly secrets = new Set<string>();
  /** Longest first; sorted when next needed (secrets come with keystrokes, log lines rarely). */
  private sorted: string[] | null = null;

  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.secrets.has(value)) return;
    this.secrets.add(value);
    // Also the forms a value takes inside JSON or URLs, as drivers and dependencies quote them.
    for (const form of [JSON.stringify(value).slice(1, -1), uriEncoded(value)]) {
      if (form !== value && form.length >= MIN_SECRET_LENGTH) this.secrets.add(form);
    }
    for (const password of embeddedPasswords(value)) this.add(password);
    while (this.secrets.size > MAX_SECRETS) this.secrets.delete(this.secrets.values().next().value as string);
    this.sorted = null;
  }

  redact(text: string): string {
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length);
    for (const secret of this.sorted) if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    return text;
  }
}

/** encodeURIComponent, which throws on a lone surrogate (editors send whatever is typed). */
function uriEncoded(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Passwords inside a DSN (URL form, go-sql-driver form), which drivers may quote on their own. */
function embeddedPasswords(value: string): string[] {
  const found: string[] = [];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const password = new URL(value).password;
      if (password) found.push(password, decodeURIComponent(password));
    } catch {
      // not a URL after all
    }
  }
  const mysql = /^[^:@/]*:(.*)@tcp6?\(/.exec(value);
  if (mysql) found.push(mysql[1]);
  return found.filter((p) => p !== value);
}

export const redactor = new Redactor();

class Logger {
  level: LogLevel = 'info';
  private file: string | undefined;

  configure(options: { level?: LogLevel; file?: string }): void {
    if (options.level) this.level = options.level;
    if (options.file) {
      // Fail early and loudly on an unwritable path rather than losing every later line.
      closeSync(openSync(options.file, 'a', 0o600));
      this.file = options.file;
    }
  }

  enabled(level: Exclude<LogLevel, 'off'>): boolean {
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.level);
  }

  error(message: string): void {
    this.write('error', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  debug(message: string): void {
    this.write('debug', message);
  }
  trace(message: string): void {
    this.write('trace', message);
  }

  /** Text that did not come from our code (console output of dependencies), logged at `level`. */
  foreign(level: Exclude<LogLevel, 'off'>, text: string): void {
    this.write(level, text.replace(/\n$/, ''));
  }

  private write(level: Exclude<LogLevel, 'off'>, message: string): void {
    if (!this.enabled(level)) return;
    const line = `[${new Date().toISOString()}] ${level.padEnd(5)} ${redactor.redact(message)}\n`;
    try {
      process.stderr.write(line);
      if (this.file) appendFileSync(this.file, line, { mode: 0o600 });
    } catch {
      // A closed stderr or a full disk must not take the daemon down.
    }
  }
}

export const log = new Logger();

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
