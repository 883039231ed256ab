/**
 * Fills an empty GPT-Load schema with data shaped like GPT-Load's own: groups of several channel types
 * (one aggregate), keys encrypted exactly as GPT-Load stores them, request logs referencing those keys,
 * and system settings including proxy_keys. Used by tests, benchmarks and the example deployment.
 * Plaintexts and row layout are reproducible from `seed`; ciphertexts are not (GCM nonces are random,
 * as in GPT-Load), except `vectorRows`, which are written verbatim.
 */
import { codecFor } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import type { SqlRunner, Store } from './connect';
import { countRows } from './rows';

export interface VectorRow {
  plaintext: string;
  /** Stored verbatim in api_keys.key_value (a GPT-Load ciphertext, or the plaintext when encryption is off). */
  ciphertext: string;
  hash: string;
}

export interface SeedOptions {
  keys: number;
  logs: number;
  /** ENCRYPTION_KEY as written in .env; '' stores plaintext keys (GPT-Load with encryption disabled). */
  encryptionKey: string;
  /** PRNG seed (default 1): same seed, same plaintexts, ids, groups, statuses and timestamps. */
  seed?: number;
  /** Rows added after the generated keys, in the first group, exactly as given. */
  vectorRows?: readonly VectorRow[];
  /** The AUTH_KEY GPT-Load copied into system_settings.proxy_keys on first start. */
  authKey?: string;
  /** Keep every id → plaintext (default true; turn off for millions of keys). */
  collectPlaintexts?: boolean;
  onProgress?: (table: 'api_keys' | 'request_logs', done: number, total: number) => void;
}

interface SeededGroup {
  id: number;
  name: string;
  display_name: string;
  channel_type: string;
  group_type: string;
  active: number;
  invalid: number;
}

export interface SeedResult {
  /** api_keys.id → plaintext API key (empty when collectPlaintexts is false). */
  plaintexts: Map<number, string>;
  groups: SeededGroup[];
  keys: number;
  logs: number;
  authKey: string;
}

/** mulberry32: tiny, fast and good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

interface GroupSpec {
  name: string;
  display_name: string;
  channel_type: 'openai' | 'gemini' | 'anthropic';
  group_type: 'standard' | 'aggregate';
  upstream: string;
  test_model: string;
  /** Share of the generated keys (aggregate groups hold none). */
  share: number;
  keyPrefix: string;
  keyLength: number;
  keySuffix: string;
  models: string[];
}

const GROUPS: GroupSpec[] = [
  { name: 'openai', display_name: 'OpenAI', channel_type: 'openai', group_type: 'standard', upstream: 'https://api.openai.com', test_model: 'gpt-4o-mini', share: 0.4, keyPrefix: 'sk-proj-', keyLength: 64, keySuffix: '', models: ['gpt-4o-mini', 'gpt-4o'] },
  { name: 'gemini', display_name: 'Gemini', channel_type: 'gemini', group_type: 'standard', upstream: 'https://generativelanguage.googleapis.com', test_model: 'gemini-2.0-flash', share: 0.25, keyPrefix: 'AIzaSy', keyLength: 33, keySuffix: '', models: ['gemini-2.0-flash', 'gemini-2.5-pro'] },
  { name: 'claude', display_name: 'Anthropic Claude', channel_type: 'anthropic', group_type: 'standard', upstream: 'https://api.anthropic.com', test_model: 'claude-3-5-haiku-latest', share: 0.2, keyPrefix: 'sk-ant-api03-', keyLength: 93, keySuffix: 'AA', models: ['claude-3-5-haiku-latest', 'claude-sonnet-4-0'] },
  { name: 'openai-backup', display_name: 'OpenAI 备用', channel_type: 'openai', group_type: 'standard', upstream: 'https://api.openai.com', test_model: 'gpt-4o-mini', share: 0.15, keyPrefix: 'sk-', keyLength: 48, keySuffix: '', models: ['gpt-4o-mini'] },
  { name: 'openai-all', display_name: 'OpenAI (all)', channel_type: 'openai', group_type: 'aggregate', upstream: '', test_model: 'gpt-4o-mini', share: 0, keyPrefix: '', keyLength: 0, keySuffix: '', models: [] },
];
/** Aggregate membership: [aggregate index, member index, weight]. */
const SUB_GROUPS: Array<[number, number, number]> = [
  [4, 0, 70],
  [4, 3, 30],
];

const BASE_TIME = Date.UTC(2025, 5, 1, 8, 0, 0);
const DAY = 86_400_000;
/** Rows generated per transaction step: bounds memory for millions of rows. */
const CHUNK = 10_000;
/** Keys remembered for request logs to reference (a reservoir, so memory stays bounded). */
const LOG_KEY_POOL = 10_000;

