import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDotenv } from '../../server/core/env/read';
import { lintEnv, type Finding, type LintOptions } from '../../server/core/lint';
import { generateSecret } from '../../server/core/secrets';

const AUTH = generateSecret();
const ENC = generateSecret(48);
const GOOD = `AUTH_KEY=${AUTH}\nENCRYPTION_KEY=${ENC}\n`;

const lint = (text: string, options: Partial<LintOptions> = {}) => lintEnv(text, { lang: 'en', ignoredByGit: 'ignored', ...options });
const codes = (findings: Finding[]) => findings.map((f) => `${f.code}:${f.severity}`);
const only = (findings: Finding[], code: string) => findings.filter((f) => f.code === code);

/** No message or data may contain a secret; `secrets` are the values written in the cases. */
function assertNoSecret(findings: Finding[], secrets: string[]): void {
  for (const f of findings) {
    const shown = f.message + JSON.stringify(f.data ?? {});
    for (const s of secrets) assert.ok(!shown.includes(s), `${f.code} shows ${s}: ${shown}`);
  }
}

test('a good .env gives no finding', () => {
  assert.deepEqual(lint(GOOD), []);
  assert.deepEqual(lint(`# GPT-Load\nPORT=3001\nexport AUTH_KEY='${AUTH}'\nENCRYPTION_KEY: "${ENC}" # kept in the vault\nDATABASE_DSN=\n`), []);
});

test('missing or empty AUTH_KEY / ENCRYPTION_KEY are errors, with the fix to offer', () => {
  const none = lint('PORT=3001\n');
  assert.deepEqual(codes(none), ['auth-key-missing:error', 'encryption-key-missing:error']);
  assert.deepEqual(none[0].data, { key: 'AUTH_KEY', fix: 'generate' });
  assert.deepEqual(none[1].data, { key: 'ENCRYPTION_KEY', fix: 'migrate-keys' });
  assert.match(none[1].message, /sensitive data will be stored in plain text/);
  const empty = lint('AUTH_KEY=\nENCRYPTION_KEY=\n');
  assert.deepEqual(codes(empty), ['auth-key-missing:error', 'encryption-key-missing:error']);
  assert.deepEqual(empty[1].range.start, { line: 1, character: 0 }, 'on the empty assignment');
});

test("GPT-Load's strength rules map high → error, medium → warning, on the value's range", () => {
  const findings = lint(`AUTH_KEY=Admin12345\nENCRYPTION_KEY=${ENC}\n`);
  assert.deepEqual(codes(findings), ['secret-too-short:error', 'secret-weak-pattern:error']);
  assert.deepEqual(findings[0].range, { start: { line: 0, character: 9 }, end: { line: 0, character: 19 } });
  assert.deepEqual(findings[0].data, { key: 'AUTH_KEY', fix: 'generate', length: 10 });
  assert.deepEqual(findings[1].data, { key: 'AUTH_KEY', fix: 'generate', pattern: 'admin' });
  const medium = lint(`AUTH_KEY=${AUTH}\nENCRYPTION_KEY=zqxjvwmbfhgnrplzqxj\n`);
  assert.deepEqual(codes(medium), ['secret-short:warning', 'secret-low-complexity:warning']);
  assert.equal(medium[0].data?.fix, 'migrate-keys');
  assertNoSecret([...findings, ...medium], ['Admin12345', 'zqxjvwmbfhgnrplzqxj']);
});

test('placeholders from the docs are errors for GPT-Load secrets, warnings for other secrets', () => {
  const findings = lint(`AUTH_KEY=sk-123456\nENCRYPTION_KEY=your-32-char-secret-key\nOPENAI_API_KEY=your-api-key\nPORT=changeme\n`);
  assert.deepEqual(codes(findings), ['secret-placeholder:error', 'secret-placeholder:error', 'secret-placeholder:warning']);
  assertNoSecret(findings, ['sk-123456', 'your-32-char-secret-key', 'your-api-key']);
});

