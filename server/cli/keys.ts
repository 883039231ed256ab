/** `keys list` and `keys find`: keys as GPT-Load's UI shows them, masked, never the whole secret. */
import { createInterface } from 'node:readline';
import { codecFor } from '../core/crypto';
import { KeystoreError, localize, type Localized } from '../core/errors';
import { findKeys, groupNamesById, listKeyPage, UNDECRYPTABLE, type KeyListItem, type KeyStatus } from '../keystore/keys';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, flag, positiveInt, str, withStore, writeJson } from './options';
import { formatNumber } from '../../shared/format';
import { printable } from '../../shared/printable';
import { tableLines } from './table';

function statusOf(args: ParsedArgs): KeyStatus | undefined {
  const status = str(args, 'status');
  if (status !== undefined && status !== 'active' && status !== 'invalid') {
    throw new KeystoreError('usage', { en: '--status takes active or invalid', zh: '--status 取值为 active 或 invalid' });
  }
  return status;
}

/** A key's status as GPT-Load's Chinese UI names it (the wire and --json keep the identifier). */
export const KEY_STATUS_TEXT: Record<KeyStatus, Localized> = {
  active: { en: 'active', zh: '有效' },
  invalid: { en: 'invalid', zh: '无效' },
};

const UNDECRYPTABLE_TEXT: Localized = { en: UNDECRYPTABLE, zh: '（无法解密）' };

/** Notes are free text: one line in a table, at most NOTES_WIDTH characters. */
const NOTES_WIDTH = 40;

function oneLine(text: string): string {
  const flat = printable(text.trim());
  const chars = Array.from(flat);
  return chars.length > NOTES_WIDTH ? chars.slice(0, NOTES_WIDTH - 1).join('') + '…' : flat;
}

/**
 * GPT-Load's UI shows a key's notes when it has any, else the masked key; the table keeps both:
 * KEY (always masked) and NOTES. `lead` adds leading columns (keys find: the stdin line).
 */
function writeKeyTable(io: CliIO, items: KeyListItem[], lead?: { header: Localized; cell: (item: KeyListItem) => string }): void {
  const header = localize({ en: 'ID|GROUP|STATUS|KEY|REQUESTS|FAILURES|LAST USED|NOTES', zh: 'ID|分组|状态|密钥|请求数|失败数|最后使用|备注' }, io.lang).split('|');
  const undecryptable = localize(UNDECRYPTABLE_TEXT, io.lang);
  const rows = items.map((k) => [
    String(k.id),
    printable(k.groupName),
    localize(KEY_STATUS_TEXT[k.status as KeyStatus] ?? { en: k.status, zh: k.status }, io.lang),
    k.masked.startsWith(UNDECRYPTABLE) ? undecryptable + k.masked.slice(UNDECRYPTABLE.length) : k.masked,
    formatNumber(k.requestCount, io.lang),
    formatNumber(k.failureCount, io.lang),
    k.lastUsedAt ?? '-',
    oneLine(k.notes),
  ]);
  if (lead) {
    header.unshift(localize(lead.header, io.lang));
    items.forEach((k, i) => rows[i].unshift(lead.cell(k)));
  }
  for (const line of tableLines([header, ...rows])) io.stdout.write(line + '\n');
}

export const keysListCommand: CliCommand = {
  name: 'keys list',
  summary: 'list stored keys (masked), by group and status, a page at a time',
  help: `Usage: gpt-load-keystore keys list [--group NAME] [--status active|invalid] [--undecryptable] [--limit N] [--after ID] [--json]

Lists keys as GPT-Load's UI shows them: id, group, status, masked key (never the whole secret),
request and failure counts, last use and notes. Pages are keyset-paged by id: the last line names
the --after ID for the next page, so a group of a million keys pages as fast as a small one.
A key the configured ENCRYPTION_KEY cannot open shows as "(undecryptable)". To find one key by its
value, use keys find.

Options:
  --group NAME          only this group
  --status STATUS       active or invalid
  --undecryptable       only keys the configured ENCRYPTION_KEY cannot open (status counts them);
                        their stored value is shown masked. migrate-keys --leave-undecryptable
                        leaves them as they are
  --limit N             rows per page (default 50)
  --after ID            start after this key id
  --json                machine-readable page ({items, nextAfterId})
${DEPLOYMENT_HELP}

Exit codes: 0 ok, 2 bad flag or unknown group, 3 .env unreadable, 7 cannot connect,
8 not a GPT-Load database.

Examples:
  gpt-load-keystore keys list --group openai --status invalid
  gpt-load-keystore keys list --undecryptable
  gpt-load-keystore keys list --after 1050 --limit 100 --json`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    group: { type: 'string' },
    status: { type: 'string' },
    undecryptable: { type: 'boolean' },
    limit: { type: 'string' },
    after: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const query = {
      groupName: str(args, 'group'),
      status: statusOf(args),
      undecryptable: flag(args, 'undecryptable'),
      limit: positiveInt(args, 'limit', 50),
      afterId: str(args, 'after') !== undefined ? positiveInt(args, 'after', 0, 0) : undefined,
    };
    const page = await withStore(args, io, (store, deployment) => listKeyPage(store, codecFor(deployment.encryptionKey), query));
    if (flag(args, 'json')) {
      writeJson(io, page);
      return 0;
    }
    writeKeyTable(io, page.items);
    const shown = formatNumber(page.items.length, io.lang);
    const footer: Localized =
      page.nextAfterId !== null
        ? { en: `-- more: --after ${page.nextAfterId}`, zh: `-- 还有更多：--after ${page.nextAfterId}` }
        : { en: `-- end (${shown} shown)`, zh: `-- 已到末尾（显示 ${shown} 个）` };
    io.stdout.write(localize(footer, io.lang) + '\n');
    return 0;
  },
};

