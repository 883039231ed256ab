/**
 * The per-row work of migrate-keys (and of status and backups, as a run from their key to none), on
 * plain arrays so it runs the same in the main thread and in a worker (server/keystore/worker.ts).
 * Takes derived 32-byte keys, never passwords.
 *
 * A row's state is judged against the two sides of the migration, by its own key_hash:
 * source (what the --from side says it should be), target (already what the --to side writes),
 * plaintext (neither side is plaintext, yet SHA-256(key_value) == key_hash), unknown, or empty
 * (no key at all: request logs of requests that never picked one).
 */
import { codecFromDerivedKey, nodeCheckSample, sha256Hex, type KeyCodec, type RowState } from '../../core/crypto';

export const ROW_EMPTY = 0;
export const ROW_SOURCE = 1;
export const ROW_TARGET = 2;
export const ROW_PLAINTEXT = 3;
export const ROW_UNKNOWN = 4;
/** migrate() only: a new value did not decrypt back to its plaintext (never expected; aborts the run). */
export const ROW_VERIFY_FAILED = 5;
/**
 * Plaintext left by GPT-Load with a NULL or empty key_hash (request logs from before v1.1.0): a value
 * that decrypts with neither key and does not have a GPT-Load ciphertext's shape.
 */
export const ROW_NO_HASH = 6;
/** Decrypts with the source or the target key, but key_hash is wrong or missing (GPT-Load cannot find it by hash). */
export const ROW_WRONG_HASH = 7;

export type RowStateCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * Rows a migration rewrites: the source state and every leftover it brings along to the target —
 * plaintext left by GPT-Load (SHA-256 or missing hash) and decryptable rows with a wrong hash.
 */
export function isRewritten(code: number): boolean {
  return code === ROW_SOURCE || code === ROW_PLAINTEXT || code === ROW_NO_HASH || code === ROW_WRONG_HASH;
}

/** GPT-Load's shortest stored ciphertext: hex of nonce (12) ‖ tag (16). */
const MIN_CIPHERTEXT_HEX = 2 * (12 + 16);

/** Whether a value has the shape GPT-Load gives ciphertexts (even-length hex, nonce and tag at least). */
export function looksEncrypted(value: string): boolean {
  return value.length >= MIN_CIPHERTEXT_HEX && value.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(value);
}

/** How status names each row under the configured key (finer than stateUnderKey, which backups use). */
export type RowKind = 'plaintext' | 'encrypted' | 'noHash' | 'wrongHash' | 'unknown' | 'empty';

export function kindUnderKey(code: number, keyEnabled: boolean): RowKind {
  if (code === ROW_NO_HASH) return 'noHash';
  if (code === ROW_WRONG_HASH) return 'wrongHash';
  const state = stateUnderKey(code, keyEnabled);
  return state;
}

/**
 * A row's state under one key, from its code in a run "from that key to none" (how status and backups
 * judge rows): a source row is encrypted with the key (plaintext when the key is disabled). Rows
 * without a hash or with a wrong one count as unknown here: a backup cannot vouch for them.
 */
export function stateUnderKey(code: number, keyEnabled: boolean): RowState | 'empty' {
  switch (code) {
    case ROW_EMPTY:
      return 'empty';
    case ROW_SOURCE:
      return keyEnabled ? 'encrypted' : 'plaintext';
    case ROW_TARGET:
      // Already what "no key" would write: plaintext.
      return 'plaintext';
    default:
      return 'unknown';
  }
}

/** The two derived keys of a migration; null = GPT-Load's disabled mode (plaintext). */
export interface MigrationKeys {
  source: Uint8Array | null;
  target: Uint8Array | null;
}

export interface RowsIn {
  values: string[];
  hashes: string[];
}

export interface MigratedRows {
  /** One code per input row; only rows to rewrite (isRewritten) carry a new value. */
  states: Uint8Array;
  /** New key_value / key_hash, '' where the row is not migrated. */
  values: string[];
  hashes: string[];
}

export interface OpenedRows {
  states: Uint8Array;
  /** SHA-256 (hex) of the plaintext of each row the source key opens or that is plaintext; '' for other rows. */
  digests: string[];
}

/** A batch's rows as the source key sees them (MigrationCrypto.sourceSide). */
interface SourceSide {
  plains: Array<string | null>;
  hashMatches: Uint8Array;
}

/**
 * Both sides of a migration in one thread: the vectors-checked codec of server/core/crypto.ts, new
 * values sealed in batches (gcmBatch.ts) and every one of them decrypted back.
 */
export class MigrationCrypto {
  readonly source: KeyCodec;
  readonly target: KeyCodec;

  constructor(keys: MigrationKeys) {
    this.source = codecFromDerivedKey(keys.source === null ? null : Buffer.from(keys.source));
    this.target = codecFromDerivedKey(keys.target === null ? null : Buffer.from(keys.target));
  }

  /** Phase 1: the state of every row, nothing else. */
  classify(rows: RowsIn): Uint8Array {
    const states = new Uint8Array(rows.values.length);
    const source = this.sourceSide(rows);
    for (let i = 0; i < states.length; i++) states[i] = this.judge(rows.values[i], rows.hashes[i], source, i).state;
    return states;
  }

