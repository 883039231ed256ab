/**
 * Key pages for the daemon: the same page as server/keystore/keys.ts listKeyPage, but group names
 * come from `SELECT id, name FROM groups` (cached per store for a few seconds) instead of
 * listGroups' GROUP BY over every key, which on a million keys costs a hundred times the page
 * itself. Masking and decrypt failures are listKeyPage's.
 * TODO(lead): fold into listKeyPage once it stops calling listGroups per page, then delete this file.
 */
import { DecryptError, type KeyCodec } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import { maskSecret } from '../core/secrets';
import type { KeyPage, KeyPageQuery } from '../keystore/keys';
import type { Store } from '../store/connect';
import { listKeys } from '../store/rows';

const NAMES_TTL_MS = 5000;
const names = new WeakMap<Store, { at: number; byId: Map<number, string> }>();

async function groupNames(store: Store): Promise<Map<number, string>> {
  const hit = names.get(store);
  if (hit && Date.now() - hit.at < NAMES_TTL_MS) return hit.byId;
  const rows = await store.query<{ id: number | string; name: string }>(`SELECT id, name FROM ${store.q('groups')}`);
  const byId = new Map(rows.map((r) => [Number(r.id), String(r.name ?? '')]));
  names.set(store, { at: Date.now(), byId });
  return byId;
}

export async function keyPage(store: Store, codec: KeyCodec, query: KeyPageQuery): Promise<KeyPage> {
  const byId = await groupNames(store);
  let groupId = query.groupId;
  if (query.groupName !== undefined) {
    const found = [...byId].find(([, name]) => name === query.groupName);
    if (!found) {
      const all = [...byId.values()];
      throw new KeystoreError('usage', {
        en: `no group named '${query.groupName}' (groups: ${all.join(', ') || 'none'})`,
        zh: `没有名为 '${query.groupName}' 的分组（现有分组：${all.join('、') || '无'}）`,
      });
    }
    groupId = found[0];
  }
  const { rows, nextAfterId } = await listKeys(store, {
    groupId,
    status: query.status,
    keyHash: query.value !== undefined ? codec.hash(query.value) : undefined,
    limit: query.limit,
    afterId: query.afterId,
  });
  return {
    items: rows.map((row) => {
      let masked: string;
      try {
        masked = maskSecret(codec.decrypt(row.key_value, row.id));
      } catch (err) {
        if (!(err instanceof DecryptError)) throw err;
        masked = '(undecryptable)';
      }
      return {
        id: row.id,
        groupId: row.group_id,
        groupName: byId.get(row.group_id) ?? `#${row.group_id}`,
        status: row.status,
        masked,
        notes: row.notes,
        requestCount: row.request_count,
        failureCount: row.failure_count,
        lastUsedAt: row.last_used_at,
      };
    }),
    nextAfterId,
  };
}
