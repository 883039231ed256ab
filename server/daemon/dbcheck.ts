/**
 * The background database check behind an open `.env`: what the database it points at holds,
 * judged with the ENCRYPTION_KEY the editor shows (unsaved text included), and the proxy keys
 * GPT-Load's dashboard would warn about — both judged by the keystore (status, proxyKeys), as
 * `gptLoad/status` and `gptLoad/proxyKeys/list` judge them. Never blocks typing: it runs after the
 * lint diagnostics are out, the keystore yields between batches, it gives up after a deadline, and
 * its result is cached per (database, key) for CHECK_TTL_MS, so keystrokes that change neither reuse it.
 *
 * Bounded, not exact: the first CHECK_ROWS keys by id are classified (exact when the table holds
 * no more); the message says which. `gptLoad/status` gives the exact figures.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { KeyCodec } from '../core/crypto';
import { KeystoreError, type ErrorCode } from '../core/errors';
import { readFirstKeysStatus, type OverallState } from '../keystore/status';
import type { Store } from '../store/connect';
import { describeTarget, type DatabaseTarget } from '../store/dsn';
import { readStoredProxyKeys, type StoredProxyKey } from '../keystore/proxyKeys';
import { cachedCodec } from './codecs';
import { log } from './log';
import type { StorePool } from './stores';

const CHECK_ROWS = 2000;
/** Rows classified between two turns of the event loop. */
const CHECK_BATCH = 500;
const CHECK_TTL_MS = 30_000;
const MAX_CACHED = 32;
const salt = randomBytes(32);

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
      proxyKeys: StoredProxyKey[];
    }
  | { ok: false; target: string; fingerprint: string; code: ErrorCode; error: KeystoreError };

function checkKey(target: DatabaseTarget, encryptionKey: string): string {
  return createHmac('sha256', salt).update(JSON.stringify(target)).update('\0').update(encryptionKey).digest('base64');
}

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

async function inspect(store: Store, codec: KeyCodec) {
  const keys = await readFirstKeysStatus(store, { codec, limit: CHECK_ROWS, batchSize: CHECK_BATCH });
  const { counts } = keys;
  return {
    totalKeys: keys.totalKeys,
    examined: counts.total,
    // The editor's three figures: plaintext with or without key_hash, decrypting with a right or wrong key_hash, neither.
    plaintext: counts.plaintext + (counts.noHash ?? 0),
    encrypted: counts.encrypted + (counts.wrongHash ?? 0),
    unknown: counts.unknown,
    state: keys.state,
    proxyKeys: await readStoredProxyKeys(store),
  };
}