  /**
   * Phase 1 of a run that writes: every row classified as by classify(), and the rows to rewrite
   * (source rows and leftovers, see isRewritten) opened, encrypted and hashed with the target key,
   * each new value verified by decrypting it again.
   *
   * The new values are sealed in one batch and opened back in one batch, and those two share their
   * AES-ECB keystream and GHASH table: a fault there could make both agree on values GPT-Load cannot
   * read. So Node's own GCM (an independent implementation) also opens a sample of them: one of every
   * length and every 64th (nodeCheckSample). Any disagreement fails every new value of the batch,
   * which stops the run before anything is written.
   */
  migrate(rows: RowsIn): MigratedRows {
    const n = rows.values.length;
    const states = new Uint8Array(n);
    const values = new Array<string>(n).fill('');
    const hashes = new Array<string>(n).fill('');
    const source = this.sourceSide(rows);
    const migrated: number[] = [];
    const plains: string[] = [];
    for (let i = 0; i < n; i++) {
      const { state, plain } = this.judge(rows.values[i], rows.hashes[i], source, i);
      states[i] = state;
      if (!isRewritten(state)) continue;
      migrated.push(i);
      plains.push(plain!);
    }
    const sealed = this.target.encryptMany(plains);
    const newHashes = this.target.hashMany(plains);
    migrated.forEach((row, k) => {
      values[row] = sealed[k];
      hashes[row] = newHashes[k];
    });
    if (!this.target.enabled) return { states, values, hashes };
    const reopened = this.target.decryptMany(sealed);
    const batchSound = this.nodeOpens(sealed, plains);
    migrated.forEach((row, k) => {
      if (batchSound && reopened[k] === plains[k]) return;
      states[row] = ROW_VERIFY_FAILED;
      values[row] = '';
      hashes[row] = '';
    });
    return { states, values, hashes };
  }

  /** Whether Node's decipher opens a sample of the sealed values (nodeCheckSample) to their plaintexts. */
  private nodeOpens(sealed: string[], plains: string[]): boolean {
    return nodeCheckSample(sealed).every((k) => this.tryDecrypt(this.target, sealed[k]) === plains[k]);
  }

  /**
   * Classified as by classify(), each opened key also as the SHA-256 of its plaintext: how backup check
   * compares keys stored under two different ENCRYPTION_KEYs.
   */
  open(rows: RowsIn): OpenedRows {
    const n = rows.values.length;
    const states = new Uint8Array(n);
    const digests = new Array<string>(n);
    const source = this.sourceSide(rows);
    for (let i = 0; i < n; i++) {
      const hash = rows.hashes[i];
      const plain = source.plains[i];
      if (plain !== null && (!this.source.enabled || source.hashMatches[i])) {
        states[i] = ROW_SOURCE;
        digests[i] = sha256Hex(plain);
        continue;
      }
      const state = this.judge(rows.values[i], hash, source, i).state;
      states[i] = state;
      // A plaintext row is one whose key_hash is the SHA-256 of its value.
      digests[i] = state === ROW_PLAINTEXT || (state === ROW_TARGET && !this.target.enabled) ? hash : '';
    }
    return { states, digests };
  }

  /** Row `i`'s state and, for rows a migration rewrites, its plaintext; `source`: the batch's sourceSide. */
  private judge(value: string, hash: string, source: SourceSide, i: number): { state: RowStateCode; plain: string | null } {
    const sourcePlain = source.plains[i];
    if (value === '' && hash === '') return { state: ROW_EMPTY, plain: null };
    if (this.source.enabled && source.hashMatches[i]) return { state: ROW_SOURCE, plain: sourcePlain };
    if (value !== '' && sha256Hex(value) === hash) {
      if (!this.source.enabled) return { state: ROW_SOURCE, plain: value };
      return { state: this.target.enabled ? ROW_PLAINTEXT : ROW_TARGET, plain: value };
    }
    if (this.target.enabled) {
      const targetPlain = this.tryDecrypt(this.target, value);
      if (targetPlain !== null) return { state: this.target.hash(targetPlain) === hash ? ROW_TARGET : ROW_WRONG_HASH, plain: targetPlain };
    }
    // Decrypts with the source key, hash wrong or missing: GPT-Load's own migrate re-hashes such rows.
    if (this.source.enabled && sourcePlain !== null) return { state: ROW_WRONG_HASH, plain: sourcePlain };
    if (value !== '' && hash === '' && !looksEncrypted(value)) return { state: ROW_NO_HASH, plain: value };
    return { state: ROW_UNKNOWN, plain: null };
  }

  /**
   * Each row's plaintext if it may be a source row, null for any other row, and (source key enabled)
   * whether its key_hash is the source key's hash of it: values opened and hashed in one batch each.
   */
  private sourceSide(rows: RowsIn): SourceSide {
    const { values, hashes } = rows;
    if (!this.source.enabled) {
      const plains = values.map((value, i) => ((value === '' && hashes[i] === '') || sha256Hex(value) !== hashes[i] ? null : value));
      return { plains, hashMatches: new Uint8Array(values.length) };
    }
    const plains = this.source.decryptMany(values);
    const opened = [...plains.keys()].filter((i) => plains[i] !== null);
    const rehashed = this.source.hashMany(opened.map((i) => plains[i]!));
    const hashMatches = new Uint8Array(values.length);
    opened.forEach((row, k) => (hashMatches[row] = rehashed[k] === hashes[row] ? 1 : 0));
    return { plains, hashMatches };
  }

  private tryDecrypt(codec: KeyCodec, value: string): string | null {
    try {
      return codec.decrypt(value);
    } catch {
      return null;
    }
  }
}
