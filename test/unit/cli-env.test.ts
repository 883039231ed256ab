import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assessSecret, SAFE_SECRET_ALPHABET } from '../../server/core/secrets';
import { REPO_ROOT, fixturePath } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function inTempDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'glk-cli-env-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hasGit = spawnSync('git', ['--version']).status === 0;
const STRONG = 'Q7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5Js0Ya';
const STRONG2 = 'Ur5Nc8Wq2Ez7Mt4Kb1Vy6Hg9Pd3Sx0Lj';

test('the CLI is built (npm test builds it first)', () => {
  assert.ok(existsSync(CLI), `${CLI} missing: run npm run build`);
});

test('parse-env prints the map of every godotenv fixture, or {"error"} with exit 1', () => {
  const dir = fixturePath('vectors', 'godotenv');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.env'))) {
    const expected = JSON.parse(readFileSync(join(dir, name.replace(/\.env$/, '.expected.json')), 'utf8'));
    const r = cli(['parse-env', name], dir);
    if ('__error__' in expected) {
      assert.equal(r.status, 1, name);
      assert.deepEqual(JSON.parse(r.stdout), { error: expected.__error__ }, name);
      assert.match(r.stderr, /line 1, column 13/);
    } else {
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout), expected, name);
      assert.deepEqual(Object.keys(JSON.parse(r.stdout)), Object.keys(expected).sort(), 'keys sorted');
    }
  }
});

test('parse-env: --mask, missing file, usage errors, --help', () => {
  inTempDir((dir) => {
    writeFileSync(join(dir, '.env'), `AUTH_KEY=${STRONG}\nPORT=3001\n`);
    const masked = cli(['parse-env', '.env', '--mask'], dir);
    assert.equal(masked.status, 0);
    assert.deepEqual(JSON.parse(masked.stdout), { AUTH_KEY: 'Q7vK…(32)…s0Ya', PORT: '…(4)…' });
    assert.equal(cli(['parse-env', 'absent.env'], dir).status, 3);
    assert.equal(cli(['parse-env'], dir).status, 2);
    assert.equal(cli(['parse-env', 'a', 'b'], dir).status, 2);
    assert.equal(cli(['parse-env', '.env', '--bogus'], dir).status, 2);
    const help = cli(['parse-env', '--help'], dir);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: gpt-load-keystore parse-env FILE/);
    assert.match(help.stdout, /Exit codes/);
  });
});

test('generate-auth-key: one per line, --count, --length, bad flags', () => {
  inTempDir((dir) => {
    const one = cli(['generate-auth-key'], dir);
    assert.equal(one.status, 0);
    const lines = one.stdout.split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '');
    assert.equal(lines[0].length, 32);
    assert.deepEqual(assessSecret(lines[0], 'AUTH_KEY'), []);

    const many = cli(['generate-auth-key', '--count', '5', '--length', '48'], dir);
    assert.equal(many.status, 0);
    const keys = many.stdout.trim().split('\n');
    assert.equal(keys.length, 5);
    assert.equal(new Set(keys).size, 5);
    for (const k of keys) {
      assert.equal(k.length, 48);
      assert.ok([...k].every((c) => SAFE_SECRET_ALPHABET.includes(c)));
    }
    const short = cli(['generate-auth-key', '--length', '16'], dir);
    assert.equal(short.status, 0);
    assert.equal(short.stdout.trim().length, 16);
    assert.match(short.stderr, /short/);

    for (const bad of [['--length', '15'], ['--length', 'abc'], ['--length', '1025'], ['--count', '0'], ['--count', '1001'], ['--count', '2.5'], ['--nope'], ['extra']]) {
      const r = cli(['generate-auth-key', ...bad], dir);
      assert.equal(r.status, 2, bad.join(' '));
      assert.equal(r.stdout, '', 'nothing printed on a usage error');
    }
    assert.match(cli(['generate-auth-key', '--help'], dir).stdout, /--length N/);
  });
});

