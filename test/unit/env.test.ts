import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEnvParseError, goQuote, loadEnv, parseDotenv, writtenValue, type EnvEntry } from '../../server/core/env/read';
import { fixturePath } from '../support/paths';

const values = (text: string) => parseDotenv(text).values;
const entry = (text: string, key: string): EnvEntry => parseDotenv(text).entries.filter((e) => e.key === key).pop()!;
const errorOf = (text: string) => parseDotenv(text).error;

test('every godotenv fixture gives exactly the expected map, or the same refusal', () => {
  const dir = fixturePath('vectors', 'godotenv');
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.env'));
  assert.ok(fixtures.length >= 7);
  for (const name of fixtures) {
    const expected = JSON.parse(readFileSync(join(dir, name.replace(/\.env$/, '.expected.json')), 'utf8'));
    const doc = parseDotenv(readFileSync(join(dir, name), 'utf8'));
    if ('__error__' in expected) {
      assert.equal(doc.values, null, name);
      assert.equal(doc.error?.message, expected.__error__, name);
    } else {
      assert.equal(doc.error, null, name);
      assert.deepEqual(doc.values, expected, name);
    }
  }
});

test("godotenv's own parsing cases (TestParsing, TestExpanding of v1.5.1)", () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['FOO=bar', { FOO: 'bar' }],
    ['FOO =bar', { FOO: 'bar' }],
    ['FOO= bar', { FOO: 'bar' }],
    ['FOO="bar"', { FOO: 'bar' }],
    ["FOO='bar'", { FOO: 'bar' }],
    ['FOO="escaped\\"bar"', { FOO: 'escaped"bar' }],
    [`FOO="'d'"`, { FOO: "'d'" }],
    ['OPTION_A: 1', { OPTION_A: '1' }],
    ['OPTION_A: Foo=bar', { OPTION_A: 'Foo=bar' }],
    ['OPTION_A=1:B', { OPTION_A: '1:B' }],
    ['export OPTION_A=2', { OPTION_A: '2' }],
    ["export OPTION_B='\\n'", { OPTION_B: '\\n' }],
    ['export exportFoo=2', { exportFoo: '2' }],
    ['exportFOO=2', { exportFOO: '2' }],
    ['export_FOO =2', { export_FOO: '2' }],
    ['export.FOO= 2', { 'export.FOO': '2' }],
    ['export\tOPTION_A=2', { OPTION_A: '2' }],
    ['  export OPTION_A=2', { OPTION_A: '2' }],
    ['\texport OPTION_A=2', { OPTION_A: '2' }],
    ['FOO="bar\\nbaz"', { FOO: 'bar\nbaz' }],
    ['FOO.BAR=foobar', { 'FOO.BAR': 'foobar' }],
    ['FOO=foobar=', { FOO: 'foobar=' }],
    ['FOO=bar ', { FOO: 'bar' }],
    ['KEY=value value', { KEY: 'value value' }],
    ['FOO=bar # this is foo', { FOO: 'bar' }],
    ['FOO="bar#baz" # comment', { FOO: 'bar#baz' }],
    ["FOO='bar#baz' # comment", { FOO: 'bar#baz' }],
    ['FOO="bar#baz#bang" # comment', { FOO: 'bar#baz#bang' }],
    ['FOO="ba#r"', { FOO: 'ba#r' }],
    ["FOO='ba#r'", { FOO: 'ba#r' }],
    ['FOO="bar\\n\\ b\\az"', { FOO: 'bar\n baz' }],
    ['FOO="bar\\\\\\n\\ b\\az"', { FOO: 'bar\\\n baz' }],
    ['FOO="bar\\\\r\\ b\\az"', { FOO: 'bar\\r baz' }],
    ['="value"', { '': 'value' }],
    [' KEY =value', { KEY: 'value' }],
    ['   KEY=value', { KEY: 'value' }],
    ['\tKEY=value', { KEY: 'value' }],
    ['TEST_URLS="stratum+tcp://a:3333\nstratum+tcp://b:443"', { TEST_URLS: 'stratum+tcp://a:3333\nstratum+tcp://b:443' }],
    ['FOO=test\nBAR=$FOO', { FOO: 'test', BAR: 'test' }],
    ['FOO=test\nBAR=${FOO}bar', { FOO: 'test', BAR: 'testbar' }],
    ['BAR=$FOO', { BAR: '' }],
    ['FOO=test\nBAR="quote $FOO"', { FOO: 'test', BAR: 'quote test' }],
    ["BAR='quote $FOO'", { BAR: 'quote $FOO' }],
    ['FOO="foo\\$BAR"', { FOO: 'foo$BAR' }],
    ['FOO="foo\\${BAR}"', { FOO: 'foo${BAR}' }],
    ['FOO=test\nBAR="foo\\${FOO} ${FOO}"', { FOO: 'test', BAR: 'foo${FOO} test' }],
    ['\n', {}],
    ['\r\n', {}],
    ['\t\t ', {}],
    ['# Comment', {}],
    ['\t # comment', {}],
  ];
  for (const [text, expected] of cases) assert.deepEqual(values(text), expected, JSON.stringify(text));
  assert.equal(values('lol$wut'), null);
});

