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
import { createCipheriv, randomFillSync } from 'node:crypto';
import { codecFromDerivedKey, sha256Hex, type KeyCodec, type RowState } from '../core/crypto';

export const ROW_EMPTY = 0;
export const ROW_SOURCE = 1;
export const ROW_TARGET = 2;
export const ROW_PLAINTEXT = 3;
export const ROW_UNKNOWN = 4;
/** migrate() only: a new value did not decrypt back to its plaintext (never expected; aborts the run). */
export const ROW_VERIFY_FAILED = 5;

export type RowStateCode = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * A row's state under one key, from its code in a run "from that key to none" (how status and backups
 * judge rows): a source row is encrypted with the key (plaintext when the key is disabled).
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
  /** One code per input row; only ROW_SOURCE rows carry a new value. */
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

const NONCE_BYTES = 12;

/**
 * Both sides of a migration in one thread. Encryption takes its nonces from one CSPRNG fill per
 * batch (a per-call randomBytes(12) costs as much as the AES itself); everything else is the
 * vectors-checked codec of server/core/crypto.ts, and every new value is decrypted back by it.
 */
export class MigrationCrypto {
  readonly source: KeyCodec;
  readonly target: KeyCodec;
  private readonly targetKey: Buffer | null;

  constructor(keys: MigrationKeys) {
    this.source = codecFromDerivedKey(keys.source === null ? null : Buffer.from(keys.source));
    this.target = codecFromDerivedKey(keys.target === null ? null : Buffer.from(keys.target));
    this.targetKey = keys.target === null ? null : Buffer.from(keys.target);
  }

  /** Phase 1: the state of every row, nothing else. */
  classify(rows: RowsIn): Uint8Array {
    const states = new Uint8Array(rows.values.length);
    const plains = this.sourcePlaintexts(rows);
    for (let i = 0; i < states.length; i++) states[i] = this.classifyRow(rows.values[i], rows.hashes[i], plains[i]);
    return states;
  }

  /**
   * Phase 1 of a run that writes: every row classified as by classify(), and the source rows
   * encrypted and hashed with the target key, each new value verified by decrypting it again.
   */
  migrate(rows: RowsIn): MigratedRows {
    const n = rows.values.length;
    const states = new Uint8Array(n);
    const values = new Array<string>(n);
    const hashes = new Array<string>(n);
    const nonces = this.targetKey ? randomFillSync(Buffer.allocUnsafe(n * NONCE_BYTES)) : null;
    const plains = this.sourcePlaintexts(rows);
    for (let i = 0; i < n; i++) {
      const plain = plains[i];
      values[i] = '';
      hashes[i] = '';
      states[i] = this.classifyRow(rows.values[i], rows.hashes[i], plain);
      if (states[i] !== ROW_SOURCE) continue;
      values[i] = nonces ? this.encrypt(plain!, nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES)) : plain!;
      hashes[i] = this.target.hash(plain!);
    }
    if (nonces) {
      // Every new value decrypted back, in one batch.
      const migrated = [...states.keys()].filter((i) => states[i] === ROW_SOURCE);
      const reopened = this.target.decryptMany(migrated.map((i) => values[i]));
      migrated.forEach((row, k) => {
        if (reopened[k] === plains[row]) return;
        states[row] = ROW_VERIFY_FAILED;
        values[row] = '';
        hashes[row] = '';
      });
    }
    return { states, values, hashes };
  }

  /**
   * Classified as by classify(), each opened key also as the SHA-256 of its plaintext: how backup check
   * compares keys stored under two different ENCRYPTION_KEYs.
   */
  open(rows: RowsIn): OpenedRows {
    const n = rows.values.length;
    const states = new Uint8Array(n);
    const digests = new Array<string>(n);
    const plains = this.sourcePlaintexts(rows);
    for (let i = 0; i < n; i++) {
      const value = rows.values[i];
      const hash = rows.hashes[i];
      const plain = plains[i];
      if (plain !== null && (!this.source.enabled || this.source.hash(plain) === hash)) {
        states[i] = ROW_SOURCE;
        digests[i] = sha256Hex(plain);
        continue;
      }
      const state = this.classifyRow(value, hash, null);
      states[i] = state;
      // A plaintext row is one whose key_hash is the SHA-256 of its value.
      digests[i] = state === ROW_PLAINTEXT || (state === ROW_TARGET && !this.target.enabled) ? hash : '';
    }
    return { states, digests };
  }

  /** `sourcePlain`: the row's plaintext under the source key, as sourcePlaintexts gives it. */
  private classifyRow(value: string, hash: string, sourcePlain: string | null): RowStateCode {
    if (value === '' && hash === '') return ROW_EMPTY;
    if (this.source.enabled && sourcePlain !== null && this.source.hash(sourcePlain) === hash) return ROW_SOURCE;
    if (sha256Hex(value) === hash) {
      if (!this.source.enabled) return ROW_SOURCE;
      return this.target.enabled ? ROW_PLAINTEXT : ROW_TARGET;
    }
    if (this.target.enabled && this.decryptsWithHash(this.target, value, hash)) return ROW_TARGET;
    return ROW_UNKNOWN;
  }

  /**
   * Each row's plaintext if it may be a source row (its key_hash not yet checked when the source key
   * is enabled), null for any other row; encrypted values opened in one batch.
   */
  private sourcePlaintexts(rows: RowsIn): Array<string | null> {
    const { values, hashes } = rows;
    if (this.source.enabled) return this.source.decryptMany(values);
    return values.map((value, i) => (value === '' && hashes[i] === '') || sha256Hex(value) !== hashes[i] ? null : value);
  }

  private decryptsWithHash(codec: KeyCodec, value: string, hash: string): boolean {
    try {
      return codec.hash(codec.decrypt(value)) === hash;
    } catch {
      return false;
    }
  }

  /** GPT-Load's layout: hex(nonce ‖ ciphertext ‖ tag). */
  private encrypt(plain: string, nonce: Buffer): string {
    const cipher = createCipheriv('aes-256-gcm', this.targetKey!, nonce);
    return Buffer.concat([nonce, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('hex');
  }
}
