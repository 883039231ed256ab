/**
 * GPT-Load's stored proxy keys: `system_settings.proxy_keys` (the global list; GPT-Load copied
 * AUTH_KEY there on first start) and each `groups.proxy_keys`, both comma-separated plaintext.
 * Read, judged and edited exactly as GPT-Load splits them (utils.SplitAndTrim: split at ",", Go's
 * strings.TrimSpace per entry, empty entries skipped). Results carry counts, group ids and names,
 * masked values — never a proxy key itself.
 *
 * GPT-Load loads both lists into memory (and its Redis-synced cache) when it starts, so an edit
 * here takes effect when every GPT-Load instance on this database has been restarted.
 */
import { sha256Hex } from '../core/crypto';
import { KeystoreError, throwIfCancelled, type Localized } from '../core/errors';
import { assessSecret, goLength, maskSecret, type SecretWarning } from '../core/secrets';
import type { SqlRunner, Store } from '../store/connect';
import type { Deployment } from './deployment';
import { restartHint, type RestartHint } from './migrate/env';
import type { OperationContext } from './operation';
import { checkService, describeService, type ServiceCheck } from './service';

/** Go's unicode.IsSpace set: unlike String.prototype.trim, U+0085 is space and U+FEFF is not. */
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

/** Go's strings.TrimSpace. */
export function goTrimSpace(text: string): string {
  return text.replace(GO_TRIM, '');
}

/** Where a list of proxy keys is stored. */
type ProxyKeyPlace = { kind: 'global' } | { kind: 'group'; id: number; name: string };

export interface ProxyKeyList {
  place: ProxyKeyPlace;
  /** The stored comma-separated text (a secret). */
  text: string;
}

/** One entry of a list as GPT-Load reads it. */
export interface ProxyKeyEntry {
  place: ProxyKeyPlace;
  /** 1-based among the list's comma-separated parts, empty ones counted: the dashboard's "#n". */
  position: number;
  /** Trimmed (a secret). */
  value: string;
}

/** The entries of lists as GPT-Load reads them: split at ",", trimmed, empty ones skipped. */
export function proxyKeyEntries(lists: readonly ProxyKeyList[]): ProxyKeyEntry[] {
  return lists.flatMap(({ place, text }) =>
    text.split(',').flatMap((part, i) => {
      const value = goTrimSpace(part);
      return value === '' ? [] : [{ place, position: i + 1, value }];
    }),
  );
}

/**
 * `text` without the entries that read as `value`; every other part is kept as written, in its
 * order (spacing and empty parts included: GPT-Load ignores them, and the operator wrote them).
 */
export function withoutProxyKey(text: string, value: string): { text: string; removed: number } {
  const parts = text.split(',');
  const kept = parts.filter((part) => goTrimSpace(part) !== value);
  return { text: kept.join(','), removed: parts.length - kept.length };
}

/**
 * The global list (when its row exists), then every group with a non-empty list, by id — the
 * dashboard's own query. `forUpdate` locks the rows read for the transaction `sql` belongs to
 * (SQLite's BEGIN IMMEDIATE already holds the write lock).
 */
async function readProxyKeyLists(sql: SqlRunner, forUpdate = false): Promise<ProxyKeyList[]> {
  const lock = forUpdate && sql.kind !== 'sqlite' ? ' FOR UPDATE' : '';
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const lists: ProxyKeyList[] = [];
  const [setting] = await sql.query(`SELECT setting_value FROM system_settings WHERE setting_key = 'proxy_keys'${lock}`);
  if (setting !== undefined) lists.push({ place: { kind: 'global' }, text: text(setting.setting_value) });
  const groups = await sql.query(`SELECT id, name, proxy_keys FROM ${sql.q('groups')} WHERE proxy_keys IS NOT NULL AND proxy_keys <> '' ORDER BY id${lock}`);
  for (const g of groups) lists.push({ place: { kind: 'group', id: Number(g.id), name: text(g.name) }, text: text(g.proxy_keys) });
  return lists;
}

/** Where one value is stored. */
export interface ProxyKeyUses {
  /** Its entries in system_settings.proxy_keys (0: not there). */
  settings: number;
  /** Groups whose proxy_keys hold it, by id. */
  groups: Array<{ id: number; name: string }>;
}