test('trap: any parse error drops the whole file (entries before it are still reported)', () => {
  const doc = parseDotenv('AUTH_KEY=abc\nthis line has no equals sign\nPORT=3001\n');
  assert.equal(doc.values, null);
  assert.deepEqual(
    doc.entries.map((e) => e.key),
    ['AUTH_KEY'],
  );
  assert.equal(doc.error?.message, 'unexpected character "\\n" in variable name near "this line has no equals sign\\nPORT=3001\\n"');
  assert.deepEqual(doc.error?.position, { line: 1, character: 28 });
  assert.equal(doc.error?.kind, 'unexpected-character');
});

test('trap: $NAME / ${NAME} expand from earlier keys of the same file only; only single quotes protect', () => {
  assert.equal(values('AUTH_KEY=sk-Ab$9Xyz')!.AUTH_KEY, 'sk-Abyz');
  assert.equal(values('A=$B\nB=1')!.A, '', 'later keys are not seen');
  assert.equal(values('A=1\nA=$A$A\n')!.A, '11', 'a key sees its own earlier value');
  assert.equal(values('A=1\nB="x$A"')!.B, 'x1');
  assert.equal(values("A=1\nB='x$A'")!.B, 'x$A');
  assert.equal(values('A=1\nB=`$A`')!.B, '`1`', 'backticks are not quotes');
  const e = entry('A=1\nB=${A}-$C', 'B');
  assert.equal(e.expanded, true);
  assert.deepEqual(e.references, ['A', 'C']);
  assert.equal(entry('B=plain', 'B').expanded, false);
  assert.equal(entry("B='$A'", 'B').expanded, false);
});

test('expansion quirks of v1.5.1: escapes, lowercase names, bare $, braces, $(…)', () => {
  const v = values('A=1\nB="$A|\\$A|${A}|$(A)|$a|${a}|$|$$A|${A:-x}|$A}|${A"\nC=\\$A\\x\n')!;
  assert.equal(v.B, '1|$A|1|1)|$a|${a}|$|$1|1:-x}|1|1');
  assert.equal(v.C, '$A\\x', 'unquoted: only \\$ loses its backslash');
  assert.equal(entry('C=\\$A', 'C').expanded, true);
  assert.deepEqual(entry('C=\\$A', 'C').references, []);
  // Names are [A-Z0-9_]+: digits count, hyphens end the name.
  assert.equal(values('1=x\nP=a$1b$X-Y')!.P, 'axb-Y');
});

