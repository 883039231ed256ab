/**
 * migrate-keys decisions, pure: the mode a pair of keys means (GPT-Load's rules), how phase 1's
 * per-row states add up, and what the run may do with them — migrate, finish a partial change,
 * report it complete, or refuse with exact counts per table and per state.
 */
import { KeystoreError, type Localized } from '../../core/errors';
import { ROW_EMPTY, ROW_NO_HASH, ROW_PLAINTEXT, ROW_SOURCE, ROW_TARGET, ROW_UNKNOWN, ROW_WRONG_HASH } from './crypto';

/** enable: plaintext → key; disable: key → plaintext; change: key → another key. */
export type MigrationMode = 'enable' | 'disable' | 'change';
export type MigrationTable = 'api_keys' | 'request_logs';

/**
 * GPT-Load's flag rules: --to only enables, --from only disables, both change the key (and must
 * differ), neither is a usage error. '' means the side is plaintext.
 */
export function migrationMode(fromKey: string, toKey: string): MigrationMode {
  if (fromKey === '' && toKey === '') {
    throw new KeystoreError('usage', {
      en: 'give --to NEW to enable encryption, --from OLD to disable it, or both to change the key',
      zh: '请用 --to 新密钥 启用加密，用 --from 旧密钥 停用加密，或同时给出两者以更换密钥',
    });
  }
  if (fromKey === toKey) {
    throw new KeystoreError('usage', {
      en: 'the new key is the same as the old key: nothing would change',
      zh: '新密钥与旧密钥相同：不会有任何变化',
    });
  }
  return fromKey === '' ? 'enable' : toKey === '' ? 'disable' : 'change';
}

/** Phase 1's verdict on every row of one table. */
export interface TableCounts {
  total: number;
  /** No key at all (key_value and key_hash empty or NULL): nothing to migrate. */
  empty: number;
  /** In the state the --from side says: these rows are migrated. */
  source: number;
  /** Already as the --to side writes them. */
  target: number;
  /** Plaintext left by GPT-Load (SHA-256 hash) although neither side is plaintext (change mode): brought along. */
  plaintext: number;
  /** Plaintext left by GPT-Load with a NULL or empty key_hash (before v1.1.0): brought along. */
  noHash: number;
  /** Decrypts with one of the keys, key_hash wrong or missing: brought along (re-hashed). */
  wrongHash: number;
  /** Neither: another key or a corrupted value. Refused, or left as it is with --leave-undecryptable. */
  unknown: number;
  /** Up to 5 ids of unknown rows, to point at. */
  sampleIds: Array<number | string>;
  /** Up to 5 ids of leftover rows brought along. */
  leftoverIds: Array<number | string>;
}

export function emptyTableCounts(): TableCounts {
  return { total: 0, empty: 0, source: 0, target: 0, plaintext: 0, noHash: 0, wrongHash: 0, unknown: 0, sampleIds: [], leftoverIds: [] };
}

/** Leftover rows a run brings along to the target besides the source rows. */
export function leftovers(c: TableCounts): number {
  return c.plaintext + c.noHash + c.wrongHash;
}

/** Rows a run rewrites in a table. */
export function rewritten(c: TableCounts): number {
  return c.source + leftovers(c);
}

const SAMPLE_IDS = 5;

export function tallyStates(counts: TableCounts, states: Uint8Array, ids: ArrayLike<number | string>): void {
  counts.total += states.length;
  for (let i = 0; i < states.length; i++) {
    switch (states[i]) {
      case ROW_EMPTY:
        counts.empty++;
        break;
      case ROW_SOURCE:
        counts.source++;
        break;
      case ROW_TARGET:
        counts.target++;
        break;
      case ROW_PLAINTEXT:
      case ROW_NO_HASH:
      case ROW_WRONG_HASH:
        if (states[i] === ROW_PLAINTEXT) counts.plaintext++;
        else if (states[i] === ROW_NO_HASH) counts.noHash++;
        else counts.wrongHash++;
        if (counts.leftoverIds.length < SAMPLE_IDS) counts.leftoverIds.push(ids[i]);
        break;
      case ROW_UNKNOWN:
        counts.unknown++;
        if (counts.sampleIds.length < SAMPLE_IDS) counts.sampleIds.push(ids[i]);
        break;
    }
  }
}

export interface PhaseOneCounts {
  api_keys: TableCounts;
  /** null with --skip-logs. */
  request_logs: TableCounts | null;
}