function usesIn(entries: readonly ProxyKeyEntry[], value: string): ProxyKeyUses {
  const uses: ProxyKeyUses = { settings: 0, groups: [] };
  for (const { place, value: v } of entries) {
    if (v !== value) continue;
    if (place.kind === 'global') uses.settings++;
    else if (!uses.groups.some((g) => g.id === place.id)) uses.groups.push({ id: place.id, name: place.name });
  }
  return uses;
}

export function isUsed(uses: ProxyKeyUses): boolean {
  return uses.settings > 0 || uses.groups.length > 0;
}

/**
 * The value to look for as GPT-Load would hold it: trimmed. Empty, or with a comma (no stored
 * entry can hold one), it is a usage error — the message never quotes it.
 */
export function proxyKeyValue(raw: string): string {
  const value = goTrimSpace(raw);
  if (value === '') throw new KeystoreError('usage', { en: 'the proxy key is empty', zh: '代理密钥为空' });
  if (value.includes(',')) {
    throw new KeystoreError('usage', {
      en: 'a proxy key cannot contain a comma: GPT-Load splits its proxy key lists at commas, so no stored key holds one',
      zh: '代理密钥不能包含逗号：GPT-Load 以逗号分隔代理密钥列表，因此不存在含逗号的密钥',
    });
  }
  return value;
}

/** Where `value` is stored (read only). */
export async function findProxyKeyUses(store: Store, value: string): Promise<ProxyKeyUses> {
  const wanted = proxyKeyValue(value);
  return usesIn(proxyKeyEntries(await readProxyKeyLists(store)), wanted);
}

// ---------------------------------------------------------------------------------------------
// list

/** An entry by the name GPT-Load's dashboard gives it: "Global proxy key #2", "Group proxy key [openai] #1". */
function dashboardName({ place, position }: ProxyKeyEntry): Localized {
  return place.kind === 'global'
    ? { en: `Global proxy key #${position}`, zh: `全局代理密钥 #${position}` }
    : { en: `Group proxy key [${place.name}] #${position}`, zh: `分组代理密钥 [${place.name}] #${position}` };
}

/** One distinct stored proxy key, judged: its mask and digest, never the key (callers may keep it). */
export interface StoredProxyKey {
  /** maskSecret of the key. */
  masked: string;
  /** Bytes, as GPT-Load counts. */
  length: number;
  /** SHA-256 of the key: matched against an AUTH_KEY later (authKeyMatch) without keeping either. */
  digest: string;
  uses: ProxyKeyUses;
  /** Its entries by their dashboard names, in list order. */
  places: Localized[];
  /** GPT-Load's dashboard warnings for it. */
  warnings: SecretWarning[];
  /** Stored in more than one place: revoking it in one leaves it valid in the others. */
  reused: boolean;
}

export interface ProxyKeySummary extends StoredProxyKey {
  /** It is AUTH_KEY of the `.env`: whoever holds this proxy key can log into the admin UI. */
  isAuthKey: boolean;
}

/** Every distinct stored proxy key, in order of first appearance (global list first), judged. */
export async function readStoredProxyKeys(store: Store): Promise<StoredProxyKey[]> {
  const entries = proxyKeyEntries(await readProxyKeyLists(store));
  const values = [...new Set(entries.map((e) => e.value))];
  return values.map((value) => {
    const uses = usesIn(entries, value);
    return {
      masked: maskSecret(value),
      length: goLength(value),
      digest: sha256Hex(value),
      uses,
      places: entries.filter((e) => e.value === value).map(dashboardName),
      warnings: assessSecret(value, 'proxy key'),
      reused: uses.settings + uses.groups.length > 1,
    };
  });
}

/** Whether a stored key is `authKey` as the .env holds it, trimmed as GPT-Load trims list entries. */
export function authKeyMatch(authKey: string): (key: Pick<StoredProxyKey, 'digest'>) => boolean {
  const value = goTrimSpace(authKey);
  const digest = value === '' ? null : sha256Hex(value);
  return (key) => key.digest === digest;
}

/** Every distinct stored proxy key, judged, and whether it is the .env's AUTH_KEY. */
export async function listProxyKeys(store: Store, params: { authKey: string }): Promise<ProxyKeySummary[]> {
  const isAuthKey = authKeyMatch(params.authKey);
  return (await readStoredProxyKeys(store)).map((key) => ({ ...key, isAuthKey: isAuthKey(key) }));
}

