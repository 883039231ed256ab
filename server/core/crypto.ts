/**
 * GPT-Load's stored-key encryption, byte for byte (see shared/design/gpt-load-facts.md):
 * PBKDF2-HMAC-SHA256(ENCRYPTION_KEY, "gpt-load-encryption-v1", 100000, 32) → AES-256-GCM,
 * value = hex(nonce[12] ‖ ciphertext ‖ tag[16]); key_hash = HMAC-SHA256(derived, plain) or,
 * with encryption disabled, SHA-256(plain). An empty plaintext always hashes to "".
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, randomFillSync } from 'node:crypto';
import { GcmBatch } from './gcmBatch';
import { HmacSha256Batch } from './hmacBatch';

export const KDF_SALT = 'gpt-load-encryption-v1';
export const KDF_ITERATIONS = 100_000;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEX_RE = /^[0-9a-fA-F]*$/;

/** Why a stored value did not decrypt; never carries the value itself. */
export type DecryptFailure = 'not-hex' | 'too-short' | 'auth-failed';

export class DecryptError extends Error {
  constructor(readonly reason: DecryptFailure, readonly rowId?: number | string) {
    super(
      `${rowId === undefined ? 'value' : `row ${rowId}`}: ` +
        (reason === 'not-hex'
          ? 'stored value is not hex (not encrypted by GPT-Load)'
          : reason === 'too-short'
            ? 'stored value is too short to be a GPT-Load ciphertext'
            : 'authentication failed (wrong ENCRYPTION_KEY or corrupted value)'),
    );
    this.name = 'DecryptError';
  }
}

export function deriveKey(password: string): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), KDF_SALT, KDF_ITERATIONS, 32, 'sha256');
}

