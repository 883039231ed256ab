/**
 * Reading the key store as GPT-Load's UI shows it: pages of keys (keyset, never OFFSET), masked,
 * found by exact value through key_hash (as GPT-Load's search does), and the one reveal.
 */
import { derivedKeyOf, sha256Hex, type KeyCodec } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import { maskSecret } from '../core/secrets';
import type { Store } from '../store/connect';
import { listKeys, type KeyFilter, type KeyRow } from '../store/rows';
import type { KeyListItem, KeyPage, KeyStatus } from '../../shared/types';
import { looksEncrypted, MigrationCrypto, ROW_UNKNOWN } from './migrate/crypto';

// Pages cross the wire as they are (shared/types.ts).
export type { KeyListItem, KeyPage, KeyStatus };

export interface KeyPageQuery {
  groupName?: string;
  groupId?: number;
  status?: KeyStatus;
  /** Find by exact plaintext value: matched through its key_hash, so nothing is decrypted to search. */
  value?: string;
  limit: number;
  afterId?: number;
  /** Only rows the configured key cannot open — what status counts as undecryptable. */
  undecryptable?: boolean;
}

/** What masked keys show for a row the configured key cannot open. */
export const UNDECRYPTABLE = '(undecryptable)';

/**
 * Group names by id from `groups` alone. Not listGroups: its per-status counts scan every key,
 * which on a million keys costs a hundred times the page itself.
 */
export async function groupNamesById(store: Store): Promise<Map<number, string>> {
  const rows = await store.query<{ id: number | string; name: unknown }>(`SELECT id, name FROM ${store.q('groups')} ORDER BY sort, id`);
  return new Map(rows.map((r) => [Number(r.id), r.name === null || r.name === undefined ? '' : String(r.name)]));
}

function groupIdByName(names: Map<number, string>, name: string): number {
  for (const [id, groupName] of names) if (groupName === name) return id;
  const all = [...names.values()];
  throw new KeystoreError('usage', {
    en: `no group named '${name}' (groups: ${all.join(', ') || 'none'})`,
    zh: `没有名为 '${name}' 的分组（现有分组：${all.join('、') || '无'}）`,
  });
}

type StoredKey = Pick<KeyRow, 'id' | 'key_value' | 'key_hash'>;

/**
 * The plaintexts of stored rows, each null where the configured key cannot open it. A row whose
 * key_hash is SHA-256 of its value is plaintext whatever the key (a migration GPT-Load left half
 * done), and so is a row without key_hash whose value is not shaped like a ciphertext (written
 * before v1.1.0); with encryption disabled, anything else is encrypted under a key we do not have.
 */
export function plaintextsOf(rows: ReadonlyArray<Pick<StoredKey, 'key_value' | 'key_hash'>>, codec: KeyCodec): Array<string | null> {
  const storedPlain = (row: Pick<StoredKey, 'key_value' | 'key_hash'>) =>
    row.key_value !== '' && (sha256Hex(row.key_value) === row.key_hash || (row.key_hash === '' && !looksEncrypted(row.key_value)));
  if (!codec.enabled) return rows.map((row) => (row.key_hash === '' || storedPlain(row) ? row.key_value : null));
  return codec.decryptMany(rows.map((row) => row.key_value)).map((plain, i) => plain ?? (storedPlain(rows[i]) ? rows[i].key_value : null));
}

/**
 * Masks of values the codec opened, by row id, each with the stored value it was made from (a
 * ciphertext: its nonce makes it unique, and it changes whenever the row's key does), so a changed row, or
 * the same id in another database under the same key, is a miss. The explorer asks for the same pages
 * again and again, and decrypting a page costs more than reading it. Masks are what the UI shows
 * anyway; kept per codec, so they go when the daemon forgets the key. By id, not by stored value:
 * hashing a fresh 120-character string for every row cost a third of what opening it costs.
 */
const MASKS_PER_GENERATION = 10_000;

interface CachedMask {
  storedValue: string;
  masked: string;
}

