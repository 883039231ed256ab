/**
 * `.env` exactly as GPT-Load reads it: github.com/joho/godotenv v1.5.1 (`godotenv.Load()`), with
 * positions for every key and value; write.ts beside it changes one assignment and nothing else.
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
import { readFileSync } from 'node:fs';
import type { Localized } from '../errors';
import { ioError, isMissing } from '../fs';

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

type EnvParseErrorKind = 'unexpected-character' | 'unterminated-quote' | 'zero-length';

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