export type Decision =
  /** Every keyed row is in the source state (or a leftover brought along). */
  | { action: 'migrate'; rows: number }
  /** Source and target rows only: an earlier partial change (or GPT-Load's own migrate-keys, which leaves request_logs behind). */
  | { action: 'finish'; rows: number; alreadyDone: number }
  /** Nothing in the source state: every keyed row is already as the target says (or there are none). */
  | { action: 'complete'; alreadyDone: number }
  | { action: 'refuse'; reason: Localized };

function tables(counts: PhaseOneCounts): Array<[MigrationTable, TableCounts]> {
  return counts.request_logs ? [['api_keys', counts.api_keys], ['request_logs', counts.request_logs]] : [['api_keys', counts.api_keys]];
}

/**
 * `leaveUndecryptable`: rows under neither key stay exactly as they are instead of refusing the run.
 * Leftovers GPT-Load's history leaves (plaintext, missing or wrong hashes) are always brought along.
 */
export function decide(mode: MigrationMode, counts: PhaseOneCounts, leaveUndecryptable = false): Decision {
  const all = tables(counts);
  if (!leaveUndecryptable && all.some(([, c]) => c.unknown > 0)) return { action: 'refuse', reason: refusal(mode, counts) };
  const source = all.reduce((sum, [, c]) => sum + rewritten(c), 0);
  const target = all.reduce((sum, [, c]) => sum + c.target, 0);
  if (source === 0) return { action: 'complete', alreadyDone: target };
  if (target === 0) return { action: 'migrate', rows: source };
  return { action: 'finish', rows: source, alreadyDone: target };
}

// ---------------------------------------------------------------------------------------------
// Messages. Counts are exact and per state; ids only of rows that block the run.

export function n(value: number): string {
  return value.toLocaleString('en-US');
}

const HEADLINE: Record<MigrationMode, Localized> = {
  enable: { en: 'enabling encryption refused', zh: '拒绝启用加密' },
  disable: { en: 'disabling encryption refused', zh: '拒绝停用加密' },
  change: { en: 'changing the key refused', zh: '拒绝更换密钥' },
};

function stateWords(mode: MigrationMode): Record<'source' | 'target' | 'plaintext' | 'noHash' | 'wrongHash' | 'unknown' | 'empty', Localized> {
  return {
    source:
      mode === 'enable'
        ? { en: 'plaintext (to encrypt)', zh: '明文（待加密）' }
        : { en: 'encrypted with the --from key', zh: '已用 --from 密钥加密' },
    target:
      mode === 'disable'
        ? { en: 'already plaintext', zh: '已是明文' }
        : { en: 'already encrypted with the --to key', zh: '已用 --to 密钥加密' },
    plaintext: { en: 'plaintext left by GPT-Load', zh: 'GPT-Load 遗留的明文' },
    noHash: { en: 'plaintext without key_hash', zh: '无 key_hash 的明文' },
    wrongHash: { en: 'decryptable with a wrong or missing key_hash', zh: '可解密但 key_hash 错误或缺失' },
    unknown:
      mode === 'enable'
        ? { en: 'encrypted with another key or not plaintext GPT-Load wrote (key_hash does not match)', zh: '已用其他密钥加密，或不是 GPT-Load 写入的明文（key_hash 不符）' }
        : mode === 'disable'
          ? { en: 'neither plaintext nor decryptable with the --from key', zh: '既非明文也无法用 --from 密钥解密' }
          : { en: 'decryptable with neither key', zh: '两个密钥都无法解密' },
    empty: { en: 'without a key', zh: '无密钥' },
  };
}

/** "api_keys: 12,000 rows — 11,000 encrypted with the --from key, 1,000 decryptable with neither key (e.g. ids 3, 7)". */
export function breakdown(mode: MigrationMode, table: MigrationTable, c: TableCounts): Localized {
  const words = stateWords(mode);
  const parts = (['source', 'target', 'plaintext', 'noHash', 'wrongHash', 'unknown', 'empty'] as const).filter((s) => c[s] > 0);
  // Chinese puts the state first and counts rows ("两个密钥都无法解密 2 行"), as the sentence reads.
  const list = (lang: 'en' | 'zh') => parts.map((s) => (lang === 'en' ? `${n(c[s])} ${words[s].en}` : `${words[s].zh} ${n(c[s])} 行`)).join(lang === 'en' ? ', ' : '，');
  const ids = c.sampleIds.length ? { en: ` (undecryptable, e.g. ids ${c.sampleIds.join(', ')})`, zh: `（无法解密的，例如 id ${c.sampleIds.join('、')}）` } : { en: '', zh: '' };
  if (c.total === 0) return { en: `${table}: no rows`, zh: `${table}：无数据` };
  return {
    en: `${table}: ${n(c.total)} rows — ${list('en')}${ids.en}`,
    zh: `${table}：共 ${n(c.total)} 行 — ${list('zh')}${ids.zh}`,
  };
}

