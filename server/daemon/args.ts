/** The daemon's command line: transport, log level, log file, debug methods. */
import { isLogLevel, LOG_LEVELS, type LogLevel } from './log';

type Transport = 'stdio' | 'node-ipc' | 'socket' | 'pipe';

export interface DaemonArgs {
  transport: Transport | undefined;
  logLevel: LogLevel;
  logFile: string | undefined;
  /** Registers gptLoad/debug/* (tests, benchmarks). */
  debugMethods: boolean;
  help: boolean;
  version: boolean;
}

export const DAEMON_USAGE = `Usage: node dist/server.js (--stdio | --node-ipc | --socket=PORT | --pipe=NAME) [options]

The GPT-Load Keystore daemon: LSP features for .env and compose files plus keystore requests
(shared/protocol.ts). stdout carries protocol traffic only; logs go to stderr.

Options:
  --log-level LEVEL    ${LOG_LEVELS.join(' | ')} (default info; env GPT_LOAD_KEYSTORE_LOG_LEVEL)
  --log-file FILE      also append the log to FILE (env GPT_LOAD_KEYSTORE_LOG_FILE)
  --clientProcessId N  exit when process N exits
  --debug-methods      enable gptLoad/debug/* requests (tests and benchmarks)
  --version, --help`;

function valueOf(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(name + '=')) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

export function parseDaemonArgs(argv: string[], env: NodeJS.ProcessEnv): DaemonArgs | string {
  const transport = (['stdio', 'node-ipc', 'socket', 'pipe'] as const).find((t) => argv.some((a) => a === `--${t}` || a.startsWith(`--${t}=`)));
  const level = valueOf(argv, '--log-level') ?? env.GPT_LOAD_KEYSTORE_LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) return `--log-level takes one of ${LOG_LEVELS.join(', ')}`;
  return {
    transport,
    logLevel: level,
    logFile: valueOf(argv, '--log-file') ?? (env.GPT_LOAD_KEYSTORE_LOG_FILE || undefined),
    debugMethods: argv.includes('--debug-methods'),
    help: argv.includes('--help') || argv.includes('-h'),
    version: argv.includes('--version'),
  };
}
