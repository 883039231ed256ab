/**
 * `.env` exactly as GPT-Load reads it: github.com/joho/godotenv v1.5.1 (`godotenv.Load()`), with
 * positions for every key and value, and a writer that changes one assignment and nothing else.
 *
 * godotenv v1.5.1 behaviour reproduced here (parser.go), including its accidents:
 * - CRLF becomes LF before parsing; a lone CR ends an unquoted value and is otherwise whitespace.
 * - Key names are checked byte by byte, each UTF-8 byte taken as a Latin-1 character: letters,
 *   digits, `_`, `.` pass, the bytes 0x85/0xA0 and spaces/tabs are skipped (so `A B=1` is the key
 *   `A B`), anything else (`-`, a BOM, a bare line without `=`) refuses the whole file. `KEY: v`
 *   works like `KEY=v`; text at the end of the file without `=` becomes the value of the key "".
 * - Unquoted values end at the line end; an inline comment starts at the LAST `#` preceded by
 *   whitespace, so `KEY= # x` is the value `# x` and `a #b #c` is `a #b`.
 * - Quotes: `'…'` and `"…"` may span lines; a quote preceded by a backslash never closes (also
 *   in single quotes, where the backslash stays). Backticks are ordinary characters.
 *   After a closing quote the rest of the line is parsed as a new statement (`A="x" B=y` sets both).
 * - Double quotes: `\n` and `\r` become LF/CR, `\X` becomes `X` for any other X except `$`.
 * - Expansion (unquoted and double-quoted): `$NAME`, `${NAME}` with NAME in `[A-Z0-9_]+`, looked up
 *   ONLY among the values this file set so far (never the process environment) — unknown → "".
 *   `\$` gives a literal `$`; `$foo` (lowercase) and a bare `$` stay as written; `$NAME}` drops the
 *   `}`; `${NAME` needs no closing brace.
 * - The last assignment of a key wins. Any error drops the whole file (GPT-Load logs only an
 *   unrelated hint, then runs without any of it).
 */
import { closeSync, fsyncSync, fstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, chmodSync, fchownSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeystoreError, type Localized } from './errors';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface EnvEntry {
  key: string;
  /** The value after godotenv's unquoting and expansion. */
  value: string;
  /** The value text as written (quotes included). */
  rawValue: string;
  keyRange: Range;
  /** Covers rawValue. */
  valueRange: Range;
  /**
   * The whole assignment, from `export`/key to the end of the value (a trailing comment excluded).
   * The three ranges share the position objects of equal offsets: treat positions as read-only.
   */
  range: Range;
  quote: '"' | "'" | null;
  exported: boolean;
  /** The value differs from the literal text because of `$` expansion (or a `\$` escape). */
  expanded: boolean;
  /** Variable names the expansion looked up, in order (each resolved from earlier keys of the file, else ""). */
  references: string[];
}

export type EnvParseErrorKind = 'unexpected-character' | 'unterminated-quote' | 'zero-length';

export interface EnvParseError {
  /** godotenv's own message, word for word. It quotes file content: never show it where a secret must not appear. */
  message: string;
  position: Position;
  kind: EnvParseErrorKind;
  /** For 'unexpected-character': the character godotenv names (one Latin-1 character per UTF-8 byte). */
  offending?: string;
}

export interface DotenvDocument {
  /** In file order, duplicates included (on a refused file: the assignments before the error). */
  entries: EnvEntry[];
  /** Exactly godotenv.Parse's map; null when godotenv refuses the file. */
  values: Record<string, string> | null;
  error: EnvParseError | null;
}

// ---------------------------------------------------------------------------------------------
// character classes as godotenv uses them (on UTF-16 code units; every space is in the BMP)

/** godotenv's isSpace: whitespace except line feeds. */
function isGoSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d || c === 0x85 || c === 0xa0;
}

/** Go's unicode.IsSpace: exactly Unicode's White_Space property. */
function isUnicodeSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;
/**
 * The bytes godotenv lets through a key name, by value: ASCII `[A-Za-z0-9_.]` and spaces; above
 * ASCII (bytes of a UTF-8 sequence, each judged as the Latin-1 rune of that byte) letters, numbers
 * and the skipped 0x85/0xA0.
 */