/** A datetime value as GPT-Load's driver writes it on each engine. */
function timeValue(kind: Store['kind'], ms: number): string {
  const iso = new Date(ms).toISOString();
  if (kind === 'postgres') return iso;
  const naive = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
  return kind === 'sqlite' ? `${naive}+00:00` : naive;
}

async function insertRows(tx: SqlRunner, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const perStatement = Math.max(1, Math.floor(tx.maxParams / columns.length));
  const head = `INSERT INTO ${tx.q(table)} (${columns.map((c) => tx.q(c)).join(', ')}) VALUES `;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const values = chunk.map((_, r) => `(${tx.params(columns.length, r * columns.length)})`).join(', ');
    await tx.execute(head + values, chunk.flat());
  }
}

export async function fillGptLoadData(store: Store, options: SeedOptions): Promise<SeedResult> {
  const random = prng(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const token = (length: number) => {
    // Five 6-bit characters per draw: key generation dominates seeding a million rows.
    let text = '';
    while (text.length < length) {
      let bits = Math.floor(random() * 0x40000000);
      for (let k = 0; k < 5 && text.length < length; k++, bits >>>= 6) text += KEY_CHARS[bits & 63];
    }
    return text;
  };
  const codec = codecFor(options.encryptionKey);
  const kind = store.kind;
  const bool = (b: boolean) => (kind === 'postgres' ? b : b ? 1 : 0);
  const time = (ms: number) => timeValue(kind, ms);
  const authKey = options.authKey ?? `sk-seed-auth-${token(24)}`;
  const collect = options.collectPlaintexts ?? true;
  const plaintexts = new Map<number, string>();
  const pool: Array<{ id: number; plaintext: string; group: number }> = [];
  let poolSeen = 0;
  const remember = (id: number, plaintext: string, group: number) => {
    if (collect) plaintexts.set(id, plaintext);
    poolSeen++;
    if (pool.length < LOG_KEY_POOL) pool.push({ id, plaintext, group });
    else {
      const slot = Math.floor(random() * poolSeen);
      if (slot < LOG_KEY_POOL) pool[slot] = { id, plaintext, group };
    }
  };

  if ((await countRows(store, 'groups')) > 0 || (await countRows(store, 'api_keys')) > 0) {
    throw new KeystoreError('refused-by-check', {
      en: 'fillGptLoadData needs an empty GPT-Load schema (groups or api_keys already hold rows)',
      zh: 'fillGptLoadData 需要空的 GPT-Load 表（groups 或 api_keys 中已有数据）',
    });
  }

  const groups: SeededGroup[] = GROUPS.map((g, i) => ({
    id: i + 1,
    name: g.name,
    display_name: g.display_name,
    channel_type: g.channel_type,
    group_type: g.group_type,
    active: 0,
    invalid: 0,
  }));
  const standard = GROUPS.map((g, i) => ({ g, i })).filter(({ g }) => g.group_type === 'standard');
  const created = time(BASE_TIME - 120 * DAY);

  await store.transaction(async (tx) => {
    await insertRows(
      tx,
      'groups',
      ['id', 'name', 'display_name', 'proxy_keys', 'description', 'group_type', 'upstreams', 'channel_type', 'sort', 'test_model', 'config', 'created_at', 'updated_at'],
      GROUPS.map((g, i) => [
        i + 1,
        g.name,
        g.display_name,
        i % 2 === 0 ? `sk-proxy-${g.name}-${token(20)},sk-proxy-${g.name}-${token(20)}` : '',
        `${g.display_name} keys`,
        g.group_type,
        g.upstream ? JSON.stringify([{ url: g.upstream, weight: 1 }]) : '[]',
        g.channel_type,
        i + 1,
        g.test_model,
        '{}',
        created,
        created,
      ]),
    );
    await insertRows(
      tx,
      'group_sub_groups',
      ['id', 'group_id', 'sub_group_id', 'weight', 'created_at', 'updated_at'],
      SUB_GROUPS.map(([aggregate, member, weight], i) => [i + 1, aggregate + 1, member + 1, weight, created, created]),
    );
    const settings: Array<[string, string, string]> = [
      ['proxy_keys', authKey, 'Global proxy keys (GPT-Load copied AUTH_KEY here on first start)'],
      ['app_url', 'http://localhost:3001', 'Project URL'],
      ['request_log_retention_days', '7', 'Request log retention (days)'],
      ['max_retries', '3', 'Max retries'],
      ['blacklist_threshold', '3', 'Failures before a key is marked invalid'],
    ];
    await insertRows(
      tx,
      'system_settings',
      ['id', 'setting_key', 'setting_value', 'description', 'created_at', 'updated_at'],
      settings.map(([key, value, description], i) => [i + 1, key, value, description, created, created]),
    );

    // api_keys: generated keys spread over the standard groups by share, then the verbatim vector rows.
    const vectors = options.vectorRows ?? [];
    const totalKeys = options.keys + vectors.length;
    const keyColumns = ['id', 'key_value', 'key_hash', 'group_id', 'status', 'notes', 'request_count', 'failure_count', 'last_used_at', 'created_at', 'updated_at'];
    let id = 0;
    while (id < totalKeys) {
      const rows: unknown[][] = [];
      for (let n = 0; n < CHUNK && id < totalKeys; n++) {
        id++;
        let plaintext: string;
        let stored: string;
        let hash: string;
        let group: number;
        if (id <= options.keys) {
          let r = random();
          const chosen = standard.find(({ g }) => (r -= g.share) < 0) ?? standard[0];
          group = chosen.i;
          plaintext = chosen.g.keyPrefix + token(chosen.g.keyLength) + chosen.g.keySuffix;
          stored = codec.encrypt(plaintext);
          hash = codec.hash(plaintext);
        } else {
          const vector = vectors[id - options.keys - 1];
          group = standard[0].i;
          plaintext = vector.plaintext;
          stored = vector.ciphertext;
          hash = vector.hash;
        }
        const invalid = id <= options.keys && random() < 0.1;
        const createdAt = time(BASE_TIME - Math.floor(random() * 90 * DAY));
        const lastUsed = random() < 0.2 ? null : time(BASE_TIME - Math.floor(random() * 30 * DAY));
        const notes = random() < 0.05 ? pick(['rotated in June', 'team budget 备用', 'trial key', 'do not delete']) : '';
        groups[group][invalid ? 'invalid' : 'active']++;
        remember(id, plaintext, group);
        rows.push([
          id,
          stored,
          hash,
          group + 1,
          invalid ? 'invalid' : 'active',
          notes,
          Math.floor(random() * 5000),
          invalid ? 3 + Math.floor(random() * 8) : Math.floor(random() * 3),
          lastUsed,
          createdAt,
          createdAt,
        ]);
      }
      await insertRows(tx, 'api_keys', keyColumns, rows);
      options.onProgress?.('api_keys', id, totalKeys);
    }

    // request_logs: each references a key and carries that key encrypted afresh (new nonce), as GPT-Load writes it.
    const logColumns = [
      'id', 'timestamp', 'group_id', 'group_name', 'parent_group_id', 'parent_group_name', 'key_value', 'key_hash', 'model',
      'is_success', 'source_ip', 'status_code', 'request_path', 'duration', 'error_message', 'user_agent', 'request_type',
      'upstream_addr', 'is_stream',
    ];
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
    let written = 0;
    while (written < options.logs && pool.length > 0) {
      const rows: unknown[][] = [];
      for (let n = 0; n < CHUNK && written < options.logs; n++, written++) {
        const key = pick(pool);
        const spec = GROUPS[key.group];
        const viaAggregate = SUB_GROUPS.find(([, member]) => member === key.group && random() < 0.3);
        const ok = random() < 0.9;
        const stream = random() < 0.4;
        rows.push([
          `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`,
          time(BASE_TIME - Math.floor(random() * 7 * DAY)),
          key.group + 1,
          spec.name,
          viaAggregate ? viaAggregate[0] + 1 : null,
          viaAggregate ? GROUPS[viaAggregate[0]].name : null,
          codec.encrypt(key.plaintext),
          codec.hash(key.plaintext),
          pick(spec.models),
          bool(ok),
          `192.168.1.${1 + Math.floor(random() * 250)}`,
          ok ? 200 : pick([401, 429, 500]),
          `/proxy/${viaAggregate ? GROUPS[viaAggregate[0]].name : spec.name}/v1/chat/completions`,
          50 + Math.floor(random() * 5000),
          ok ? null : pick(['invalid api key', 'rate limited', 'upstream error']),
          'curl/8.5.0',
          'final',
          spec.upstream,
          bool(stream),
        ]);
      }
      await insertRows(tx, 'request_logs', logColumns, rows);
      options.onProgress?.('request_logs', written, options.logs);
    }

    if (kind === 'postgres') {
      // Explicit ids leave the bigserial sequences behind; GPT-Load's next insert must not collide.
      for (const table of ['groups', 'group_sub_groups', 'system_settings', 'api_keys']) {
        await tx.query(`SELECT setval(pg_get_serial_sequence('${tx.q(table)}', 'id'), (SELECT MAX(id) FROM ${tx.q(table)}))`);
      }
    }
    return undefined;
  });

  return { plaintexts, groups, keys: options.keys + (options.vectorRows?.length ?? 0), logs: pool.length > 0 ? options.logs : 0, authKey };
}
