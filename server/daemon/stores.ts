/**
 * Open databases shared by requests: a page of keys should cost the query, not a connection. A store
 * is closed after STORE_IDLE_MS unused, on shutdown, when an operation needs the database to itself
 * (migrate, restore: our idle session would count as "another live session"), and when it fails with
 * a connection-level error. A SQLite file deleted or replaced since it was opened is reopened, so the
 * request fails as the database really is now.
 */
import { statSync } from 'node:fs';
import { KeystoreError } from '../core/errors';
import { openStore, type Store } from '../store/connect';
import type { DatabaseTarget } from '../store/dsn';
import { log, redactor } from './log';
import { untrustedError } from './errors';

const STORE_IDLE_MS = 60_000;
const CONNECTION_CODES = new Set(['host-not-found', 'connection-refused', 'connection-timeout', 'auth-refused', 'database-missing', 'io', 'internal']);

interface Entry {
  key: string;
  store: Promise<Store>;
  users: number;
  lastUsed: number;
  /** SQLite only: the file's identity when opened. */
  inode?: string;
  /** Out of the pool; closed when its last user is done. */
  retired?: boolean;
}

function sqliteIdentity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

export class StorePool {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: () => number,
    /** false in an untrusted workspace: no connection is ever opened (a second lock behind the request gate). */
    private readonly mayConnect: () => boolean,
  ) {
    this.timer = setInterval(() => this.closeIdle(), STORE_IDLE_MS / 4);
    this.timer.unref();
  }

  /** Runs `work` with an open store for `target`, sharing it with concurrent and later requests. */
  async use<T>(target: DatabaseTarget, work: (store: Store) => Promise<T>): Promise<T> {
    const entry = this.acquire(target);
    try {
      const store = await entry.store;
      return await work(store);
    } catch (err) {
      if (!(err instanceof KeystoreError) || CONNECTION_CODES.has(err.code)) void this.retire(entry);
      throw err;
    } finally {
      entry.users--;
      entry.lastUsed = Date.now();
      if (entry.retired && entry.users === 0) void this.close(entry);
    }
  }

  /** Closes every pooled store of `target` (before an operation that needs the database alone). */
  async release(target: DatabaseTarget): Promise<void> {
    const entry = this.entries.get(JSON.stringify(target));
    if (entry) await this.retire(entry);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.entries.values()].map((e) => this.close(e)));
  }

  private acquire(target: DatabaseTarget): Entry {
    if (!this.mayConnect()) throw untrustedError();
    rememberPassword(target);
    const key = JSON.stringify(target);
    let entry = this.entries.get(key);
    if (entry && target.kind === 'sqlite' && sqliteIdentity(target.path) !== entry.inode) {
      log.debug('sqlite file changed since it was opened; reopening');
      void this.retire(entry);
      entry = undefined;
    }
    if (!entry) {
      const inode = target.kind === 'sqlite' ? sqliteIdentity(target.path) : undefined;
      const store = openStore(target, { timeoutMs: this.timeoutMs() });
      entry = { key, store, users: 0, lastUsed: Date.now(), inode };
      this.entries.set(key, entry);
      const created = entry;
      store.catch(() => this.entries.get(key) === created && this.entries.delete(key));
    }
    entry.users++;
    return entry;
  }

  /** Takes `entry` out of the pool; closes it now if unused, else when its last user is done. */
  private async retire(entry: Entry): Promise<void> {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.retired = true;
    if (entry.users === 0) await this.close(entry);
  }

  private async close(entry: Entry): Promise<void> {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    try {
      await (await entry.store).close();
    } catch {
      // Closing a broken connection may fail too; it is gone either way.
    }
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const entry of this.entries.values()) if (entry.users === 0 && now - entry.lastUsed > STORE_IDLE_MS) void this.close(entry);
  }
}

/** A database password reaches the log redactor before any driver can quote it. */
function rememberPassword(target: DatabaseTarget): void {
  if (target.kind === 'mysql') redactor.add(target.password);
  if (target.kind === 'postgres') {
    try {
      redactor.add(decodeURIComponent(new URL(target.url).password));
    } catch {
      // A URL that does not parse never reaches a driver either.
    }
  }
}