const KEY_BYTE: readonly boolean[] = Array.from({ length: 256 }, (_, b) =>
  b < 0x80 ? /^[A-Za-z0-9_.]$/.test(String.fromCharCode(b)) || isGoSpace(b) : b === 0x85 || b === 0xa0 || LETTER_OR_NUMBER.test(String.fromCharCode(b)),
);
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.Quote, which godotenv's `%q` uses in its messages. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if ((cp >= 0x20 && cp < 0x7f) || (cp >= 0x80 && GO_PRINTABLE.test(ch))) out += ch;
    else if (cp === 0x07) out += '\\a';
    else if (cp === 0x08) out += '\\b';
    else if (cp === 0x0c) out += '\\f';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else if (cp === 0x09) out += '\\t';
    else if (cp === 0x0b) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------------
// positions

/**
 * How many entries of the ascending `list` are below `limit`. `hint` is the previous answer: the
 * parser asks in file order, so the answer is usually a step or two further; otherwise a binary search.
 */
function countBelow(list: readonly number[], limit: number, hint: number): number {
  let n = hint;
  if (n <= list.length && (n === 0 || list[n - 1] < limit)) {
    for (let step = 0; step < 4; step++, n++) {
      if (n === list.length || list[n] >= limit) return n;
    }
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Offsets ↔ LSP positions of one text (lines end at CRLF, LF or a lone CR, as in LSP). */
export class LineIndex {
  private readonly starts: number[] = [0];
  /** Lines starting at or before the offset asked last. */
  private hint = 1;

  constructor(private readonly text: string) {
    if (!text.includes('\r')) {
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
      return;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if (c === 10 || c === 13) this.starts.push(i + 1);
    }
  }

  positionAt(offset: number): Position {
    this.hint = countBelow(this.starts, offset + 1, this.hint);
    const line = this.hint - 1;
    return { line, character: offset - this.starts[line] };
  }

  offsetAt(position: Position): number {
    if (position.line >= this.starts.length) return this.text.length;
    return Math.min(this.starts[position.line] + position.character, this.text.length);
  }
}

/**
 * The CRLF → LF text godotenv parses, mapped back to the original: `crlf` holds the indices (in
 * the normalized text) of every LF that was a CRLF; an offset between characters maps to the
 * original before that pair's CR.
 */
class Source {
  readonly src: string;
  readonly lines: LineIndex;
  private readonly crlf: number[] = [];
  /** CRLFs before the index asked last. */
  private hint = 0;

  constructor(original: string) {
    for (let i = original.indexOf('\r\n'); i >= 0; i = original.indexOf('\r\n', i + 2)) this.crlf.push(i - this.crlf.length);
    this.src = this.crlf.length === 0 ? original : original.replaceAll('\r\n', '\n');
    this.lines = new LineIndex(original);
  }

  /** Original offset of the boundary before normalized index `x`. */
  offset(x: number): number {
    this.hint = countBelow(this.crlf, x, this.hint);
    return x + this.hint;
  }
}

// ---------------------------------------------------------------------------------------------
// the parser (one pass over the normalized text, godotenv's steps in godotenv's order; it works
// on indices into that text, never on copies of "the rest of the file" as godotenv does)

const ESCAPE_RE = /\\[^\n]/gu;
const UNESCAPE_RE = /\\([^$])/gu;
const EXPAND_RE = /(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?/g;

/** Double-quoted values: `\n` and `\r` become LF/CR, then `\X` → `X` except before `$`. */
function expandEscapes(text: string): string {
  if (!text.includes('\\')) return text;
  return text
    .replace(ESCAPE_RE, (m) => (m[1] === 'n' ? '\n' : m[1] === 'r' ? '\r' : m))
    .replace(UNESCAPE_RE, '$1');
}

function expandVariables(text: string, vars: Map<string, string>, references: string[]): string {
  if (!text.includes('$')) return text;
  return text.replace(EXPAND_RE, (match: string, escape: string | undefined, _dollar: string, _paren: string | undefined, name: string | undefined) => {
    if (escape) return match.slice(1);
    if (name) {
      references.push(name);
      return vars.get(name) ?? '';
    }
    return match;
  });
}

class ParseFailure {
  constructor(
    readonly at: number,
    readonly kind: EnvParseErrorKind,
    readonly message: string,
    readonly offending?: string,
  ) {}
}

/** Index of the next statement, skipping whitespace and comment lines; -1 at the end. */
function statementStart(src: string, from: number): number {
  let p = from;
  for (;;) {
    while (p < src.length && isUnicodeSpace(src.charCodeAt(p))) p++;
    if (p >= src.length) return -1;
    if (src.charCodeAt(p) !== 0x23) return p;
    const nl = src.indexOf('\n', p);
    if (nl < 0) return -1;
    p = nl;
  }
}

interface KeyPart {
  key: string;
  keyStart: number;
  keyEnd: number;
  exported: boolean;
  valueStart: number;
}

/** godotenv's refusal of a key name: `byte` at `at`, quoting the file from the key (`from`) on. */
function unexpectedInKey(src: string, from: number, at: number, byte: number): ParseFailure {
  const char = String.fromCharCode(byte);
  return new ParseFailure(at, 'unexpected-character', `unexpected character ${goQuote(char)} in variable name near ${goQuote(src.slice(from))}`, char);
}

function locateKey(src: string, start: number): KeyPart {
  let s = start;
  let exported = false;
  if (src.startsWith('export', s) && isGoSpace(src.charCodeAt(s + 6))) {
    s += 6;
    while (s < src.length && isGoSpace(src.charCodeAt(s))) s++;
    exported = true;
  }
  let separator = -1;
  for (let i = s; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x3d || c === 0x3a) {
      separator = i;
      break;
    }
    if (c < 0x80) {
      if (!KEY_BYTE[c]) throw unexpectedInKey(src, s, i, c);
      continue;
    }
    // godotenv ranges over bytes; a lone surrogate becomes U+FFFD's bytes, as in the file.
    const cp = src.codePointAt(i)!;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) if (!KEY_BYTE[b]) throw unexpectedInKey(src, s, i, b);
    if (cp > 0xffff) i++;
  }
  if (s >= src.length) throw new ParseFailure(s, 'zero-length', 'zero length string');

  let keyEnd = s;
  let valueFrom = s;
  if (separator >= 0) {
    keyEnd = separator;
    while (keyEnd > s && isUnicodeSpace(src.charCodeAt(keyEnd - 1))) keyEnd--;
    valueFrom = separator + 1;
  }
  while (valueFrom < src.length && isGoSpace(src.charCodeAt(valueFrom))) valueFrom++;
  return { key: src.slice(s, keyEnd), keyStart: s, keyEnd, exported, valueStart: valueFrom };
}

interface ValuePart {
  value: string;
  rawStart: number;
  rawEnd: number;
  next: number;
  quote: '"' | "'" | null;
  expanded: boolean;
  references: string[];
}

function extractValue(src: string, p: number, vars: Map<string, string>): ValuePart {
  const quote = src[p];
  const references: string[] = [];
  if (quote === '"' || quote === "'") {
    // A quote preceded by a backslash never closes.
    let close = src.indexOf(quote, p + 1);
    while (close >= 0 && src.charCodeAt(close - 1) === 0x5c) close = src.indexOf(quote, close + 1);
    if (close < 0) {
      const nl = src.indexOf('\n', p);
      throw new ParseFailure(p, 'unterminated-quote', `unterminated quoted value ${src.slice(p, nl < 0 ? src.length : nl)}`);
    }
    // godotenv trims every quote character off both ends of the text before the closing quote.
    let end = close;
    while (end > p && src[end - 1] === quote) end--;
    let begin = p;
    while (begin < end && src[begin] === quote) begin++;
    const inner = src.slice(begin, end);
    if (quote === "'") return { value: inner, rawStart: p, rawEnd: close + 1, next: close + 1, quote, expanded: false, references };
    const unescaped = expandEscapes(inner);
    const value = expandVariables(unescaped, vars, references);
    return { value, rawStart: p, rawEnd: close + 1, next: close + 1, quote, expanded: value !== unescaped, references };
  }

  // Unquoted: to the line end; an inline comment starts at the last `#` preceded by whitespace.
  let eol = p;
  let comment = -1;
  for (; eol < src.length; eol++) {
    const c = src.charCodeAt(eol);
    if (c === 10 || c === 13) break;
    if (c === 0x23 && eol > p && isGoSpace(src.charCodeAt(eol - 1))) comment = eol;
  }
  let end = comment >= 0 ? comment : eol;
  let begin = p;
  while (begin < end && isGoSpace(src.charCodeAt(begin))) begin++;
  while (end > begin && isGoSpace(src.charCodeAt(end - 1))) end--;
  const raw = src.slice(begin, end);
  const value = expandVariables(raw, vars, references);
  return { value, rawStart: begin, rawEnd: end, next: eol, quote: null, expanded: value !== raw, references };
}

/**
 * A parsed document whose `values` (Object.fromEntries of the map) is built on first read: an
 * object with thousands of keys costs more than the whole parse, and the daemon's diagnostics never
 * read it.
 */
function parsedDocument(entries: EnvEntry[], vars: Map<string, string>): DotenvDocument {
  let values: Record<string, string> | undefined;
  return {
    entries,
    get values() {
      return (values ??= Object.fromEntries(vars));
    },
    error: null,
  };
}

/** What godotenv v1.5.1's Parse makes of `text`, with positions (see the module comment). */
export function parseDotenv(text: string): DotenvDocument {
  const source = new Source(text);
  const { src, lines } = source;
  const vars = new Map<string, string>();
  const entries: EnvEntry[] = [];
  let p = 0;
  try {
    for (;;) {
      const start = statementStart(src, p);
      if (start < 0) break;
      const k = locateKey(src, start);
      const v = extractValue(src, k.valueStart, vars);
      vars.set(k.key, v.value);
      // Mapped in file order, so that each is a step from the previous one. Ranges share the
      // position objects of equal offsets (the entry's start is its key's, its end its value's).
      const from = source.offset(start);
      const keyStart = source.offset(k.keyStart);
      const keyEnd = source.offset(k.keyEnd);
      const rawStart = source.offset(v.rawStart);
      const rawEnd = source.offset(v.rawEnd);
      const fromAt = lines.positionAt(from);
      const keyStartAt = keyStart === from ? fromAt : lines.positionAt(keyStart);
      const keyEndAt = lines.positionAt(keyEnd);
      const rawStartAt = lines.positionAt(rawStart);
      const rawEndAt = lines.positionAt(rawEnd);
      entries.push({
        key: k.key,
        value: v.value,
        rawValue: text.slice(rawStart, rawEnd),
        keyRange: { start: keyStartAt, end: keyEndAt },
        valueRange: { start: rawStartAt, end: rawEndAt },
        range: { start: fromAt, end: rawEndAt },
        quote: v.quote,
        exported: k.exported,
        expanded: v.expanded,
        references: v.references,
      });
      p = v.next;
    }
  } catch (err) {
    if (!(err instanceof ParseFailure)) throw err;
    const error: EnvParseError = { message: err.message, position: lines.positionAt(source.offset(err.at)), kind: err.kind };
    if (err.offending !== undefined) error.offending = err.offending;
    return { entries, values: null, error };
  }
  return parsedDocument(entries, vars);
}

/**
 * The value as the user wrote it, before godotenv's `$` expansion: what a "keep it literal" fix
 * must write back (quoted so that godotenv no longer expands it).
 */
export function writtenValue(entry: EnvEntry): string {
  if (entry.quote === null) return entry.rawValue;
  if (entry.quote === "'") return entry.value;
  const raw = entry.rawValue.replace(/\r\n/g, '\n');
  let end = raw.length - 1;
  while (end > 0 && raw[end - 1] === '"') end--;
  let begin = 0;
  while (begin < end && raw[begin] === '"') begin++;
  return expandEscapes(raw.slice(begin, end));
}

/** A description of a parse error that quotes no file content (godotenv's message does). */
export function describeEnvParseError(error: EnvParseError): Localized {
  const where = `line ${error.position.line + 1}, column ${error.position.character + 1}`;
  const whereZh = `第 ${error.position.line + 1} 行第 ${error.position.character + 1} 列`;
  switch (error.kind) {
    case 'unexpected-character': {
      const ch = goQuote(error.offending ?? '');
      if (error.offending === '\n') {
        return {
          en: `${where}: a line without "=" (godotenv reads it as part of a variable name)`,
          zh: `${whereZh}：该行没有“=”（godotenv 把它当作变量名的一部分）`,
        };
      }
      if (error.offending === '»' && error.position.line === 0 && error.position.character === 0) {
        return { en: `${where}: the file starts with a UTF-8 BOM`, zh: `${whereZh}：文件以 UTF-8 BOM 开头` };
      }
      return {
        en: `${where}: unexpected character ${ch} in a variable name (only letters, digits, "_" and "." are allowed)`,
        zh: `${whereZh}：变量名中出现非法字符 ${ch}（只允许字母、数字、“_”和“.”）`,
      };
    }
    case 'unterminated-quote':
      return { en: `${where}: a quoted value is never closed`, zh: `${whereZh}：引号内的值没有闭合` };
    case 'zero-length':
      return { en: `${where}: "export" without a variable name`, zh: `${whereZh}："export" 后面没有变量名` };
  }
}

// ---------------------------------------------------------------------------------------------
// reading as GPT-Load does

export interface LoadedEnv {
  path: string;
  exists: boolean;
  doc: DotenvDocument;
  /** What GPT-Load reads for KEY: the process environment wins over the file (godotenv.Load). */
  get(key: string): string | undefined;
  source(key: string): 'process' | 'file' | undefined;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(path: string, action: Localized, err: unknown): KeystoreError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new KeystoreError('io', { en: `cannot ${action.en} ${path} (${code})`, zh: `无法${action.zh} ${path}（${code}）` });
}

/**
 * `.env` as godotenv.Load applies it: a variable present in the process environment (even empty)
 * is kept; the file fills in the rest — unless godotenv refuses the file, then none of it applies.
 * A missing file is not an error (exists: false).
 */
export function loadEnv(path: string, processEnv: NodeJS.ProcessEnv = process.env): LoadedEnv {
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!isMissing(err)) throw ioError(path, { en: 'read', zh: '读取' }, err);
  }
  const doc: DotenvDocument = text === null ? { entries: [], values: {}, error: null } : parseDotenv(text);
  const inProcess = (key: string) => Object.prototype.hasOwnProperty.call(processEnv, key) && processEnv[key] !== undefined;
  const inFile = (key: string) => doc.values !== null && Object.prototype.hasOwnProperty.call(doc.values, key);
  return {
    path,
    exists: text !== null,
    doc,
    get: (key) => (inProcess(key) ? processEnv[key] : inFile(key) ? doc.values![key] : undefined),
    source: (key) => (inProcess(key) ? 'process' : inFile(key) ? 'file' : undefined),
  };
}

