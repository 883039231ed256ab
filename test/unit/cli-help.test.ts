import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../server/cli/commands';
import { HELP_ZH } from '../../server/cli/helpZh';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

function cli(args: string[], cwd: string, lang = 'C') {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', input: '', env: { PATH: process.env.PATH, LANG: lang } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function inEmptyDir(t: { after(fn: () => void): void }): string {
  // No .env and no database here: --help and flag errors must not need either.
  const dir = mkdtempSync(join(tmpdir(), 'glk-help-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('gpt-load-keystore --help lists every command and the exit codes; no command is a usage error', (t) => {
  const dir = inEmptyDir(t);
  for (const flag of ['--help', '-h', 'help']) {
    const r = cli([flag], dir);
    assert.equal(r.status, 0);
    for (const command of COMMANDS) assert.ok(r.stdout.includes(`  ${command.name} `), `${command.name} listed`);
    assert.match(r.stdout, /Exit codes: 0 ok, 1 findings, 2 usage/);
  }
  const none = cli([], dir);
  assert.equal(none.status, 2);
  assert.match(none.stdout, /Usage: gpt-load-keystore <command>/);
  const unknown = cli(['statuss'], dir);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'statuss'/);
  assert.match(cli(['--version'], dir).stdout, /^\d+\.\d+\.\d+\n$/);
  const badLang = cli(['status', '--lang', 'fr'], dir);
  assert.equal(badLang.status, 2);
  assert.match(badLang.stderr, /--lang takes en or zh-CN \(zh, zh_CN\) \('fr'\)/);
  const badLangZh = cli(['status', '--lang=fr'], dir, 'zh_CN.UTF-8');
  assert.equal(badLangZh.status, 2);
  assert.match(badLangZh.stderr, /--lang 只接受 en 或 zh-CN（zh、zh_CN） \('fr'\)/);
});

for (const command of COMMANDS) {
  test(`${command.name}: --help exits 0 with usage, options and exit codes; an unknown flag exits 2`, (t) => {
    const dir = inEmptyDir(t);
    const words = command.name.split(' ');
    for (const flag of ['--help', '-h']) {
      const help = cli([...words, flag], dir);
      assert.equal(help.status, 0, help.stderr);
      assert.ok(help.stdout.startsWith(`gpt-load-keystore ${command.name} — ${command.summary}\n`));
      assert.match(help.stdout, new RegExp(`Usage: gpt-load-keystore ${command.name}\\b`));
      assert.match(help.stdout, /Exit codes/);
      assert.equal(help.stderr, '');
    }
    // --help wins over everything else on the line, bad flags included.
    assert.equal(cli([...words, '--no-such-flag', '--help'], dir).status, 0);

    const bad = cli([...words, '--no-such-flag'], dir);
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, new RegExp(`^gpt-load-keystore ${command.name}: Unknown option '--no-such-flag'`));
    assert.match(bad.stderr, new RegExp(`See: gpt-load-keystore ${command.name} --help`));
  });
}

test('a flag value is never echoed in a usage error (a mistyped flag may carry a key)', (t) => {
  const dir = inEmptyDir(t);
  const secret = 'sk-proj-ThisMustNeverBePrinted0123';
  for (const args of [['encrypt', '--kye', secret], ['keys', 'find', `--valeu=${secret}`], ['status', '--dns', secret]]) {
    const r = cli(args, dir);
    assert.equal(r.status, 2, args.join(' '));
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), `${args[0]}: ${r.stderr}`);
  }
});