test('process environment never feeds expansion (parse), but wins over the file (load)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glk-env-'));
  try {
    const path = join(dir, '.env');
    writeFileSync(path, 'HOME_DIR=$HOME/x\nAUTH_KEY=from-file\nPORT=3001\nEMPTY_IN_PROCESS=file\n');
    const env = loadEnv(path, { HOME: '/root', AUTH_KEY: 'from-process', EMPTY_IN_PROCESS: '' });
    assert.equal(env.exists, true);
    assert.equal(env.get('HOME_DIR'), '/x');
    assert.equal(env.get('AUTH_KEY'), 'from-process');
    assert.equal(env.source('AUTH_KEY'), 'process');
    assert.equal(env.get('PORT'), '3001');
    assert.equal(env.source('PORT'), 'file');
    assert.equal(env.get('EMPTY_IN_PROCESS'), '', 'a variable set to "" still counts as set');
    assert.equal(env.get('NOPE'), undefined);
    assert.equal(env.source('NOPE'), undefined);

    writeFileSync(path, 'AUTH_KEY=x\nbroken-line=1\n');
    const broken = loadEnv(path, {});
    assert.equal(broken.doc.values, null);
    assert.equal(broken.get('AUTH_KEY'), undefined, 'a refused file contributes nothing');

    const missing = loadEnv(join(dir, 'absent.env'), { A: '1' });
    assert.equal(missing.exists, false);
    assert.equal(missing.get('A'), '1');
    assert.equal(missing.get('B'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trap: KEY= # comment is the value "# comment"; an inline comment starts at the LAST whitespace+#', () => {
  assert.equal(values('KEY= # comment')!.KEY, '# comment');
  assert.equal(values('KEY=a #b #c')!.KEY, 'a #b');
  assert.equal(values('KEY=a\t#b')!.KEY, 'a');
  assert.equal(values('KEY=a#b')!.KEY, 'a#b');
  assert.equal(values('KEY=a# b #')!.KEY, 'a# b');
  assert.equal(values('KEY=#x')!.KEY, '#x');
  assert.equal(values('KEY="a" # c')!.KEY, 'a');
});

test('trap: in double quotes only \\n and \\r are escapes, \\X becomes X; single quotes keep everything', () => {
  assert.equal(values('K="a\\tb"')!.K, 'atb');
  assert.equal(values('K="a\\\\b"')!.K, 'a\\b');
  assert.equal(values('K="a\\nb\\rc"')!.K, 'a\nb\rc');
  assert.equal(values("K='a\\nb\\tc'")!.K, 'a\\nb\\tc');
  assert.equal(values('K="a\\""')!.K, 'a\\', 'a quote after a backslash never closes; the end is trimmed of quotes');
  assert.equal(values("K='it\\'s'")!.K, "it\\'s");
  assert.equal(values('K=`a b`')!.K, '`a b`');
  assert.equal(values('K=`a #b`')!.K, '`a', 'backticks do not protect a comment');
});

test('trap: a UTF-8 BOM or a hyphen in a key name refuses the file, with godotenv\'s messages', () => {
  assert.deepEqual(errorOf('\uFEFFAUTH_KEY=x\n'), {
    message: 'unexpected character "»" in variable name near "\\ufeffAUTH_KEY=x\\n"',
    position: { line: 0, character: 0 },
    kind: 'unexpected-character',
    offending: '»',
  });
  assert.equal(errorOf('GPT-LOAD=1\n')?.message, 'unexpected character "-" in variable name near "GPT-LOAD=1\\n"');
  assert.deepEqual(errorOf('A=1\n  MY-KEY=1\n')?.position, { line: 1, character: 4 });
  assert.match(describeEnvParseError(errorOf('\uFEFFA=1')!).en, /BOM/);
  assert.doesNotMatch(describeEnvParseError(errorOf('SECRETVALUE\n')!).en, /SECRETVALUE/);
});

test('other refusals: unterminated quotes, export without a name; other quirks of key names', () => {
  assert.deepEqual(errorOf('A=1\nB="open\nC=2\n'), {
    message: 'unterminated quoted value "open',
    position: { line: 1, character: 2 },
    kind: 'unterminated-quote',
  });
  assert.equal(errorOf("K='x\\'")?.message, "unterminated quoted value 'x\\'");
  assert.equal(errorOf('A=1\nexport ')?.message, 'zero length string');
  // Key bytes are judged one by one as Latin-1: "É" (C3 89) fails on 0x89, "µ" (C2 B5) passes.
  assert.equal(errorOf('CAFÉ=1')?.message, 'unexpected character "\\u0089" in variable name near "CAFÉ=1"');
  assert.deepEqual(values('µ=1'), { µ: '1' });
  assert.deepEqual(values('A B=1'), { 'A B': '1' }, 'spaces inside a key are kept');
  assert.deepEqual(values('A=1\nTAIL'), { A: '1', '': 'TAIL' }, 'text at EOF without "=" is the value of ""');
  assert.deepEqual(values('A="x" B=y # c\nC=3'), { A: 'x', B: 'y', C: '3' }, 'after a closing quote a new statement may follow');
  assert.equal(errorOf('A="x" junk\n')?.kind, 'unexpected-character');
});

test("goQuote is Go's %q", () => {
  assert.equal(goQuote('a"b\\c\n\t\x01\x7f'), '"a\\"b\\\\c\\n\\t\\x01\\x7f"');
  assert.equal(goQuote('é中\u00a0\u00ad😀'), '"é中\\u00a0\\u00ad😀"');
});

test('trap: echo "KEY=…" >> .env after an empty KEY= leaves a duplicate; the last one wins', () => {
  const doc = parseDotenv('AUTH_KEY=a\nENCRYPTION_KEY=\nPORT=1\nENCRYPTION_KEY=your-32-char-secret-key\n');
  assert.equal(doc.values!.ENCRYPTION_KEY, 'your-32-char-secret-key');
  assert.deepEqual(
    doc.entries.filter((e) => e.key === 'ENCRYPTION_KEY').map((e) => e.range.start.line),
    [1, 3],
  );
});

test('positions of keys, values and assignments (LSP: 0-based, UTF-16)', () => {
  const text = '# head\nexport  AUTH_KEY = abc # c\nK2: "x"\n  E=\n';
  const doc = parseDotenv(text);
  const [auth, k2, e] = doc.entries;
  assert.deepEqual(auth.keyRange, { start: { line: 1, character: 8 }, end: { line: 1, character: 16 } });
  assert.deepEqual(auth.valueRange, { start: { line: 1, character: 19 }, end: { line: 1, character: 22 } });
  assert.deepEqual(auth.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 22 } });
  assert.equal(auth.exported, true);
  assert.equal(auth.rawValue, 'abc');
  assert.equal(k2.quote, '"');
  assert.equal(k2.rawValue, '"x"');
  assert.deepEqual(k2.valueRange, { start: { line: 2, character: 4 }, end: { line: 2, character: 7 } });
  assert.equal(e.value, '');
  assert.deepEqual(e.valueRange, { start: { line: 3, character: 4 }, end: { line: 3, character: 4 } });

  const astral = parseDotenv('A="😀" B=1');
  assert.deepEqual(astral.entries[1].keyRange.start, { line: 0, character: 7 }, 'an astral character counts 2');
});