test('AUTH_KEY equal to ENCRYPTION_KEY is secret-reused', () => {
  const findings = lint(`AUTH_KEY=${AUTH}\nENCRYPTION_KEY=${AUTH}\n`);
  assert.deepEqual(codes(findings), ['secret-reused:error']);
  assert.deepEqual(findings[0].data, { key: 'AUTH_KEY', fix: 'generate' });
  assertNoSecret(findings, [AUTH]);
});

test('secret-expands: godotenv eats "$…" inside a secret; the message shows what GPT-Load reads, masked', () => {
  const written = 'sk-Ab$9XyzQ7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5';
  const findings = lint(`AUTH_KEY=${written}\nENCRYPTION_KEY=${ENC}\n`);
  const f = only(findings, 'secret-expands');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.deepEqual(f[0].data, { key: 'AUTH_KEY', fix: 'quote' });
  assert.match(f[0].message, /reads sk-A…\(34\)…1Fg5, 34 bytes/);
  assertNoSecret(findings, [written, 'sk-Abyz']);
  assert.deepEqual(only(findings, 'compose-disagrees'), [], 'one finding for one cause');

  assert.deepEqual(only(lint(`AUTH_KEY='${written}'\nENCRYPTION_KEY=${ENC}\n`), 'secret-expands'), [], 'single quotes protect');
  // `\$` is godotenv's escape for a literal "$": intended, but Compose keeps the backslash (unquoted).
  assert.deepEqual(codes(lint(`AUTH_KEY=${AUTH}\\$x\nENCRYPTION_KEY=${ENC}\n`)), ['compose-disagrees:warning']);
  assert.deepEqual(lint(`AUTH_KEY="${AUTH}\\$x"\nENCRYPTION_KEY=${ENC}\n`), []);
  const other = lint(`${GOOD}SMTP_PASSWORD=pa$Sword\n`);
  assert.deepEqual(codes(other), ['secret-expands:warning']);
  const deliberate = lint(`${GOOD}BASE_TOKEN=${AUTH}\nCLIENT_TOKEN=\${BASE_TOKEN}\n`);
  assert.deepEqual(codes(deliberate), ['secret-expands:information']);
  assert.match(deliberate[0].message, /\$BASE_TOKEN/);
  assertNoSecret([...other, ...deliberate], ['pa$Sword', AUTH]);
});

test('undefined-variable: godotenv never reads the process environment', () => {
  const findings = lint(`${GOOD}DATA_DIR=$HOME/data\nA=1\nB=$A\n`);
  assert.deepEqual(codes(findings), ['undefined-variable:warning']);
  assert.deepEqual(findings[0].data, { key: 'DATA_DIR', variable: 'HOME', fix: 'quote' });
  assert.deepEqual(findings[0].range.start, { line: 2, character: 9 });
});

test('duplicate-key on each earlier assignment, naming the line that wins', () => {
  const findings = lint(`AUTH_KEY=${AUTH}\nENCRYPTION_KEY=\nPORT=1\nENCRYPTION_KEY=${ENC}\nPORT=2\n`);
  assert.deepEqual(codes(findings), ['duplicate-key:warning', 'duplicate-key:warning']);
  assert.deepEqual(findings[0].data, { key: 'ENCRYPTION_KEY', winnerLine: 3, fix: 'remove-duplicate' });
  assert.deepEqual(findings[0].range.start, { line: 1, character: 0 });
  assert.match(findings[0].message, /line 4/);
});

test('env-syntax: one error at the position godotenv stops; no "missing" noise on a refused file', () => {
  const findings = lint(`AUTH_KEY=${AUTH}\nENCRYPTION_KEY=${ENC}\nGPT-LOAD-MODE=1\n`);
  assert.deepEqual(codes(findings), ['env-syntax:error']);
  assert.deepEqual(findings[0].range, { start: { line: 2, character: 3 }, end: { line: 2, character: 4 } });
  assert.match(findings[0].message, /ignores the whole \.env/);
  const bare = lint(`AUTH_KEY=x${AUTH}\n${ENC}\n`);
  assert.deepEqual(codes(bare), ['env-syntax:error']);
  assertNoSecret(bare, [ENC]);
  const early = lint('AUTH_KEY=Admin12345\nbroken line\n');
  assert.deepEqual(codes(early), ['secret-too-short:error', 'secret-weak-pattern:error', 'env-syntax:error'], 'values before the error are still judged');
});

