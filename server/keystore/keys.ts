/**
 * Reading the key store as GPT-Load's UI shows it: pages of keys (keyset, never OFFSET), masked,
 * found by exact value through key_hash (as GPT-Load's search does), and the one reveal.
 */
import { DecryptError, type KeyCodec } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import { maskSecret } from '../core/secrets';
import type { Store } from '../store/connect';
import { listGroups, listKeys, type KeyRow } from '../store/rows';

export type KeyStatus = 'active' | 'invalid';

export interface KeyListItem {
  id: number;
  groupId: number;
  groupName: string;
  status: string;
  /** Masked key, "(undecryptable)" when the configured key does not open it. Never the whole key. */
  masked: string;
  notes: string;
  requestCount: number;
  failureCount: number;
  lastUsedAt: string | null;
}

export interface KeyPage {
  items: KeyListItem[];
  /** Pass as `afterId` for the next page; null at the end. */
  nextAfterId: number | null;
}

export interface KeyPageQuery {
  groupName?: string;
  groupId?: number;
  status?: KeyStatus;
  /** Find by exact plaintext value: matched through its key_hash, so nothing is decrypted to search. */
  value?: string;
  limit: number;
  afterId?: number;
}

async function groupIdByName(store: Store, name: string): Promise<{ id: number; names: Map<number, string> }> {
  const groups = await listGroups(store);
  const group = groups.find((g) => g.name === name);
  if (!group) {
    throw new KeystoreError('usage', { en: `no group named '${name}' (groups: ${groups.map((g) => g.name).join(', ') || 'none'})`, zh: `没有名为 '${name}' 的分组（现有分组：${groups.map((g) => g.name).join('、') || '无'}）` });
  }
  return { id: group.id, names: new Map(groups.map((g) => [g.id, g.name])) };
}

function maskRow(row: KeyRow, codec: KeyCodec): string {
  try {
    return maskSecret(codec.decrypt(row.key_value, row.id));
  } catch (err) {
    if (err instanceof DecryptError) return '(undecryptable)';
    throw err;
  }
}

export async function listKeyPage(store: Store, codec: KeyCodec, query: KeyPageQuery): Promise<KeyPage> {
  let groupId = query.groupId;
  let names: Map<number, string>;
  if (query.groupName !== undefined) ({ id: groupId, names } = await groupIdByName(store, query.groupName));
  else names = new Map((await listGroups(store)).map((g) => [g.id, g.name]));
  const { rows, nextAfterId } = await listKeys(store, {
    groupId,
    status: query.status,
    keyHash: query.value !== undefined ? codec.hash(query.value) : undefined,
    limit: query.limit,
    afterId: query.afterId,
  });
  return {
    items: rows.map((row) => ({
      id: row.id,
      groupId: row.group_id,
      groupName: names.get(row.group_id) ?? `#${row.group_id}`,
      status: row.status,
      masked: maskRow(row, codec),
      notes: row.notes,
      requestCount: row.request_count,
      failureCount: row.failure_count,
      lastUsedAt: row.last_used_at,
    })),
    nextAfterId,
  };
}

/** The only read that returns a whole plaintext key: for copy/reveal, one key at a time. */
export async function revealKey(store: Store, codec: KeyCodec, id: number): Promise<string> {
  const { rows } = await listKeys(store, { afterId: id - 1, limit: 1 });
  const row = rows[0];
  if (!row || row.id !== id) throw new KeystoreError('usage', { en: `no key with id ${id}`, zh: `没有 id 为 ${id} 的密钥` });
  try {
    return codec.decrypt(row.key_value, row.id);
  } catch (err) {
    if (err instanceof DecryptError) throw new KeystoreError('wrong-key', { en: err.message, zh: `第 ${id} 行无法用当前 ENCRYPTION_KEY 解密` });
    throw err;
  }
}