test('lint: text and JSON output, exit codes, default ./.env, no secret in the output', () => {
  inTempDir((dir) => {
    writeFileSync(join(dir, '.env'), `AUTH_KEY=${STRONG}\nENCRYPTION_KEY=${STRONG2}\n`);
    const clean = cli(['lint'], dir);
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '');

    writeFileSync(join(dir, 'weak.env'), `PORT=1\nPORT=2\nAUTH_KEY=Admin12345\n`);
    const text = cli(['lint', 'weak.env'], dir);
    assert.equal(text.status, 1);
    const lines = text.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 3).join(' ')),
      [
        'weak.env:1:1 error encryption-key-missing',
        'weak.env:1:1 warning duplicate-key',
        'weak.env:3:10 error secret-too-short',
        'weak.env:3:10 error secret-weak-pattern',
      ],
    );
    assert.doesNotMatch(text.stdout, /Admin12345/);

    const json = cli(['lint', 'weak.env', '.env', '--format', 'json'], dir);
    assert.equal(json.status, 1);
    const findings = JSON.parse(json.stdout);
    assert.equal(findings.length, 4);
    assert.deepEqual(Object.keys(findings[0]).sort(), ['code', 'data', 'file', 'message', 'range', 'severity']);
    assert.deepEqual(findings[2], {
      file: 'weak.env',
      code: 'secret-too-short',
      severity: 'error',
      message: 'AUTH_KEY is too short (10 characters), recommend at least 16 characters',
      range: { start: { line: 2, character: 9 }, end: { line: 2, character: 19 } },
      data: { key: 'AUTH_KEY', fix: 'generate', length: 10 },
    });

    writeFileSync(join(dir, 'warn.env'), `AUTH_KEY=${STRONG}\nENCRYPTION_KEY=${STRONG2}\nA=1\nA=2\n`);
    const warnOnly = cli(['lint', 'warn.env'], dir);
    assert.equal(warnOnly.status, 0, 'warnings alone exit 0');
    assert.match(warnOnly.stdout, /warning duplicate-key/);

    writeFileSync(join(dir, 'broken.env'), `AUTH_KEY=${STRONG}\n${STRONG2}\n`);
    const broken = cli(['lint', 'broken.env', '--format', 'json'], dir);
    assert.equal(broken.status, 1);
    assert.deepEqual(JSON.parse(broken.stdout).map((f: { code: string }) => f.code), ['env-syntax']);
    assert.doesNotMatch(broken.stdout, new RegExp(STRONG2));

    const zh = cli(['lint', 'weak.env', '--lang', 'zh-CN'], dir);
    assert.equal(zh.status, 1);
    assert.match(zh.stdout, /AUTH_KEY长度不足（10字符），建议至少16字符/);
    const zhEnv = cli(['lint', 'weak.env'], dir, { LANG: 'zh_CN.UTF-8' });
    assert.match(zhEnv.stdout, /长度不足/);

    assert.equal(cli(['lint', 'absent.env'], dir).status, 3);
    assert.equal(cli(['lint', '--format', 'xml'], dir).status, 2);
    assert.equal(cli(['lint', '--lang', 'fr'], dir).status, 2);
    assert.match(cli(['lint', '--help'], dir).stdout, /Exit codes: 0/);
  });
});

test('lint asks git whether .env is tracked or ignored', { skip: hasGit ? false : 'git is not installed' }, () => {
  inTempDir((dir) => {
    const git = (...args: string[]) => assert.equal(spawnSync('git', args, { cwd: dir }).status, 0, `git ${args.join(' ')}`);
    writeFileSync(join(dir, '.env'), `AUTH_KEY=${STRONG}\nENCRYPTION_KEY=${STRONG2}\n`);
    assert.equal(cli(['lint'], dir).stdout, '', 'outside a repository: no git finding');
    git('init', '-q');
    const notIgnored = cli(['lint', '--format', 'json'], dir);
    assert.equal(notIgnored.status, 0);
    assert.deepEqual(JSON.parse(notIgnored.stdout).map((f: { code: string; severity: string }) => `${f.code}:${f.severity}`), ['env-not-ignored:warning']);
    writeFileSync(join(dir, '.gitignore'), '.env\n');
    assert.equal(cli(['lint'], dir).stdout, '');
    git('add', '-f', '.env');
    const tracked = cli(['lint'], dir);
    assert.equal(tracked.status, 1);
    assert.match(tracked.stdout, /^\.env:1:1 error env-not-ignored /);
  });
});
