/**
 * `gpt-load-keystore`: the command-line front over server/keystore. It parses flags, picks the
 * command and maps KeystoreError codes to exit codes; the work itself lives in the core.
 */
import { parseArgs } from 'node:util';
import { COMMANDS } from './cli/commands';
import type { CliCommand, CliIO } from './cli/command';
import { HELP_ZH, USAGE_ZH } from './cli/helpZh';
import { asKeystoreError, EXIT_CODES, KeystoreError, localize, type Lang } from './core/errors';
import { closest } from './cli/suggest';
import { detectLang } from './core/lang';
import { TOOL } from './core/tool';
import { maskDsn } from './store/dsn';
import { printable } from '../shared/printable';

/** One line per command: its name, padded to the longest, and its summary in `lang`. */
function commandLines(commands: readonly CliCommand[], lang: Lang): string[] {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${helpOf(c, lang).summary}`);
}

function usage(lang: Lang): string {
  const zh = lang === 'zh-CN';
  return [
    zh ? USAGE_ZH.title : 'gpt-load-keystore — safe key encryption, rotation, backups and .env checks for GPT-Load',
    '',
    zh ? USAGE_ZH.usage : 'Usage: gpt-load-keystore <command> [options]    (gpt-load-keystore <command> --help for details)',
    '',
    zh ? USAGE_ZH.commands : 'Commands:',
    ...commandLines(COMMANDS, lang),
    '',
    ...(zh
      ? USAGE_ZH.exitCodes
      : [
          'Exit codes: 0 ok, 1 findings, 2 usage, 3 .env or key input, 4 wrong key / undecryptable,',
          '5 refused by a safety check, 6 GPT-Load is running, 7 cannot connect, 8 not a GPT-Load database,',
          '9 backup invalid, 10 file I/O, 130 cancelled.',
        ]),
  ].join('\n');
}

/** A command's summary and help in `lang` (English where no translation exists yet). */
function helpOf(command: CliCommand, lang: Lang): { summary: string; help: string } {
  return (lang === 'zh-CN' && HELP_ZH[command.name]) || command;
}

function findCommand(argv: string[]): { command: CliCommand; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/** The command a mistyped one was probably meant to be: `stauts` → `status`, `backup lsit` → `backup list`. */
function suggestCommand(argv: string[]): string | undefined {
  const names = COMMANDS.map((c) => c.name);
  const twoWords = argv.length >= 2 && !argv[1].startsWith('-') ? closest(argv.slice(0, 2).join(' '), names.filter((n) => n.includes(' '))) : undefined;
  return twoWords ?? closest(argv[0], names.filter((n) => !n.includes(' ')));
}

/** parseArgs' refusals in the operator's language. */
function parseErrorText(err: NodeJS.ErrnoException, command: CliCommand, lang: Lang): string {
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return localize(
      {
        en: 'Unexpected argument (not shown: it may be a secret). This command does not take positional arguments',
        zh: '意外的参数（未显示：它可能是密钥）。此命令不接受位置参数',
      },
      lang,
    );
  }
  // A flag that needs a value got none, or one starting with '-' (parseArgs calls that ambiguous).
  const valueless = err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? /^Option '(--?[A-Za-z0-9-]+)/.exec(err.message)?.[1] : undefined;
  if (valueless) {
    return localize(
      {
        en: `Option '${valueless}' needs a value (one starting with '-' is read as another option: write ${valueless}=VALUE)`,
        zh: `选项 '${valueless}' 需要一个值（以 '-' 开头的值会被当作另一个选项：请写成 ${valueless}=VALUE）`,
      },
      lang,
    );
  }
  return unknownOptionText(err, command, lang) ?? err.message;
}

/** "unknown option '--jsn'; did you mean '--json'?" for parseArgs' unknown-flag error; undefined for any other. */
function unknownOptionText(err: NodeJS.ErrnoException, command: CliCommand, lang: Lang): string | undefined {
  const typed = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '(-[^']*)'/.exec(err.message)?.[1] : undefined;
  if (typed === undefined) return undefined;
  const flags = [...Object.keys(command.options), 'help', 'lang'].map((name) => `--${name}`);
  const near = closest(typed, flags);
  return near
    ? localize({ en: `Unknown option '${typed}'; did you mean '${near}'?`, zh: `未知选项 '${typed}'；是否要输入 '${near}'？` }, lang)
    : localize({ en: `Unknown option '${typed}'`, zh: `未知选项 '${typed}'` }, lang);
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  // --lang works on every command, so it is taken out before the command's own flags are parsed.
  // `--lang zh-CN` or `--lang=zh-CN`; zh, zh_CN and any case name Simplified Chinese too.
  const langFlag = argv.findIndex((arg) => arg === '--lang' || arg.startsWith('--lang='));
  if (langFlag >= 0) {
    const inline = argv[langFlag].startsWith('--lang=');
    const value = inline ? argv[langFlag].slice('--lang='.length) : argv[langFlag + 1];
    // Also as LANG spells them: en_US.UTF-8, zh_CN.UTF-8.
    const lang = /^en([-_][a-z]{2})?(\.utf-?8)?$/i.test(value ?? '') ? 'en' : /^zh([-_]cn)?(\.utf-?8)?$/i.test(value ?? '') ? 'zh-CN' : null;
    if (!lang) {
      const given = value === undefined ? '' : ` ('${printable(value)}')`;
      io.stderr.write(`gpt-load-keystore: ${localize({ en: `--lang takes en or zh-CN (zh, zh_CN)${given}`, zh: `--lang 只接受 en 或 zh-CN（zh、zh_CN）${given}` }, io.lang)}\n`);
      return EXIT_CODES.usage;
    }
    io = { ...io, lang };
    argv = [...argv.slice(0, langFlag), ...argv.slice(langFlag + (inline ? 1 : 2))];
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(usage(io.lang) + '\n');
    return argv.length === 0 ? EXIT_CODES.usage : 0;
  }
  if (argv[0] === '--version') {
    io.stdout.write(TOOL.version + '\n');
    return 0;
  }
  const found = findCommand(argv);
  // A command group alone (`backup`, `keys --help`): its subcommands, as --help lists commands.
  const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
  if (!found && group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
    const lines = [
      localize({ en: `${argv[0]} takes a subcommand (gpt-load-keystore ${argv[0]} <subcommand> --help for details):`, zh: `${argv[0]} 需要一个子命令（详见 gpt-load-keystore ${argv[0]} <子命令> --help）：` }, io.lang),
      ...commandLines(group, io.lang),
    ];
    (argv.length === 1 ? io.stderr : io.stdout).write(lines.join('\n') + '\n');
    return argv.length === 1 ? EXIT_CODES.usage : 0;
  }
  if (!found) {
    const near = suggestCommand(argv);
    if (near !== undefined) {
      const typed = near.includes(' ') ? argv.slice(0, 2).join(' ') : argv[0];
      io.stderr.write(
        `gpt-load-keystore: ${localize({ en: `unknown command '${typed}'; did you mean '${near}'?`, zh: `未知命令 '${typed}'；是否要输入 '${near}'？` }, io.lang)}\n` +
          `${localize({ en: 'See: gpt-load-keystore --help', zh: '参见：gpt-load-keystore --help' }, io.lang)}\n`,
      );
    } else {
      io.stderr.write(`gpt-load-keystore: ${localize({ en: `unknown command '${argv[0]}'`, zh: `未知命令 '${argv[0]}'` }, io.lang)}\n\n${usage(io.lang)}\n`);
    }
    return EXIT_CODES.usage;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    const { summary, help } = helpOf(command, io.lang);
    io.stdout.write(`gpt-load-keystore ${command.name} — ${summary}\n\n${help.trim()}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.positionals ?? false, strict: true });
  } catch (err) {
    // parseArgs quotes the offending flag, never a value given to a known one; but it quotes a stray
    // positional, which may be a key typed where the command reads it from stdin.
    const message = parseErrorText(err as NodeJS.ErrnoException, command, io.lang);
    const see = localize({ en: `See: gpt-load-keystore ${command.name} --help`, zh: `参见：gpt-load-keystore ${command.name} --help` }, io.lang);
    io.stderr.write(`gpt-load-keystore ${command.name}: ${message}\n${see}\n`);
    return EXIT_CODES.usage;
  }
  try {
    return await command.run(parsed as never, io);
  } catch (err) {
    const error = asKeystoreError(err);
    io.stderr.write(`gpt-load-keystore ${command.name}: ${maskDsn(error.localized(io.lang))}\n`);
    return EXIT_CODES[error.code];
  }
}

if (require.main === module) {
  const cancellation = { cancelled: false };
  const lang = detectLang(process.env);
  let interrupts = 0;
  // Ctrl-C, and SIGTERM / SIGHUP as `docker stop`, systemd, CI timeouts and closed terminals send
  // them: the first asks the operation to stop at its next safe point; a second one exits at once.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      cancellation.cancelled = true;
      if (++interrupts > 1) process.exit(EXIT_CODES.cancelled);
      process.stderr.write(`\n${signal}: ${localize({ en: 'cancelling at the next safe point… (again to force)', zh: '将在下一个安全点取消…（再次中断可强制退出）' }, lang)}\n`);
    });
  }
  // `… | head` closes the pipe once it has what it wanted: stop quietly, as Unix tools do, rather
  // than with a stack trace and an exit code that reads as a finding.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  const io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    lang,
    cancellation,
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`gpt-load-keystore: ${maskDsn(asKeystoreError(err).message)}\n`);
      process.exitCode = EXIT_CODES.internal;
    },
  );
}

export { KeystoreError };
