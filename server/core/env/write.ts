/**
 * Writing a `.env` as godotenv will read it back: one assignment set or removed, every other byte
 * kept, each edit checked by parsing the result (read.ts) before it is written (../fs.ts).
 */
import { unlinkSync } from 'node:fs';
import { KeystoreError } from '../errors';
import { readFileText, writeFileAtomic, type FileText } from '../fs';
import { describeEnvParseError, LineIndex, parseDotenv, type DotenvDocument, type EnvEntry } from './read';

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
    const sameValues = check.values !== null && JSON.stringify(Object.entries(check.values).sort()) === JSON.stringify(Object.entries(kept.values).sort());
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

/** A `.env` text after `changes` (value null = remove), every other byte kept: what updateEnvVariables writes. */
export function envTextAfter(text: string, changes: Record<string, string | null>): string {
  let after = text;
  for (const [key, value] of Object.entries(changes)) after = value === null ? removeEnvKey(after, key) : setEnvValue(after, key, value);
  return after;
}

/** A value as it appears in text of `encoding`: its UTF-8 bytes, one character each in latin1 text. */
function inEncoding(value: string, encoding: FileText['encoding']): string {
  return encoding === 'utf8' ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * Several variables of the `.env` at `path` in one atomic write (value null = remove), every
 * other byte kept (readFileText), mode, owner and group too (writeFileAtomic). Refuses a file
 * godotenv cannot parse ('env-parse'); after writing, reads the file back and checks godotenv gives
 * the intended values — else restores the previous content and throws 'internal'. Removing from a
 * missing file does nothing; setting creates it (mode 0600). Returns whether the file changed.
 */
export function updateEnvVariables(path: string, changes: Record<string, string | null>): boolean {
  const before = readFileText(path);
  const encoding = before?.encoding ?? 'utf8';
  const wanted = Object.entries(changes).map(([key, value]) => [key, value === null ? null : inEncoding(value, encoding)] as const);
  if (before === null && wanted.every(([, value]) => value === null)) return false;
  const after = envTextAfter(before?.text ?? '', Object.fromEntries(wanted));
  if (after === (before?.text ?? '')) return false;
  writeFileAtomic(path, after, encoding);
  const written = parseDotenv(readFileText(path)?.text ?? '').values;
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