/** deriveKey in libuv's thread pool: several derive in parallel while the main thread goes on. */
export function deriveKeyAsync(password: string): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(Buffer.from(password, 'utf8'), KDF_SALT, KDF_ITERATIONS, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function sha256Hex(text: string): string {
  return text === '' ? '' : createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * One ENCRYPTION_KEY's view of stored values. `enabled` false is GPT-Load's disabled mode:
 * values are stored as plaintext and hashed with SHA-256.
 */
export interface KeyCodec {
  readonly enabled: boolean;
  /** Non-reversible label of the key, safe to print and store ("plaintext" when disabled). */
  readonly fingerprint: string;
  encrypt(plaintext: string): string;
  /** Many plaintexts at once, each under a fresh random nonce, far cheaper per value than encrypt (gcmBatch.ts). */
  encryptMany(plaintexts: readonly string[]): string[];
  /** Throws DecryptError; `rowId` only labels the error. */
  decrypt(stored: string, rowId?: number | string): string;
  /** Many stored values at once, far cheaper per value than decrypt: each plaintext, or null where decrypt throws. */
  decryptMany(stored: readonly string[]): Array<string | null>;
  hash(plaintext: string): string;
  /** hash of each plaintext, in one batch (hmacBatch.ts), cheaper per value than hash. */
  hashMany(plaintexts: readonly string[]): string[];
}

/**
 * Every how many values of a batch made by our own batch code (sealed, hashed) one is also made by
 * Node's, besides one value of each length: what the batch code does depends on a value's length
 * only (its blocks, its last partial one), so a fault in it shows on that value. A few µs each.
 */
const NODE_CHECK_EVERY = 64;

/** Indices of a batch that Node's own crypto checks: the first value of each length, and every NODE_CHECK_EVERY-th. */
export function nodeCheckSample(values: readonly string[]): number[] {
  const lengths = new Set<number>();
  const sample: number[] = [];
  for (let k = 0; k < values.length; k++) {
    if (k % NODE_CHECK_EVERY !== 0 && lengths.has(values[k].length)) continue;
    lengths.add(values[k].length);
    sample.push(k);
  }
  return sample;
}

class PlaintextCodec implements KeyCodec {
  readonly enabled = false;
  readonly fingerprint = 'plaintext';
  encrypt(plaintext: string): string {
    return plaintext;
  }
  encryptMany(plaintexts: readonly string[]): string[] {
    return [...plaintexts];
  }
  decrypt(stored: string): string {
    return stored;
  }
  decryptMany(stored: readonly string[]): Array<string | null> {
    return [...stored];
  }
  hash(plaintext: string): string {
    return sha256Hex(plaintext);
  }
  hashMany(plaintexts: readonly string[]): string[] {
    return plaintexts.map(sha256Hex);
  }
}

class AesGcmCodec implements KeyCodec {
  readonly enabled = true;
  readonly fingerprint: string;
  constructor(private readonly key: Buffer) {
    // An HMAC of a fixed label under the derived key: learning the key from it is as hard as
    // breaking the key itself, yet two copies of one key always show the same fingerprint.
    this.fingerprint = createHmac('sha256', key).update('gpt-load-keystore/fingerprint/v1').digest('hex').slice(0, 16);
  }

  encrypt(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return nonce.toString('hex') + body.toString('hex');
  }

  decrypt(stored: string, rowId?: number | string): string {
    if (stored.length % 2 !== 0 || !HEX_RE.test(stored)) throw new DecryptError('not-hex', rowId);
    const raw = Buffer.from(stored, 'hex');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new DecryptError('too-short', rowId);
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new DecryptError('auth-failed', rowId);
    }
  }

  private batch: GcmBatch | undefined;

  encryptMany(plaintexts: readonly string[]): string[] {
    // One CSPRNG fill for all nonces: a randomBytes(12) per value costs as much as its AES.
    const nonces = randomFillSync(Buffer.allocUnsafe(plaintexts.length * NONCE_BYTES));
    this.batch ??= new GcmBatch(this.key);
    return this.batch.sealHex(plaintexts, nonces);
  }

  decryptMany(stored: readonly string[]): Array<string | null> {
    this.batch ??= new GcmBatch(this.key);
    return this.batch.openHex(stored);
  }

  hash(plaintext: string): string {
    return plaintext === '' ? '' : createHmac('sha256', this.key).update(plaintext, 'utf8').digest('hex');
  }

  private hmac: HmacSha256Batch | undefined;

  /** Node's HMAC recomputes a sample (nodeCheckSample); a disagreement throws, which stops any run using it. */
  hashMany(plaintexts: readonly string[]): string[] {
    this.hmac ??= new HmacSha256Batch(this.key);
    const hashes = this.hmac.hexMany(plaintexts);
    for (const k of nodeCheckSample(plaintexts)) {
      if (hashes[k] !== createHmac('sha256', this.key).update(plaintexts[k], 'utf8').digest('hex')) throw new Error('batch HMAC disagrees with Node');
    }
    for (let k = 0; k < plaintexts.length; k++) if (plaintexts[k] === '') hashes[k] = '';
    return hashes;
  }

  static derivedKey(codec: AesGcmCodec): Buffer {
    return Buffer.from(codec.key);
  }
}

export const PLAINTEXT_CODEC: KeyCodec = new PlaintextCodec();

/** Codec for an ENCRYPTION_KEY as written in `.env`; "" means encryption disabled. */
export function codecFor(encryptionKey: string): KeyCodec {
  return encryptionKey === '' ? PLAINTEXT_CODEC : new AesGcmCodec(deriveKey(encryptionKey));
}

/** Codec from an already derived key (worker threads receive the 32 bytes, not the password). */
export function codecFromDerivedKey(key: Buffer | null): KeyCodec {
  return key === null ? PLAINTEXT_CODEC : new AesGcmCodec(Buffer.from(key));
}

/** The derived key behind a codec (null: disabled), for worker threads, which take bytes, never passwords. */
export function derivedKeyOf(codec: KeyCodec): Buffer | null {
  if (!codec.enabled) return null;
  if (codec instanceof AesGcmCodec) return AesGcmCodec.derivedKey(codec);
  throw new RangeError('not a GPT-Load key codec');
}

/** The fingerprint of an ENCRYPTION_KEY as written in `.env` (see KeyCodec.fingerprint). */
export function keyFingerprint(encryptionKey: string): string {
  return codecFor(encryptionKey).fingerprint;
}

/** What one stored row is, judged by its own key_hash (decidable per row, unlike GPT-Load's sampling). */
export type RowState = 'plaintext' | 'encrypted' | 'unknown';

/**
 * Each row's state. plaintext: SHA-256(key_value) == key_hash. encrypted: `codec` decrypts it and
 * re-hashes to key_hash. unknown: neither (another key, corruption, or a hand-edited row). The rows
 * not in plaintext are opened in one batch (decryptMany).
 */
export function classifyRows(rows: ReadonlyArray<{ key_value: string; key_hash: string }>, codec: KeyCodec): RowState[] {
  const states = rows.map((row): RowState => (sha256Hex(row.key_value) === row.key_hash ? 'plaintext' : 'unknown'));
  if (!codec.enabled) return states;
  const sealed = states.flatMap((state, i) => (state === 'unknown' ? [i] : []));
  const opened = codec.decryptMany(sealed.map((i) => rows[i].key_value));
  sealed.forEach((row, k) => {
    const plain = opened[k];
    if (plain !== null && codec.hash(plain) === rows[row].key_hash) states[row] = 'encrypted';
  });
  return states;
}