test('env-bom: a BOM refuses the file; one finding with its fix', () => {
  const findings = lint(`\uFEFF${GOOD}`);
  assert.deepEqual(codes(findings), ['env-bom:error']);
  assert.deepEqual(findings[0].data, { fix: 'remove-bom' });
});

test('env-not-ignored from the git check', () => {
  assert.deepEqual(codes(lint(GOOD, { ignoredByGit: 'tracked' })), ['env-not-ignored:error']);
  assert.deepEqual(lint(GOOD, { ignoredByGit: 'tracked' })[0].data, { fix: 'untrack' });
  assert.deepEqual(codes(lint(GOOD, { ignoredByGit: 'not-ignored' })), ['env-not-ignored:warning']);
  assert.deepEqual(lint(GOOD, { ignoredByGit: 'no-repo' }), []);
  assert.deepEqual(lint(GOOD, { ignoredByGit: undefined }), []);
});

test('compose-disagrees where Docker Compose reads another value', () => {
  const cases: Array<[string, string]> = [
    ['LOG_FILE_PATH=./data/app.log #one #two', 'first " #" vs last'],
    ['NOTE=a\t#tab comment', 'Compose only cuts at a space'],
    ['GREETING="a\\tb"', 'escapes in double quotes'],
    ["QUOTE='it\\'s'", "\\' in single quotes"],
    ['PORT=${PORT_OVERRIDE:-3001}', 'defaults'],
    ['A=1\nPRICE=$$A', '$$'],
    ['A=1\nLOWER=x${a}y', 'lowercase names'],
    ['BROKEN=${1}', 'Compose refuses the template'],
  ];
  for (const [extra, why] of cases) {
    const findings = lint(`${GOOD}${extra}\n`);
    assert.deepEqual(codes(findings.filter((f) => f.code !== 'undefined-variable')), ['compose-disagrees:warning'], why);
  }
  for (const same of ["A='x y'", 'A="x y"', 'A=x # c', 'A=1\nB=${A}', 'A=1\nB="$A z"', 'URL=http://h:1/p?x=1#frag']) {
    assert.deepEqual(lint(`${GOOD}${same}\n`), [], same);
  }
});

test('messages come in Simplified Chinese with lang zh-CN', () => {
  const zh = lint('PORT=1\nA=1\nA=2\n', { lang: 'zh-CN', ignoredByGit: 'not-ignored' });
  assert.ok(zh.length >= 4);
  for (const f of zh) assert.match(f.message, /[\u4e00-\u9fff]/, f.code);
  const strength = lint(`AUTH_KEY=Admin12345\nENCRYPTION_KEY=${ENC}\n`, { lang: 'zh-CN' });
  assert.equal(strength[0].message, 'AUTH_KEY长度不足（10字符），建议至少16字符');
});

test('findings come in document order', () => {
  const findings = lint('A=1\nA=2\nAUTH_KEY=short\n', { ignoredByGit: 'not-ignored' });
  const starts = findings.map((f) => f.range.start.line * 1000 + f.range.start.character);
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
});

test('lintEnv given the parsed document finds what it finds from the text alone', () => {
  const texts = [GOOD, 'PORT=3001\n', `AUTH_KEY=${AUTH}\nAUTH_KEY=x$Y\nENCRYPTION_KEY="${ENC}\\\\"\nA=$B # c\n`, 'A=1\nbad line\n', '\uFEFFA=1\n'];
  for (const text of texts) {
    for (const ignoredByGit of ['tracked', 'not-ignored', 'ignored', undefined] as const) {
      const options: LintOptions = { lang: 'en', ignoredByGit };
      assert.deepEqual(lintEnv(text, options, parseDotenv(text)), lintEnv(text, options));
    }
  }
});