/**
 * Two generations of masks: lookups promote into the newer one; when it is full it becomes the older
 * one and the older is dropped, so at most 2 × MASKS_PER_GENERATION are kept and nothing is ever
 * evicted entry by entry (a Map emptied from its front gets slower to iterate with every delete).
 */
class MaskCache {
  private recent = new Map<number, CachedMask>();
  private older = new Map<number, CachedMask>();

  get(id: number, storedValue: string): string | undefined {
    let hit = this.recent.get(id);
    if (hit === undefined) {
      hit = this.older.get(id);
      if (hit !== undefined) this.keep(id, hit);
    }
    return hit?.storedValue === storedValue ? hit.masked : undefined;
  }

  set(id: number, storedValue: string, masked: string): void {
    this.keep(id, { storedValue, masked });
  }

  private keep(id: number, mask: CachedMask): void {
    if (this.recent.size >= MASKS_PER_GENERATION) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(id, mask);
  }
}

const masksByCodec = new WeakMap<KeyCodec, MaskCache>();

/** Rows' keys as the UI may show them: masked (maskSecret), or UNDECRYPTABLE. Never a whole key. */
function maskStoredKeys(rows: readonly StoredKey[], codec: KeyCodec): string[] {
  let masks = masksByCodec.get(codec);
  if (!masks) masksByCodec.set(codec, (masks = new MaskCache()));
  const shown = rows.map((row) => (codec.enabled ? masks.get(row.id, row.key_value) : undefined));
  const missing = rows.filter((_, i) => shown[i] === undefined);
  const plains = plaintextsOf(missing, codec);
  let next = 0;
  return shown.map((cached, i) => {
    if (cached !== undefined) return cached;
    const plain = plains[next++];
    if (plain === null) return UNDECRYPTABLE;
    const masked = maskSecret(plain);
    // Only ciphertexts: a value stored in plaintext is cheap to mask and is not kept in memory.
    if (plain !== rows[i].key_value) masks.set(rows[i].id, rows[i].key_value, masked);
    return masked;
  });
}

function toItems(rows: readonly KeyRow[], codec: KeyCodec, names: Map<number, string>): KeyListItem[] {
  const masked = maskStoredKeys(rows, codec);
  return rows.map((row, i) => ({
    id: row.id,
    groupId: row.group_id,
    groupName: names.get(row.group_id) ?? `#${row.group_id}`,
    status: row.status,
    masked: masked[i],
    notes: row.notes,
    requestCount: row.request_count,
    failureCount: row.failure_count,
    lastUsedAt: row.last_used_at,
  }));
}

export interface KeyReadOptions {
  /** Group names by id when the caller already has them (see groupNamesById); read afresh otherwise. */
  groupNames?: Map<number, string>;
}

/** Rows read per batch while looking for undecryptable ones. */
const SCAN_BATCH = 2000;

/**
 * A page of the rows status calls undecryptable (judged as status judges them: a run from the
 * configured key to none, ROW_UNKNOWN), scanned in keyset batches. Their key cannot be shown: the
 * stored value is, masked, so the operator can match the row with a backup or another database.
 */
async function undecryptablePage(store: Store, codec: KeyCodec, filter: { groupId?: number; status?: KeyStatus }, query: KeyPageQuery, names: Map<number, string>): Promise<KeyPage> {
  const judge = new MigrationCrypto({ source: derivedKeyOf(codec), target: null });
  const items: KeyListItem[] = [];
  let after = query.afterId;
  for (;;) {
    const { rows, nextAfterId } = await listKeys(store, { ...filter, limit: SCAN_BATCH, afterId: after });
    const codes = judge.classify({ values: rows.map((r) => r.key_value), hashes: rows.map((r) => r.key_hash) });
    for (let i = 0; i < rows.length; i++) {
      if (codes[i] !== ROW_UNKNOWN) continue;
      const [item] = toItems([rows[i]], codec, names);
      items.push({ ...item, masked: `${UNDECRYPTABLE} ${maskSecret(rows[i].key_value)}` });
      if (items.length === query.limit) return { items, nextAfterId: i < rows.length - 1 || nextAfterId !== null ? rows[i].id : null };
    }
    if (nextAfterId === null) return { items, nextAfterId: null };
    after = nextAfterId;
  }
}