test('flag values are checked: --limit, --after, --status, --timeout', (t) => {
  const dir = inEmptyDir(t);
  for (const [args, message] of [
    [['keys', 'list', '--limit', '0'], /--limit takes a whole number ≥ 1/],
    [['keys', 'list', '--limit', 'ten'], /--limit takes a whole number ≥ 1/],
    [['keys', 'list', '--after=-1'], /--after takes a whole number ≥ 0/],
    [['keys', 'list', '--status', 'disabled'], /--status takes active or invalid/],
    [['keys', 'find', '--status', 'gone'], /--status takes active or invalid/],
    [['status', '--timeout', '0'], /--timeout takes a whole number ≥ 1/],
  ] as const) {
    const r = cli([...args], dir);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('a mistyped command or flag gets "did you mean", in English and Chinese, exit 2', (t) => {
  const dir = inEmptyDir(t);
  const typo = cli(['stauts'], dir);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /^gpt-load-keystore: unknown command 'stauts'; did you mean 'status'\?\n/);
  assert.equal(typo.stdout, '');
  const sub = cli(['backup', 'lsit'], dir);
  assert.equal(sub.status, 2);
  assert.match(sub.stderr, /unknown command 'backup lsit'; did you mean 'backup list'\?/);
  const zh = cli(['stauts', '--lang', 'zh-CN'], dir);
  assert.equal(zh.status, 2);
  assert.match(zh.stderr, /未知命令 'stauts'；是否要输入 'status'？/);
  const flag = cli(['migrate-keys', '--dryrun'], dir);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /^gpt-load-keystore migrate-keys: Unknown option '--dryrun'; did you mean '--dry-run'\?\n/);
  // A flag whose value is missing, or starts with '-': parseArgs' own wording replaced, in both languages.
  const valueless = cli(['migrate-keys', '--to', '--update-env'], dir);
  assert.equal(valueless.status, 2);
  assert.match(valueless.stderr, /^gpt-load-keystore migrate-keys: Option '--to' needs a value \(one starting with '-' is read as another option: write --to=VALUE\)\nSee: gpt-load-keystore migrate-keys --help\n$/);
  const valuelessZh = cli(['migrate-keys', '--to', '--lang', 'zh-CN'], dir);
  assert.match(valuelessZh.stderr, /选项 '--to' 需要一个值.*\n参见：gpt-load-keystore migrate-keys --help\n$/);
  const flagZh = cli(['status', '--jsn', '--lang', 'zh-CN'], dir);
  assert.equal(flagZh.status, 2);
  assert.match(flagZh.stderr, /未知选项 '--jsn'；是否要输入 '--json'？/);
  // Nothing near: no guess, the usage instead.
  const far = cli(['frobnicate'], dir);
  assert.equal(far.status, 2);
  assert.doesNotMatch(far.stderr, /did you mean/);
  assert.match(far.stderr, /Usage: gpt-load-keystore <command>/);
});
const CHINESE = /[\u4e00-\u9fff]/;
/** The flags and exit codes a help text names: a translation must name the same. */
const flagsOf = (text: string) => [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();
const exitCodesOf = (text: string) => [...new Set(text.slice(text.search(/Exit codes|退出码/)).match(/\b\d+(?= )/g) ?? [])].sort();

test('gpt-load-keystore --help is in Chinese with --lang zh-CN (zh, zh_CN, --lang=…) or a Chinese LANG', (t) => {
  const dir = inEmptyDir(t);
  const runs = [['--lang', 'zh-CN'], ['--lang', 'zh'], ['--lang', 'zh_cn'], ['--lang=zh-CN'], ['--lang', 'zh_CN.UTF-8']].map((flags) => cli(['--help', ...flags], dir));
  for (const r of [...runs, cli(['--help'], dir, 'zh_CN.UTF-8')]) {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /用法：gpt-load-keystore <命令>/);
    assert.match(r.stdout, /退出码：0 成功/);
    for (const command of COMMANDS) assert.ok(r.stdout.includes(`  ${command.name} `) && r.stdout.includes(`  ${HELP_ZH[command.name]?.summary}\n`), `${command.name} listed in Chinese`);
  }
});

for (const command of COMMANDS) {
  test(`${command.name} --help in Chinese names the same flags and exit codes as in English`, (t) => {
    const dir = inEmptyDir(t);
    const words = command.name.split(' ');
    const zh = HELP_ZH[command.name];
    assert.ok(zh, `server/cli/helpZh.ts has no Chinese help for ${command.name}`);
    const english = cli([...words, '--help'], dir).stdout;
    for (const r of [cli([...words, '--help', '--lang', 'zh-CN'], dir), cli([...words, '--help'], dir, 'zh_CN.UTF-8')]) {
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`gpt-load-keystore ${command.name} — ${zh.summary}\n`));
      assert.match(r.stdout, new RegExp(`用法：gpt-load-keystore ${command.name}\\b`));
      assert.match(r.stdout, CHINESE);
      assert.deepEqual(flagsOf(r.stdout), flagsOf(english));
      assert.deepEqual(exitCodesOf(r.stdout), exitCodesOf(english));
    }
  });
}

test('a command group alone lists its subcommands: with --help on stdout (exit 0), bare on stderr (exit 2), in zh-CN too', (t) => {
  const dir = inEmptyDir(t);
  const help = cli(['backup', '--help'], dir);
  assert.equal(help.status, 0);
  for (const sub of ['backup create', 'backup check', 'backup restore', 'backup list', 'backup prune']) assert.match(help.stdout, new RegExp(`^  ${sub} `, 'm'));
  const bare = cli(['keys'], dir);
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /keys takes a subcommand[\s\S]*keys list/);
  assert.match(cli(['backup', '--help', '--lang', 'zh-CN'], dir).stdout, /backup 需要一个子命令/);
});