/** Values to look for, one a line; blank lines skipped, surrounding blanks trimmed (as GPT-Load trims keys it is given). */
export async function readValues(io: CliIO): Promise<Array<{ line: number; value: string }>> {
  if (io.stdin.isTTY) io.stderr.write(localize({ en: 'Paste the key(s), one per line, then press Ctrl-D:', zh: '请粘贴密钥，每行一个，然后按 Ctrl-D：' }, io.lang) + '\n');
  const values: Array<{ line: number; value: string }> = [];
  let line = 0;
  for await (const text of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    line++;
    const value = text.trim();
    if (value !== '') values.push({ line, value });
  }
  return values;
}

export const keysFindCommand: CliCommand = {
  name: 'keys find',
  summary: 'find keys by their exact value (read from stdin), shown masked',
  help: `Usage: gpt-load-keystore keys find [--group NAME] [--status active|invalid] [--json] < keys.txt

Reads API keys on stdin, one per line (never on the command line, where shell history and \`ps\`
would keep them), and prints the stored rows holding each, masked as in keys list. Keys are matched
through key_hash as GPT-Load's own search does: nothing is decrypted to search. With ENCRYPTION_KEY
set it also finds rows still stored in plaintext, which GPT-Load's search misses. The same key may
sit in several groups: every row is shown.

Options:
  --group NAME          only this group
  --status STATUS       active or invalid
  --json                machine-readable ({results: [{line, items}]})
${DEPLOYMENT_HELP}

Exit codes: 0 every key found, 1 some key not found (its stdin line is named on stderr), 2 bad
flag, unknown group or no key on stdin, 3 .env unreadable, 7 cannot connect, 8 not a GPT-Load database.

Examples:
  gpt-load-keystore keys find < suspicious-keys.txt
  pbpaste | gpt-load-keystore keys find --group openai`,
  options: { ...DEPLOYMENT_OPTIONS, group: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const status = statusOf(args);
    const values = await readValues(io);
    if (values.length === 0) throw new KeystoreError('usage', { en: 'no key on stdin (one per line)', zh: '标准输入中没有密钥（每行一个）' });
    const results = await withStore(args, io, async (store, deployment) => {
      const codec = codecFor(deployment.encryptionKey);
      const groupNames = await groupNamesById(store);
      const found: Array<{ line: number; items: KeyListItem[] }> = [];
      for (const { line, value } of values) {
        found.push({ line, items: await findKeys(store, codec, { value, groupName: str(args, 'group'), status }, { groupNames }) });
      }
      return found;
    });
    const missing = results.filter((r) => r.items.length === 0).map((r) => r.line);
    if (flag(args, 'json')) writeJson(io, { results });
    else {
      const lineOf = new Map(results.flatMap((r) => r.items.map((item) => [item, r.line] as const)));
      const items = results.flatMap((r) => r.items);
      if (items.length > 0) writeKeyTable(io, items, values.length > 1 ? { header: { en: 'LINE', zh: '行' }, cell: (item) => String(lineOf.get(item)) } : undefined);
      const found = formatNumber(values.length - missing.length, io.lang);
      const asked = formatNumber(values.length, io.lang);
      io.stdout.write(localize({ en: `-- ${found} of ${asked} found`, zh: `-- 找到 ${found} / ${asked} 个` }, io.lang) + '\n');
    }
    for (const line of missing) io.stderr.write(io.lang === 'zh-CN' ? `第 ${line} 行：未找到该密钥\n` : `line ${line}: no stored key has this value\n`);
    return missing.length > 0 ? 1 : 0;
  },
};
