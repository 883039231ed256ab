/**
 * The background database check behind an open `.env`: what the database it points at holds,
 * judged with the ENCRYPTION_KEY the editor shows (unsaved text included), and the proxy keys
 * GPT-Load's dashboard would warn about. Never blocks typing: it runs after the lint diagnostics
 * are out, yields between batches, gives up after a deadline, and its result is cached per
 * (database, key) for CHECK_TTL_MS, so keystrokes that change neither reuse it.
 *
 * Bounded, not exact: the first CHECK_ROWS keys by id are classified (exact when the table holds
 * no more); the message says which. `gptLoad/status` gives the exact figures.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { classifyRows } from '../core/crypto';
import { KeystoreError, type ErrorCode, type Localized } from '../core/errors';
import { assessSecret, maskSecret, type SecretWarning } from '../core/secrets';
import { overallState, type OverallState } from '../keystore/status';
import type { Store } from '../store/connect';
import { describeTarget, type DatabaseTarget } from '../store/dsn';
import { countRows, iterateKeyRows } from '../store/rows';
import { proxyKeyEntries, readProxyKeyLists } from '../keystore/proxyKeys';
import { cachedCodec } from './codecs';
import { log } from './log';
import type { StorePool } from './stores';

const CHECK_ROWS = 2000;
const CHECK_TTL_MS = 30_000;
const MAX_CACHED = 32;
const salt = randomBytes(32);

interface ProxyKeyFinding {
  /** "Global proxy key #2", "Group proxy key [openai] #1": the dashboard's names. */
  where: Localized;
  masked: string;
  warnings: SecretWarning[];
}

interface ProxyKeyReuse {
  masked: string;
  /** SHA-256 of the key, to compare with AUTH_KEY without keeping either. */
  digest: string;
  places: Localized[];
}

export type DbCheck =
  | {
      ok: true;
      target: string;
      fingerprint: string;
      encryptionEnabled: boolean;
      totalKeys: number;
      examined: number;
      plaintext: number;
      encrypted: number;
      unknown: number;
      state: OverallState;
      weakProxyKeys: ProxyKeyFinding[];
      proxyKeys: ProxyKeyReuse[];
    }
  | { ok: false; target: string; fingerprint: string; code: ErrorCode; error: KeystoreError };

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function checkKey(target: DatabaseTarget, encryptionKey: string): string {
  return createHmac('sha256', salt).update(JSON.stringify(target)).update('\0').update(encryptionKey).digest('base64');
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class DatabaseChecks {
  private readonly done = new Map<string, { at: number; result: DbCheck }>();
  private readonly running = new Map<string, Promise<DbCheck>>();

  constructor(
    private readonly stores: StorePool,
    private readonly deadlineMs: () => number,
  ) {}

  /** The cached result for (target, key), if fresh. */
  peek(target: DatabaseTarget, encryptionKey: string): DbCheck | undefined {
    const hit = this.done.get(checkKey(target, encryptionKey));
    return hit && Date.now() - hit.at < CHECK_TTL_MS ? hit.result : undefined;
  }

  /** The result for (target, key): cached, in flight, or started now. Never rejects. */
  run(target: DatabaseTarget, encryptionKey: string): Promise<DbCheck> {
    const id = checkKey(target, encryptionKey);
    const cached = this.peek(target, encryptionKey);
    if (cached) return Promise.resolve(cached);
    let pending = this.running.get(id);
    if (!pending) {
      pending = this.check(target, encryptionKey).then((result) => {
        this.running.delete(id);
        this.done.set(id, { at: Date.now(), result });
        while (this.done.size > MAX_CACHED) this.done.delete(this.done.keys().next().value as string);
        return result;
      });
      this.running.set(id, pending);
    }
    return pending;
  }

  clear(): void {
    this.done.clear();
  }

  private async check(target: DatabaseTarget, encryptionKey: string): Promise<DbCheck> {
    const label = describeTarget(target);
    const started = performance.now();
    let fingerprint = 'plaintext';
    try {
      const codec = await cachedCodec(encryptionKey);
      fingerprint = codec.fingerprint;
      const work = this.stores.use(target, (store) => inspect(store, codec));
      const result = await deadline(work, this.deadlineMs(), target);
      log.debug(`database check of ${label}: ${result.state} in ${(performance.now() - started).toFixed(0)} ms`);
      return { ok: true, target: label, fingerprint, encryptionEnabled: codec.enabled, ...result };
    } catch (err) {
      const error = err instanceof KeystoreError ? err : new KeystoreError('internal', { en: 'the check failed', zh: '检查失败' });
      log.debug(`database check of ${label} failed: ${error.code}`);
      return { ok: false, target: label, fingerprint, code: error.code, error };
    }
  }
}

function deadline<T>(work: Promise<T>, ms: number, target: DatabaseTarget): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new KeystoreError('connection-timeout', {
            en: `the database check of ${describeTarget(target)} did not finish within ${Math.round(ms / 1000)} s`,
            zh: `对 ${describeTarget(target)} 的数据库检查未在 ${Math.round(ms / 1000)} 秒内完成`,
          }),
        ),
      ms,
    );
    work.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

async function inspect(store: Store, codec: Awaited<ReturnType<typeof cachedCodec>>) {
  const totalKeys = await countRows(store, 'api_keys');
  const counts = { total: 0, plaintext: 0, encrypted: 0, unknown: 0, empty: 0, unknownIds: [] as number[] };
  for await (const batch of iterateKeyRows(store, { batchSize: 500 })) {
    const rows = batch.slice(0, CHECK_ROWS - counts.total);
    counts.total += rows.length;
    const stored = rows.filter((row) => row.key_value !== '' || row.key_hash !== '');
    counts.empty += rows.length - stored.length;
    for (const state of classifyRows(stored, codec)) counts[state]++;
    if (counts.total >= CHECK_ROWS) break;
    await yieldToEventLoop();
  }
  const proxy = await proxyKeys(store);
  return {
    totalKeys,
    examined: counts.total,
    plaintext: counts.plaintext,
    encrypted: counts.encrypted,
    unknown: counts.unknown,
    state: overallState(counts, codec.enabled),
    ...proxy,
  };
}

/** The proxy keys the dashboard checks: system_settings.proxy_keys, then each group's, split and trimmed as GPT-Load does. */
async function proxyKeys(store: Store): Promise<{ weakProxyKeys: ProxyKeyFinding[]; proxyKeys: ProxyKeyReuse[] }> {
  const weakProxyKeys: ProxyKeyFinding[] = [];
  const byDigest = new Map<string, ProxyKeyReuse>();
  for (const { place, position, value: key } of proxyKeyEntries(await readProxyKeyLists(store))) {
    const where: Localized =
      place.kind === 'global'
        ? { en: `Global proxy key #${position}`, zh: `全局代理密钥 #${position}` }
        : { en: `Group proxy key [${place.name}] #${position}`, zh: `分组代理密钥 [${place.name}] #${position}` };
    const warnings = assessSecret(key, 'proxy key');
    if (warnings.length > 0) weakProxyKeys.push({ where, masked: maskSecret(key), warnings });
    const digest = sha256(key);
    const seen = byDigest.get(digest) ?? { masked: maskSecret(key), digest, places: [] };
    seen.places.push(where);
    byDigest.set(digest, seen);
  }
  return { weakProxyKeys, proxyKeys: [...byDigest.values()] };
}
