/**
 * Keys and answers from the operator, kept out of argv: an environment variable, a one-line file, or
 * a terminal prompt without echo. Shared by every command that takes a key (migrate-keys, backups).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KeystoreError, localize, type Localized } from '../core/errors';
import type { LoadedEnv } from '../core/env/read';
import type { CliIO } from './command';

export function keyRequired(en: string, zh: string): KeystoreError {
  return new KeystoreError('key-required', { en, zh });
}

/**
 * The key in environment variable `name` (`flagName` is the flag that named it, for messages);
 * with `dotenv`, a variable the process lacks is taken from that `.env` as GPT-Load reads it.
 */
export function keyFromEnvVar(io: CliIO, flagName: string, name: string, dotenv?: LoadedEnv): string {
  const value = io.env[name] ?? dotenv?.get(name);
  if (value === undefined) {
    if (dotenv) {
      throw keyRequired(
        `${flagName} ${name}: ${name} is set neither in the environment nor in ${dotenv.path}${dotenv.exists ? '' : ' (which does not exist)'}`,
        `${flagName} ${name}：环境变量和 ${dotenv.path}${dotenv.exists ? '' : '（该文件不存在）'} 中都没有设置 ${name}`,
      );
    }
    throw keyRequired(`${flagName} ${name}: the environment variable ${name} is not set`, `${flagName} ${name}：环境变量 ${name} 未设置`);
  }
  if (value === '') {
    const where = io.env[name] !== undefined || !dotenv ? { en: 'the environment variable', zh: '环境变量' } : { en: `${dotenv.path}:`, zh: `${dotenv.path}：` };
    throw keyRequired(`${flagName} ${name}: ${where.en} ${name} is empty`, `${flagName} ${name}：${where.zh} ${name} 为空`);
  }
  return value;
}

/** The key in a file holding only it, on one line. */
export function keyFromFile(io: CliIO, flagName: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (err) {
    throw keyRequired(`${flagName}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, `${flagName}：无法读取 ${path}（${(err as NodeJS.ErrnoException).code ?? 'error'}）`);
  }
  // One line: the key; a final newline (as `echo` or an editor adds) is not part of it.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw keyRequired(`${flagName}: ${path} is empty`, `${flagName}：${path} 为空`);
  if (/[\r\n]/.test(value)) throw keyRequired(`${flagName}: ${path} has more than one line; it must hold only the key`, `${flagName}：${path} 不止一行；文件中只能有密钥`);
  return value;
}

/** A line typed without echo (raw mode); Ctrl-C cancels. */
export function promptHidden(io: CliIO, question: Localized): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(localize(question, io.lang));
  return new Promise((resolvePrompt, reject) => {
    let value = '';
    const finish = () => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolvePrompt(value);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) {
          finish();
          reject(new KeystoreError('cancelled', { en: 'cancelled', zh: '已取消' }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** One line of answer (echoed); what was typed so far when input ends without a newline. */
function askLine(io: CliIO, question: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(question);
  return new Promise((resolveLine) => {
    let text = '';
    const done = (line: string) => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.pause();
      resolveLine(line);
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.search(/\r|\n/);
      if (nl >= 0) done(text.slice(0, nl));
    };
    const onEnd = () => done(text);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

/** True only for an explicit "yes". */
export async function askYes(io: CliIO, question: string): Promise<boolean> {
  return (await askLine(io, question)).trim().toLowerCase() === 'yes';
}