// ---------------------------------------------------------------------------------------------
// remove

export interface ProxyKeyRemoval extends ProxyKeyUses {
  /** The global list holds no key any more: GPT-Load then accepts only group proxy keys. */
  globalEmptied: boolean;
  /** Checked before the change (GPT-Load answering /health, other database sessions). */
  service: ServiceCheck;
  /** Something was removed: GPT-Load keeps its loaded copy until restarted. */
  restartRequired: boolean;
  restart: RestartHint;
  /** What to do next. */
  notes: Localized[];
}

/**
 * Removes every entry reading as `value` from the global list and from every group's list, in one
 * transaction (rows locked on MySQL/PostgreSQL, the write lock taken on SQLite), keeping the other
 * entries as written and in order. Never refuses: GPT-Load only reads these lists when it starts,
 * so a running GPT-Load is reported (and told to restart), not a reason to stop. updated_at is left
 * alone, as GPT-Load's own migrate-keys leaves it.
 */
export async function removeProxyKey(store: Store, params: { value: string; deployment: Deployment }, context: OperationContext = {}): Promise<ProxyKeyRemoval> {
  const value = proxyKeyValue(params.value);
  const service = await checkService(store, params.deployment);
  throwIfCancelled(context.cancellation);
  const changed = await store.transaction(async (tx) => {
    const removed: Array<{ list: ProxyKeyList; text: string; count: number }> = [];
    for (const list of await readProxyKeyLists(tx, true)) {
      const edit = withoutProxyKey(list.text, value);
      if (edit.removed > 0) removed.push({ list, text: edit.text, count: edit.removed });
    }
    for (const { list, text } of removed) {
      if (list.place.kind === 'global') await tx.execute(`UPDATE system_settings SET setting_value = ${tx.p(1)} WHERE setting_key = 'proxy_keys'`, [text]);
      else await tx.execute(`UPDATE ${tx.q('groups')} SET proxy_keys = ${tx.p(1)} WHERE id = ${tx.p(2)}`, [text, list.place.id]);
    }
    return removed;
  });
  const global = changed.find((c) => c.list.place.kind === 'global');
  const result: ProxyKeyRemoval = {
    settings: global?.count ?? 0,
    groups: changed.flatMap(({ list: { place } }) => (place.kind === 'group' ? [{ id: place.id, name: place.name }] : [])),
    globalEmptied: global !== undefined && proxyKeyEntries([{ place: global.list.place, text: global.text }]).length === 0,
    service,
    restartRequired: changed.length > 0,
    restart: restartHint(params.deployment.envDir),
    notes: [],
  };
  result.notes = removalNotes(result);
  return result;
}

function removalNotes(r: ProxyKeyRemoval): Localized[] {
  if (!r.restartRequired) return [];
  const notes: Localized[] = [];
  const command = r.restart.command ? { en: `: ${r.restart.command}`, zh: `：${r.restart.command}` } : { en: '', zh: '' };
  if (r.service.running) {
    const found = describeService(r.service);
    notes.push({
      en:
        `GPT-Load looks running (${found.en}) and keeps accepting the removed key until it restarts: restart every GPT-Load instance on this database now${command.en}. ` +
        `Until then, saving its settings or group pages from a form opened before this change would write the key back.`,
      zh:
        `GPT-Load 似乎正在运行（${found.zh}），重启前仍会接受已删除的密钥：请立即重启使用此数据库的所有 GPT-Load 实例${command.zh}。` +
        `在此之前，若从本次修改前打开的页面保存系统设置或分组，会把该密钥写回。`,
    });
  } else {
    notes.push({
      en: `GPT-Load reads proxy keys when it starts: the change takes effect at its next start${command.en}.`,
      zh: `GPT-Load 在启动时读取代理密钥：修改将在下次启动时生效${command.zh}。`,
    });
  }
  if (r.globalEmptied) {
    notes.push({
      en: 'The global proxy keys are now empty: clients need a group proxy key until you add a new global one in GPT-Load\'s System Settings (its form requires one when saved).',
      zh: '全局代理密钥现已为空：在 GPT-Load 系统设置中添加新的全局密钥之前，客户端需要使用分组代理密钥（保存该表单时必须填写）。',
    });
  }
  return notes;
}
