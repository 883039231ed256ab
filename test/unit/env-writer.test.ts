import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDotenv } from '../../server/core/env/read';
import { quoteForDotenv, removeEnvKey, setEnvValue, updateEnvFile } from '../../server/core/env/write';
import { writeFileAtomic } from '../../server/core/fs';
import { KeystoreError } from '../../server/core/errors';

const read = (text: string, key: string) => parseDotenv(text).values?.[key];
const isCode = (code: string) => (e: unknown) => e instanceof KeystoreError && e.code === code;

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'glk-writer-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SAMPLE = [
  '# ==== SECURITY ====',
  '# Authentication key',
  'export AUTH_KEY = old-value   # rotate me',
  '',
  'ENCRYPTION_KEY=',
  'PORT=3001',
  "NOTE='multi",
  "line'",
  '',
].join('\n');

test('replacing a value keeps every other byte: export, spacing, comments, other lines', () => {
  const out = setEnvValue(SAMPLE, 'AUTH_KEY', 'Q7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5Js0Ya');
  assert.equal(out, SAMPLE.replace('old-value', 'Q7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5Js0Ya'));
  assert.equal(read(out, 'AUTH_KEY'), 'Q7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5Js0Ya');
  const filled = setEnvValue(SAMPLE, 'ENCRYPTION_KEY', 'abc');
  assert.equal(filled, SAMPLE.replace('ENCRYPTION_KEY=\n', 'ENCRYPTION_KEY=abc\n'));
  assert.equal(setEnvValue(SAMPLE, 'PORT', '3001'), SAMPLE, 'setting the same value is a no-op');
});

test('appending adds KEY=value on its own line, adding the missing final newline first', () => {
  assert.equal(setEnvValue('', 'AUTH_KEY', 'x'), 'AUTH_KEY=x\n');
  assert.equal(setEnvValue('A=1\n', 'B', '2'), 'A=1\nB=2\n');
  assert.equal(setEnvValue('A=1', 'B', '2'), 'A=1\nB=2\n');
  assert.equal(setEnvValue('# only a comment', 'B', '2'), '# only a comment\nB=2\n');
});

test('CRLF files stay CRLF, including appended lines and multi-line values', () => {
  const crlf = SAMPLE.replace(/\n/g, '\r\n');
  const out = setEnvValue(crlf, 'AUTH_KEY', 'new');
  assert.equal(out, crlf.replace('old-value', 'new'));
  const appended = setEnvValue(crlf, 'REDIS_DSN', 'redis://redis:6379/0');
  assert.equal(appended, crlf + 'REDIS_DSN=redis://redis:6379/0\r\n');
  assert.doesNotMatch(appended.replace(/\r\n/g, ''), /\n/);
  const multi = setEnvValue(crlf, 'NOTE', 'one');
  assert.equal(multi, crlf.replace("'multi\r\nline'", 'one'));
});

test('duplicates collapse: the last assignment is replaced in place, earlier ones removed', () => {
  const text = 'AUTH_KEY=a\nENCRYPTION_KEY=\nPORT=1 # port\nENCRYPTION_KEY=old # appended by echo\n';
  const out = setEnvValue(text, 'ENCRYPTION_KEY', 'new-key');
  assert.equal(out, 'AUTH_KEY=a\nPORT=1 # port\nENCRYPTION_KEY=new-key # appended by echo\n');
  const crlf = setEnvValue(text.replace(/\n/g, '\r\n'), 'ENCRYPTION_KEY', 'new-key');
  assert.equal(crlf, out.replace(/\n/g, '\r\n'));
  // An earlier duplicate shares its line with another statement: only the assignment goes.
  assert.equal(setEnvValue("K='a' B=2\nK=b\n", 'K', 'c'), 'B=2\nK=c\n');
});

test('an earlier duplicate that a value between expands is kept (removing it would change that value)', () => {
  const text = 'A=1\nB=$A\nA=2\n';
  const out = setEnvValue(text, 'A', '3');
  assert.equal(out, 'A=1\nB=$A\nA=3\n');
  assert.deepEqual(parseDotenv(out).values, { A: '3', B: '1' });
});

test('values with $, #, spaces, quotes, backslashes and newlines are quoted so godotenv reads them exactly', () => {
  const cases: Array<[string, string]> = [
    ['plain-Value_1.2', 'plain-Value_1.2'],
    ['', ''],
    ['sk-Ab$9Xyz', "'sk-Ab$9Xyz'"],
    ['a #b', "'a #b'"],
    ['a#b', "'a#b'"],
    ['two words', "'two words'"],
    [' lead', "' lead'"],
    ['say "hi"', `'say "hi"'`],
    ['back`tick', "'back`tick'"],
    ['back\\slash', "'back\\slash'"],
    ["it's", `"it's"`],
    ["it's $5", `"it's \\$5"`],
    ['line1\nline2', '"line1\\nline2"'],
    ['cr\r\nlf', '"cr\\r\\nlf"'],
    ['ends\\', '"ends\\""'],
    ["'\\", `"'\\""`],
    ['\\', '"\\""'],
    ['"', `'"'`],
    ["'", `"'"`],
  ];
  for (const [value, spelled] of cases) {
    assert.equal(quoteForDotenv(value), spelled, JSON.stringify(value));
    const written = setEnvValue('A=1\n', 'K', value);
    assert.equal(read(written, 'K'), value, JSON.stringify(value));
    assert.equal(read(written, 'A'), '1');
    assert.equal(read(setEnvValue('K=old # note # more\nA=1\n', 'K', value), 'K'), value, `${JSON.stringify(value)} before a comment`);
  }
});