test('positions of multi-line quoted values, in LF and CRLF files', () => {
  for (const eol of ['\n', '\r\n']) {
    const text = `A=1${eol}M='line 1${eol}line 2'${eol}D="x${eol}y" # c${eol}Z=9${eol}`;
    const doc = parseDotenv(text);
    assert.deepEqual(doc.values, { A: '1', M: 'line 1\nline 2', D: 'x\ny', Z: '9' }, JSON.stringify(eol));
    const [a, m, d, z] = doc.entries;
    assert.deepEqual(a.valueRange, { start: { line: 0, character: 2 }, end: { line: 0, character: 3 } });
    assert.deepEqual(m.valueRange, { start: { line: 1, character: 2 }, end: { line: 2, character: 7 } });
    assert.equal(m.rawValue, `'line 1${eol}line 2'`);
    assert.deepEqual(d.range, { start: { line: 3, character: 0 }, end: { line: 4, character: 2 } });
    assert.deepEqual(z.keyRange, { start: { line: 5, character: 0 }, end: { line: 5, character: 1 } });
  }
  const crlfError = parseDotenv('A=1\r\nbad line\r\n');
  assert.deepEqual(crlfError.error?.position, { line: 1, character: 8 }, 'the error sits before the CR');
  assert.equal(crlfError.error?.message, 'unexpected character "\\n" in variable name near "bad line\\n"');
});