// ---------------------------------------------------------------------------------------------
// writing

/** Safe unquoted: nothing godotenv (or Docker Compose, or a shell) would treat specially. */
const PLAIN_VALUE = /^[^\s$#'"`\\]*$/u;
/** Key names we write: the portable subset godotenv accepts. */
const WRITABLE_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function doubleQuoted(value: string): string {
  let body = '';
  for (const ch of value) {
    if (ch === '\\' || ch === '"' || ch === '$') body += '\\' + ch;
    else if (ch === '\n') body += '\\n';
    else if (ch === '\r') body += '\\r';
    else body += ch;
  }
  // A closing quote right after a backslash does not close: end with `\"` + `"` instead, which
  // godotenv trims back to the backslash (it trims every quote character off the end).
  if (body.endsWith('\\\\')) return `"${body.slice(0, -1)}""`;
  return `"${body}"`;
}

/** The spellings that could represent `value`, preferred first (verified by the caller). */
function spellings(value: string): string[] {
  // A lone surrogate has no UTF-8 form: the file would hold U+FFFD instead.
  if (/\p{Cs}/u.test(value)) return [];
  const out: string[] = [];
  if (PLAIN_VALUE.test(value)) out.push(value);
  if (!/['\r\n]/.test(value) && !value.endsWith('\\')) out.push(`'${value}'`);
  out.push(doubleQuoted(value));
  return out;
}

function readsBackAs(spelled: string, value: string): boolean {
  const doc = parseDotenv(`K=${spelled}\n`);
  return doc.values !== null && doc.values.K === value && doc.entries.length === 1;
}

function unrepresentable(): KeystoreError {
  return new KeystoreError('usage', {
    en: 'this value cannot be written to .env so that godotenv reads it back unchanged (it is not valid text)',
    zh: '该值无法写入 .env 并被 godotenv 原样读回（不是有效文本）',
  });
}

/** How setEnvValue writes `value`: bare when nothing in it is special, else single quotes, else double quotes. */
export function quoteForDotenv(value: string): string {
  const spelled = spellings(value).find((s) => readsBackAs(s, value));
  if (spelled === undefined) throw unrepresentable();
  return spelled;
}

function requireWritableKey(key: string): void {
  if (!WRITABLE_KEY.test(key)) {
    throw new KeystoreError('usage', {
      en: `"${key}" is not a variable name godotenv accepts (letters, digits, "_" and ".", not starting with a digit)`,
      zh: `“${key}”不是 godotenv 接受的变量名（字母、数字、“_”和“.”，且不以数字开头）`,
    });
  }
}

function requireParsable(doc: DotenvDocument): asserts doc is DotenvDocument & { values: Record<string, string> } {
  if (doc.error) {
    const where = describeEnvParseError(doc.error);
    throw new KeystoreError(
      'env-parse',
      {
        en: `godotenv refuses this .env (${where.en}), so GPT-Load ignores all of it; fix it before editing`,
        zh: `godotenv 无法解析此 .env（${where.zh}），GPT-Load 会忽略整个文件；请先修复再编辑`,
      },
      { line: doc.error.position.line, character: doc.error.position.character },
    );
  }
}

function lineEnding(text: string): string {
  const nl = text.search(/\r\n|\n|\r/);
  return nl >= 0 && text.startsWith('\r\n', nl) ? '\r\n' : '\n';
}

const GO_SPACES = '[\\t\\v\\f \\u0085\\u00a0]';
const ONLY_SPACES = new RegExp(`^${GO_SPACES}*$`);
const SPACES_THEN_COMMENT = new RegExp(`^${GO_SPACES}*(#.*)?$`);
const LEADING_SPACES = new RegExp(`^${GO_SPACES}*`);
const TRAILING_SPACES = new RegExp(`${GO_SPACES}*$`);

interface Edit {
  from: number;
  to: number;
  text: string;
}

/** Applies edits to disjoint or overlapping spans (overlaps, e.g. two removals on one line, merge). */
function applyEdits(text: string, edits: Edit[]): string {
  let out = '';
  let pos = 0;
  for (const e of [...edits].sort((a, b) => a.from - b.from)) {
    out += text.slice(pos, Math.max(e.from, pos)) + e.text;
    pos = Math.max(pos, e.to);
  }
  return out + text.slice(pos);
}

/** The span that deletes one assignment: its whole line(s) when nothing else is on them. */
function removal(text: string, lines: LineIndex, entry: EnvEntry): Edit {
  const from = lines.offsetAt(entry.range.start);
  const to = lines.offsetAt(entry.range.end);
  const lineStart = lines.offsetAt({ line: entry.range.start.line, character: 0 });
  let lineEnd = to;
  while (lineEnd < text.length && text[lineEnd] !== '\n' && text[lineEnd] !== '\r') lineEnd++;
  const before = text.slice(lineStart, from);
  const after = text.slice(to, lineEnd);
  if (ONLY_SPACES.test(before) && SPACES_THEN_COMMENT.test(after)) {
    const terminator = text.startsWith('\r\n', lineEnd) ? 2 : lineEnd < text.length ? 1 : 0;
    return { from: lineStart, to: lineEnd + terminator, text: '' };
  }
  if (ONLY_SPACES.test(before)) return { from, to: to + LEADING_SPACES.exec(after)![0].length, text: '' };
  return { from: from - TRAILING_SPACES.exec(before)![0].length, to, text: '' };
}

/** Keys in order and the values of the entries that expand nothing: what an edit must keep. */
function fixedPart(doc: DotenvDocument, skip: string): string[] {
  return doc.entries.map((e) => (e.key === skip ? `=${e.key}` : e.references.length === 0 ? `${e.key}=${e.value}` : `${e.key}$`));
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Sets `key` to `value`: the last assignment's value is replaced in place (its `export`, spacing
 * and comment kept), earlier duplicates are removed, or `KEY=value` is appended. Every other byte
 * stays, CRLF included. The value is quoted only when godotenv would otherwise read something else.
 * Throws 'usage' for an invalid key or an unwritable value, 'env-parse' when the text does not parse.
 */
export function setEnvValue(text: string, key: string, value: string): string {
  requireWritableKey(key);
  const doc = parseDotenv(text);
  requireParsable(doc);
  const lines = new LineIndex(text);
  const own = doc.entries.filter((e) => e.key === key);
  const last = own[own.length - 1];
  const earlier = own.slice(0, -1);
  const expectedKeys = (removeEarlier: boolean) => {
    const kept = fixedPart({ ...doc, entries: doc.entries.filter((e) => !(removeEarlier && earlier.includes(e))) }, key);
    return last === undefined ? [...kept, `=${key}`] : kept;
  };

  for (const spelled of spellings(value)) {
    if (!readsBackAs(spelled, value)) continue;
    if (last === undefined) {
      const eol = lineEnding(text);
      const sep = text === '' || /[\r\n]$/.test(text) ? '' : eol;
      const appended = `${text}${sep}${key}=${spelled}${eol}`;
      const check = parseDotenv(appended);
      if (check.values?.[key] === value && sameList(fixedPart(check, key), expectedKeys(false))) return appended;
      continue;
    }
    // Replace the value only; the earlier assignments stay in this first candidate.
    const replaceLast: Edit = { from: lines.offsetAt(last.valueRange.start), to: lines.offsetAt(last.valueRange.end), text: spelled };
    const replaced = applyEdits(text, [replaceLast]);
    const kept = parseDotenv(replaced);
    if (kept.values?.[key] !== value || !sameList(fixedPart(kept, key), expectedKeys(false))) continue;
    if (earlier.length === 0) return replaced;
    // Removing an earlier duplicate must not change a value that expanded it in between.
    const collapsed = applyEdits(text, [...earlier.map((e) => removal(text, lines, e)), replaceLast]);
    const check = parseDotenv(collapsed);
    const sameValues = check.values !== null && JSON.stringify(Object.entries(check.values).sort()) === JSON.stringify(Object.entries(kept.values!).sort());
    return sameValues && sameList(fixedPart(check, key), expectedKeys(true)) ? collapsed : replaced;
  }
  throw unrepresentable();
}

/** Removes every assignment of `key` (whole lines when nothing else is on them). */
export function removeEnvKey(text: string, key: string): string {
  const doc = parseDotenv(text);
  requireParsable(doc);
  const lines = new LineIndex(text);
  const own = doc.entries.filter((e) => e.key === key);
  const out = applyEdits(text, own.map((e) => removal(text, lines, e)));
  const check = parseDotenv(out);
  if (check.error || check.entries.some((e) => e.key === key) || check.entries.length !== doc.entries.length - own.length) {
    throw new KeystoreError('internal', {
      en: `removing ${key} would change how godotenv reads the rest of the file; edit it by hand`,
      zh: `删除 ${key} 会改变 godotenv 对文件其余部分的解析；请手动编辑`,
    });
  }
  return out;
}

/**
 * A `.env`'s text in a form that maps back to its exact bytes: UTF-8 when the file is valid UTF-8,
 * else latin1 (one character per byte). godotenv's syntax is ASCII, so parsing and editing work the
 * same on either; a value that is not UTF-8 (a legacy-encoded comment or note) survives an edit.
 */
export interface EnvFileText {
  text: string;
  encoding: 'utf8' | 'latin1';
}

/** The file's text (null when it does not exist). */
export function readEnvFileText(path: string): EnvFileText | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if (isMissing(err)) return null;
    throw ioError(path, { en: 'read', zh: '读取' }, err);
  }
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { text, encoding: 'utf8' } : { text: bytes.toString('latin1'), encoding: 'latin1' };
}

/** A value as it appears in text of `encoding`: its UTF-8 bytes, one character each in latin1 text. */
function inEncoding(value: string, encoding: EnvFileText['encoding']): string {
  return encoding === 'utf8' ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * Replaces `path` atomically: a temp file beside it, fsync, rename, fsync of the directory. An
 * existing file keeps its mode, owner and group — when the temp file cannot be given them (a
 * non-root run on a file owned by someone else, or a group we are not in), nothing is written
 * and the error says why: the rename would otherwise hand the file to us. A new one gets 0600.
 * A symlink is followed, so the link stays and its target is replaced.
 */
export function writeFileAtomic(path: string, text: string, encoding: EnvFileText['encoding'] = 'utf8'): void {
  let target = path;
  let mode = 0o600;
  let owner: { uid: number; gid: number } | undefined;
  try {
    target = realpathSync(path);
    const st = statSync(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (err) {
    if (!isMissing(err)) throw ioError(path, { en: 'inspect', zh: '检查' }, err);
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', mode);
    writeSync(fd, Buffer.from(text, encoding));
    if (owner) keepOwner(fd, path, owner);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(temp, mode); // the umask may have narrowed it at creation
    renameSync(temp, target);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw err instanceof KeystoreError ? err : ioError(path, { en: 'write', zh: '写入' }, err);
  }
  try {
    const dir = openSync(dirname(target), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Directories cannot be fsynced on every platform (Windows); the rename itself is atomic.
  }
}

/** Gives the temp file the original's owner and group, or refuses (KeystoreError 'io') when we may not. */
function keepOwner(fd: number, path: string, owner: { uid: number; gid: number }): void {
  const made = fstatSync(fd);
  if (made.uid === owner.uid && made.gid === owner.gid) return;
  try {
    fchownSync(fd, owner.uid, owner.gid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KeystoreError(
      'io',
      {
        en: `${path} is owned by uid ${owner.uid}, gid ${owner.gid}; rewriting it as uid ${made.uid} cannot keep that owner and group (${code}), so it was left unchanged. Run as its owner (or root), or edit it by hand.`,
        zh: `${path} 的所有者为 uid ${owner.uid}、gid ${owner.gid}；以 uid ${made.uid} 改写会无法保留该所有者和组（${code}），因此未做修改。请以文件所有者（或 root）运行，或手动编辑。`,
      },
      { path, uid: owner.uid, gid: owner.gid },
    );
  }
}

/** A `.env` text after `changes` (value null = remove), every other byte kept: what updateEnvVariables writes. */
export function envTextAfter(text: string, changes: Record<string, string | null>): string {
  let after = text;
  for (const [key, value] of Object.entries(changes)) after = value === null ? removeEnvKey(after, key) : setEnvValue(after, key, value);
  return after;
}

/**
 * Several variables of the `.env` at `path` in one atomic write (value null = remove), every
 * other byte kept (readEnvFileText), mode, owner and group too (writeFileAtomic). Refuses a file
 * godotenv cannot parse ('env-parse'); after writing, reads the file back and checks godotenv gives
 * the intended values — else restores the previous content and throws 'internal'. Removing from a
 * missing file does nothing; setting creates it (mode 0600). Returns whether the file changed.
 */
export function updateEnvVariables(path: string, changes: Record<string, string | null>): boolean {
  const before = readEnvFileText(path);
  const encoding = before?.encoding ?? 'utf8';
  const wanted = Object.entries(changes).map(([key, value]) => [key, value === null ? null : inEncoding(value, encoding)] as const);
  if (before === null && wanted.every(([, value]) => value === null)) return false;
  const after = envTextAfter(before?.text ?? '', Object.fromEntries(wanted));
  if (after === (before?.text ?? '')) return false;
  writeFileAtomic(path, after, encoding);
  const written = parseDotenv(readEnvFileText(path)?.text ?? '').values;
  const ok = written !== null && wanted.every(([key, value]) => (value === null ? !Object.prototype.hasOwnProperty.call(written, key) : written[key] === value));
  if (!ok) {
    if (before !== null) writeFileAtomic(path, before.text, encoding);
    else unlinkSync(path);
    throw new KeystoreError('internal', {
      en: `${path}: after writing, godotenv did not read the new values as intended; the previous content was restored`,
      zh: `${path}：写入后 godotenv 读到的值与预期不符，已恢复原内容`,
    });
  }
  return true;
}

/** Sets (value) or removes (null) one variable of the `.env` at `path`: updateEnvVariables for one. */
export function updateEnvFile(path: string, key: string, value: string | null): void {
  updateEnvVariables(path, { [key]: value });
}