function joinLines(lines: Localized[]): Localized {
  return { en: lines.map((l) => l.en).join('\n  '), zh: lines.map((l) => l.zh).join('\n  ') };
}

function refusal(mode: MigrationMode, counts: PhaseOneCounts): Localized {
  const head = HEADLINE[mode];
  const side: Localized =
    mode === 'enable'
      ? { en: 'are already encrypted with another key, or hold values GPT-Load did not write', zh: '已用其他密钥加密，或不是 GPT-Load 写入的值' }
      : { en: mode === 'disable' ? 'do not decrypt with the --from key' : 'decrypt with neither key', zh: mode === 'disable' ? '无法用 --from 密钥解密' : '两个密钥都无法解密' };
  const bad = tables(counts).filter(([, c]) => c.unknown > 0);
  const why: Localized = {
    en: bad.map(([table, c]) => `${n(c.unknown)} of ${n(c.total)} ${table} rows ${side.en}`).join('; '),
    zh: bad.map(([table, c]) => `${table} 共 ${n(c.total)} 行，其中 ${n(c.unknown)} 行${side.zh}`).join('；'),
  };
  const way: Localized = {
    en: 'list them with `keys list --undecryptable`; rerun with the key they are under, or with --leave-undecryptable to leave them exactly as they are',
    zh: '可用 `keys list --undecryptable` 列出；请用它们所用的密钥重新运行，或加 --leave-undecryptable 让它们保持原样',
  };
  const detail = joinLines(tables(counts).map(([table, c]) => breakdown(mode, table, c)));
  return {
    en: `${head.en}: ${why.en}. Nothing was written. ${way.en}.\n  ${detail.en}`,
    zh: `${head.zh}：${why.zh}。未写入任何内容。${way.zh}。\n  ${detail.zh}`,
  };
}

/**
 * GPT-Load refuses to enable encryption on data that is already encrypted; so do we, when no
 * interrupted run of ours explains why the data is already under the target key. (When the .env
 * names the target key too, a rerun has nothing to do: that is no refusal.)
 */
export function alreadyDoneRefusal(mode: MigrationMode, counts: PhaseOneCounts): Localized {
  const keys = counts.api_keys;
  const head = HEADLINE[mode];
  const why: Localized =
    mode === 'enable'
      ? {
          en: `${n(keys.target)} of ${n(keys.total)} api_keys rows are already encrypted — and the target key decrypts them: the data is already encrypted with this key`,
          zh: `api_keys 共 ${n(keys.total)} 行，其中 ${n(keys.target)} 行已加密 — 且目标密钥能解密它们：数据已用此密钥加密`,
        }
      : mode === 'change'
        ? {
            en: `none of the ${n(keys.total)} api_keys rows decrypts with the --from key — the --to key decrypts them all: the data is already under the new key`,
            zh: `api_keys 的 ${n(keys.total)} 行均无法用 --from 密钥解密 — 但 --to 密钥都能解密：数据已使用新密钥`,
          }
        : {
            en: `the ${n(keys.total)} api_keys rows are already plaintext: encryption is already disabled`,
            zh: `api_keys 的 ${n(keys.total)} 行已是明文：加密已停用`,
          };
  const tail: Localized = {
    en: ' Nothing was written; the .env names another key: set ENCRYPTION_KEY there to match the data.',
    zh: ' 未写入任何内容；.env 中是另一个密钥：请把其中的 ENCRYPTION_KEY 设为与数据一致。',
  };
  const detail = joinLines(tables(counts).map(([table, c]) => breakdown(mode, table, c)));
  return { en: `${head.en}: ${why.en}.${tail.en}\n  ${detail.en}`, zh: `${head.zh}：${why.zh}。${tail.zh}\n  ${detail.zh}` };
}