test('random values round-trip through setEnvValue, in place and appended, LF and CRLF', () => {
  const pool = ['a', 'Z', '0', ' ', '\t', '#', '$', '{', '}', '(', "'", '"', '`', '\\', '\n', '\r', '=', ':', 'n', 'r', 'é', '中', '😀', 'A', '_'];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 400; i++) {
    let value = '';
    const len = next() % 12;
    for (let j = 0; j < len; j++) value += pool[next() % pool.length];
    for (const base of ['X=1\nK=old # c\nY=$X\n', 'X=1\r\nY=2\r\n', "K='a' Z=3\n"]) {
      const out = setEnvValue(base, 'K', value);
      const doc = parseDotenv(out);
      assert.equal(doc.values?.K, value, `${JSON.stringify(value)} in ${JSON.stringify(base)}`);
      for (const other of ['X', 'Y', 'Z']) assert.equal(doc.values?.[other], parseDotenv(base).values?.[other]);
    }
  }
});

test('after a quoted value with a statement behind it, a bare value is not allowed to swallow it', () => {
  const out = setEnvValue("A='x' B=y\n", 'A', 'plain');
  assert.deepEqual(parseDotenv(out).values, { A: 'plain', B: 'y' });
  const out2 = setEnvValue("A='x'#c\n", 'A', 'plain');
  assert.deepEqual(parseDotenv(out2).values, { A: 'plain' });
});

test('removeEnvKey removes every assignment of the key and nothing else', () => {
  const text = 'A=1\nK=x # one\n  export K="y\nz"\nB=2\nC=\'c\' K=3\n';
  const out = removeEnvKey(text, 'K');
  assert.equal(out, 'A=1\nB=2\nC=\'c\'\n');
  assert.equal(removeEnvKey(text.replace(/\n/g, '\r\n'), 'K'), out.replace(/\n/g, '\r\n'));
  assert.equal(removeEnvKey('A=1', 'K'), 'A=1');
  assert.equal(removeEnvKey('K=1', 'K'), '');
  assert.equal(removeEnvKey("K='a' K='b'\nA=1\n", 'K'), '\nA=1\n', 'two on one line');
  assert.equal(setEnvValue("K='a' K='b'\nK=c\n", 'K', 'd'), '\nK=d\n');
});

test('the writer refuses bad keys, unparsable files and values no spelling can carry', () => {
  assert.throws(() => setEnvValue('', 'MY-KEY', 'x'), isCode('usage'));
  assert.throws(() => setEnvValue('', '', 'x'), isCode('usage'));
  assert.throws(() => setEnvValue('', '1ABC', 'x'), isCode('usage'));
  assert.throws(() => setEnvValue('bad line\n', 'K', 'x'), isCode('env-parse'));
  assert.throws(() => removeEnvKey('\uFEFFK=1', 'K'), isCode('env-parse'));
  assert.throws(() => setEnvValue('', 'K', 'lone \ud800 surrogate'), isCode('usage'));
  assert.throws(() => quoteForDotenv('\udc00'), isCode('usage'));
});

test('writeFileAtomic: keeps the mode of an existing file, new files get 0600, symlinks are followed, no temp files left', () => {
  withDir((dir) => {
    const path = join(dir, '.env');
    writeFileSync(path, 'A=1\n');
    chmodSync(path, 0o640);
    writeFileAtomic(path, 'A=2\n');
    assert.equal(readFileSync(path, 'utf8'), 'A=2\n');
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o640);

    const fresh = join(dir, 'new.env');
    writeFileAtomic(fresh, 'B=1\n');
    if (process.platform !== 'win32') assert.equal(statSync(fresh).mode & 0o777, 0o600);

    if (process.platform !== 'win32') {
      const link = join(dir, 'link.env');
      symlinkSync(path, link);
      writeFileAtomic(link, 'A=3\n');
      assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
      assert.equal(readFileSync(path, 'utf8'), 'A=3\n');
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    assert.throws(() => writeFileAtomic(join(dir, 'missing-dir', '.env'), 'x'), isCode('io'));
  });
});

test('updateEnvFile sets, removes and creates; refuses a file godotenv cannot parse, leaving it untouched', () => {
  withDir((dir) => {
    const path = join(dir, '.env');
    updateEnvFile(path, 'AUTH_KEY', 'first');
    assert.equal(readFileSync(path, 'utf8'), 'AUTH_KEY=first\n');
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    writeFileSync(path, '# c\r\nAUTH_KEY=first\r\nPORT=3001\r\n');
    updateEnvFile(path, 'AUTH_KEY', 'has $dollar');
    assert.equal(readFileSync(path, 'utf8'), "# c\r\nAUTH_KEY='has $dollar'\r\nPORT=3001\r\n");
    updateEnvFile(path, 'AUTH_KEY', null);
    assert.equal(readFileSync(path, 'utf8'), '# c\r\nPORT=3001\r\n');

    const broken = 'AUTH_KEY=x\nnot valid\n';
    writeFileSync(path, broken);
    assert.throws(() => updateEnvFile(path, 'AUTH_KEY', 'y'), isCode('env-parse'));
    assert.equal(readFileSync(path, 'utf8'), broken);

    const absent = join(dir, 'absent.env');
    updateEnvFile(absent, 'K', null);
    assert.equal(existsSync(absent), false, 'removing from a missing file creates nothing');
  });
});

test('KeystoreErrors from the writer never quote the value', () => {
  try {
    setEnvValue('garbage line sk-SECRET-VALUE\n', 'K', 'x');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof KeystoreError);
    assert.doesNotMatch(e.text.en + e.text.zh, /SECRET-VALUE/);
  }
});
