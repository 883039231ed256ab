/**
 * Imported first by server/server.ts, before any driver: from here on stdout carries only protocol
 * traffic. Whatever else writes to stdout (console.*, a dependency's process.stdout.write) goes to
 * the log instead, redacted. The protocol writer gets the real stdout through `protocolStdout`.
 */
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { log } from './log';

const realStdoutWrite = process.stdout.write.bind(process.stdout) as (chunk: Uint8Array | string, callback?: (err?: Error | null) => void) => boolean;

/** The only way to stdout: the JSON-RPC message writer of `--stdio`. */
export const protocolStdout = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    realStdoutWrite(chunk, (err) => callback(err ?? null));
  },
});

function stray(level: 'info' | 'warn' | 'error' | 'debug') {
  return (...args: unknown[]) => log.foreign(level, args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' '));
}

function safeInspect(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : inspect(value, { depth: 2, breakLength: Infinity });
  } catch {
    return '[unprintable]';
  }
}

console.log = stray('info');
console.info = stray('info');
console.debug = stray('debug');
console.trace = stray('debug');
console.dir = stray('debug');
console.warn = stray('warn');
console.error = stray('error');

process.stdout.write = (chunk: Uint8Array | string, encodingOrCallback?: unknown, callback?: unknown) => {
  log.foreign('info', typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
  if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
  return true;
};