test('a lone CR ends an unquoted value and is whitespace elsewhere', () => {
  assert.deepEqual(values('A=1\rB=2'), { A: '1', B: '2' });
  const doc = parseDotenv('A=1\rB=2');
  assert.deepEqual(doc.entries[1].keyRange.start, { line: 1, character: 0 });
});

test('writtenValue gives the text before expansion', () => {
  assert.equal(writtenValue(entry('K=sk-Ab$9Xyz', 'K')), 'sk-Ab$9Xyz');
  assert.equal(writtenValue(entry('K="a\\n$X"', 'K')), 'a\n$X');
  assert.equal(writtenValue(entry("K='a$X'", 'K')), 'a$X');
});

test('values: first-assignment order, the last value wins, __proto__ an own key (as Object.fromEntries gives)', () => {
  const doc = parseDotenv('B=1\nA=2\n__proto__=x\nB=3\n10=n\n');
  assert.deepEqual(Object.keys(doc.values!), ['10', 'B', 'A', '__proto__']);
  assert.equal(Object.getPrototypeOf(doc.values), Object.prototype);
  assert.ok(Object.hasOwn(doc.values!, '__proto__'));
  assert.equal(doc.values!.B, '3');
  assert.equal(doc.values, doc.values, 'one object');
  assert.equal(JSON.stringify(doc.values), '{"10":"n","B":"3","A":"2","__proto__":"x"}');
  assert.ok(JSON.stringify(doc).includes('"values":{"10":"n","B":"3","A":"2","__proto__":"x"}'), 'serialized with the document');
});

/** Small seeded generator of .env text: quotes (also over several lines), comments, export, `$`, odd spacing, non-ASCII. */
function generatedDocuments(count: number, eol: string): string[] {
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const keys = ['A', 'B_2', 'AUTH_KEY', 'a.b', 'é', 'K K', '__proto__'];
  const values = ['', 'x', ' spaced out  ', 'v # c', 'a#b', '$A', '${B_2}x', '"q"', `"multi${eol}line"`, `'one${eol}two${eol}three'`, '"esc \\" \\n"', '😀🙂', "'s' tail", '"x" NEXT=1'];
  return Array.from({ length: count }, () => {
    const lines = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
      const r = random();
      if (r < 0.1) return pick(['', '   ', '# comment', '\t# x = y']);
      return `${pick(['', ' ', 'export '])}${pick(keys)}${pick(['=', ' = ', ':', ': '])}${pick(values)}`;
    });
    return lines.join(eol) + pick([eol, '']);
  });
}

/** The offset of an LSP position, counting lines by hand (CRLF, LF or a lone CR ends one). */
function offsetOf(text: string, position: { line: number; character: number }): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    while (offset < text.length && text[offset] !== '\n' && text[offset] !== '\r') offset++;
    offset += text.startsWith('\r\n', offset) ? 2 : 1;
  }
  return offset + position.character;
}

test('positions agree with counting by hand, and a CRLF file has the positions of its LF twin', () => {
  const lf = generatedDocuments(2000, '\n');
  const crlf = generatedDocuments(2000, '\r\n');
  for (const [i, text] of [...lf, ...crlf].entries()) {
    const doc = parseDotenv(text);
    for (const e of doc.entries) {
      assert.equal(text.slice(offsetOf(text, e.keyRange.start), offsetOf(text, e.keyRange.end)), e.key, JSON.stringify(text));
      assert.equal(text.slice(offsetOf(text, e.valueRange.start), offsetOf(text, e.valueRange.end)), e.rawValue, JSON.stringify(text));
      assert.deepEqual(e.range.end, e.valueRange.end);
      assert.ok(offsetOf(text, e.range.start) <= offsetOf(text, e.keyRange.start));
    }
    if (i < lf.length) {
      const twin = parseDotenv(crlf[i]);
      const strip = (d: ReturnType<typeof parseDotenv>) => ({ ...d, entries: d.entries.map((e) => ({ ...e, rawValue: e.rawValue.replace(/\r\n/g, '\n') })) });
      assert.deepEqual(strip(twin), strip(doc), JSON.stringify(text));
    }
  }
});