export async function listKeyPage(store: Store, codec: KeyCodec, query: KeyPageQuery, options: KeyReadOptions = {}): Promise<KeyPage> {
  const names = options.groupNames ?? (await groupNamesById(store));
  const groupId = query.groupName !== undefined ? groupIdByName(names, query.groupName) : query.groupId;
  if (query.undecryptable) return undecryptablePage(store, codec, { groupId, status: query.status }, query, names);
  const { rows, nextAfterId } = await listKeys(store, {
    groupId,
    status: query.status,
    keyHash: query.value !== undefined ? codec.hash(query.value) : undefined,
    limit: query.limit,
    afterId: query.afterId,
  });
  return { items: toItems(rows, codec, names), nextAfterId };
}

export interface FindKeysQuery {
  /** The API key itself, as the operator has it. */
  value: string;
  groupName?: string;
  status?: KeyStatus;
}

const FIND_PAGE = 100;

/**
 * Every row holding `value`, found through key_hash as GPT-Load's own search does (nothing is
 * decrypted to search). With encryption enabled it also looks for SHA-256(value), so a row still
 * stored in plaintext — which GPT-Load's search misses — is found too. One key may sit in several
 * groups, hence a list.
 */
export async function findKeys(store: Store, codec: KeyCodec, query: FindKeysQuery, options: KeyReadOptions = {}): Promise<KeyListItem[]> {
  if (query.value === '') return [];
  const names = options.groupNames ?? (await groupNamesById(store));
  const groupId = query.groupName !== undefined ? groupIdByName(names, query.groupName) : undefined;
  const hashes = [...new Set([codec.hash(query.value), sha256Hex(query.value)])];
  const rows: KeyRow[] = [];
  for (const keyHash of hashes) {
    const filter: KeyFilter = { groupId, status: query.status, keyHash };
    let afterId: number | null = 0;
    while (afterId !== null) {
      const page: { rows: KeyRow[]; nextAfterId: number | null } = await listKeys(store, { ...filter, limit: FIND_PAGE, afterId });
      rows.push(...page.rows);
      afterId = page.nextAfterId;
    }
  }
  // A row whose hash matches but whose value no longer opens is still this key's row (damaged: it
  // shows as undecryptable); one that opens to another value is a hash collision and is dropped.
  const unique = [...new Map(rows.map((row) => [row.id, row])).values()];
  const plains = plaintextsOf(unique, codec);
  const found = unique.filter((_, i) => plains[i] === null || plains[i] === query.value).sort((a, b) => a.id - b.id);
  return toItems(found, codec, names);
}

/** The only read that returns a whole plaintext key: for copy/reveal, one key at a time. */
export async function revealKey(store: Store, codec: KeyCodec, id: number): Promise<string> {
  const { rows } = await listKeys(store, { afterId: id - 1, limit: 1 });
  const row = rows[0];
  if (!row || row.id !== id) throw new KeystoreError('usage', { en: `no key with id ${id}`, zh: `没有 id 为 ${id} 的密钥` });
  const [plain] = plaintextsOf([row], codec);
  if (plain !== null) return plain;
  throw new KeystoreError(
    'wrong-key',
    codec.enabled
      ? { en: `row ${id}: the configured ENCRYPTION_KEY does not decrypt it (wrong key or corrupted value)`, zh: `第 ${id} 行无法用当前 ENCRYPTION_KEY 解密（密钥错误或数据损坏）` }
      : { en: `row ${id} is encrypted, but no ENCRYPTION_KEY is configured`, zh: `第 ${id} 行已加密，但未配置 ENCRYPTION_KEY` },
  );
}
