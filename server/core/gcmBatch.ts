/**
 * AES-256-GCM over many values under one key in one go, exactly as GCM defines it (NIST SP 800-38D,
 * 96-bit nonce, no associated data — GPT-Load's layout, see crypto.ts): opening stored values, and
 * sealing new ones (migrate-keys).
 *
 * Why not Node's cipher and decipher: each builds a fresh cipher context per value, about 2 µs of key
 * setup to open and 8–9 µs in all to seal a short API key, which is most of what the per-row crypto of
 * a page or a migration costs. Here all counter blocks of all values go through one AES-ECB context
 * in a single call, and GHASH runs on a table made once per key. Every tag is checked, so a value
 * whose tag alone is damaged fails here exactly as it fails in GPT-Load; tests hold both directions to
 * Node's own GCM byte for byte (the same nonce gives the same value).
 *
 * GHASH's table lookups are not constant-time. What cache timing could reveal is the GHASH subkey,
 * which would help forge values, never read them; and only to code already running on this machine,
 * which can read the database and `.env` anyway.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { Scratch, viewOf } from './scratch';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BLOCK = 16;
/** x^i·H for a byte at each of the 16 positions of a block: 16 × 256 entries of 4 big-endian words. */
const TABLE_WORDS = 16 * 256 * 4;

export class GcmBatch {
  /** ECB without padding keeps no state between calls: one context serves every value. */
  private readonly aes: Cipher;
  private readonly table: Int32Array;
  /** GHASH's running value, and the block being multiplied. */
  private readonly state = new Int32Array(4);
  private readonly product = new Int32Array(4);
  /** A last, partial block, zero-padded. */
  private readonly tail = Buffer.alloc(BLOCK);
  private readonly tailView = viewOf(this.tail);
  /** The values being opened or sealed, and their counter blocks. */
  private readonly values = new Scratch();
  private readonly counters = new Scratch();

  constructor(key: Buffer) {
    this.aes = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    this.table = ghashTable(this.aes.update(Buffer.alloc(BLOCK)));
  }

  /**
   * Each stored value (hex of nonce ‖ ciphertext ‖ tag) opened to its UTF-8 plaintext, or null where
   * it is not hex, too short to be a GCM value, or fails authentication under this key.
   */
  openHex(stored: readonly string[]): Array<string | null> {
    // All values end to end in one buffer, read through one DataView (Buffer's own readers check
    // bounds on every call, and a buffer per value costs more than its few bytes).
    let total = 0;
    for (const value of stored) total += value.length >>> 1;
    const bytes = this.values.take(total);
    const view = viewOf(bytes);
    /** Per value: where it starts in `bytes`, its ciphertext's length (-1: not a GCM value), where its blocks start in the keystream. */
    const starts = new Int32Array(stored.length);
    const lengths = new Int32Array(stored.length);
    const streamStarts = new Int32Array(stored.length);
    let at = 0;
    let blocks = 0;
    stored.forEach((value, i) => {
      const written = bytes.write(value, at, 'hex');
      // write stops at the first pair that is not hex, so a full length means all of it was.
      const whole = written * 2 === value.length && written >= NONCE_BYTES + TAG_BYTES;
      starts[i] = at;
      lengths[i] = whole ? written - NONCE_BYTES - TAG_BYTES : -1;
      streamStarts[i] = blocks * BLOCK;
      if (whole) blocks += 1 + Math.ceil(lengths[i] / BLOCK);
      at += written;
    });
    const stream = this.keystream(view, starts, lengths, streamStarts, blocks);
    const streamView = viewOf(stream);
    return stored.map((_, i) => {
      const length = lengths[i];
      if (length < 0) return null;
      const streamAt = streamStarts[i];
      const body = starts[i] + NONCE_BYTES;
      this.ghash(bytes, view, body, length);
      const s = this.state;
      let diff = 0;
      for (let w = 0; w < 16; w += 4) diff |= view.getInt32(body + length + w) ^ streamView.getInt32(streamAt + w) ^ s[w >> 2];
      if (diff !== 0) return null;
      for (let k = 0; k < length; k++) bytes[body + k] ^= stream[streamAt + BLOCK + k];
      return bytes.toString('utf8', body, body + length);
    });
  }

  /**
   * Each UTF-8 plaintext sealed under the nonce at `nonces[12·i…]`, as hex of nonce ‖ ciphertext ‖ tag
   * (what Node's aes-256-gcm gives for the same nonce). The caller draws the nonces (one CSPRNG fill per
   * batch) and never reuses one.
   */
  sealHex(plains: readonly string[], nonces: Buffer): string[] {
    if (nonces.length < plains.length * NONCE_BYTES) throw new RangeError('one 12-byte nonce per value');
    const n = plains.length;
    const starts = new Int32Array(n);
    const lengths = new Int32Array(n);
    const streamStarts = new Int32Array(n);
    let total = 0;
    let blocks = 0;
    for (let i = 0; i < n; i++) {
      const length = Buffer.byteLength(plains[i], 'utf8');
      starts[i] = total;
      lengths[i] = length;
      streamStarts[i] = blocks * BLOCK;
      total += NONCE_BYTES + length + TAG_BYTES;
      blocks += 1 + Math.ceil(length / BLOCK);
    }
    // Every value laid out as stored (nonce ‖ plaintext, then ciphertext ‖ tag), one hex encoding for all.
    const bytes = this.values.take(total);
    const view = viewOf(bytes);
    for (let i = 0; i < n; i++) {
      nonces.copy(bytes, starts[i], i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
      bytes.write(plains[i], starts[i] + NONCE_BYTES, lengths[i], 'utf8');
    }
    const stream = this.keystream(view, starts, lengths, streamStarts, blocks);
    const streamView = viewOf(stream);
    const s = this.state;
    for (let i = 0; i < n; i++) {
      const length = lengths[i];
      const body = starts[i] + NONCE_BYTES;
      const streamAt = streamStarts[i];
      for (let k = 0; k < length; k++) bytes[body + k] ^= stream[streamAt + BLOCK + k];
      this.ghash(bytes, view, body, length);
      for (let w = 0; w < 16; w += 4) view.setInt32(body + length + w, streamView.getInt32(streamAt + w) ^ s[w >> 2]);
    }
    const hex = bytes.toString('hex');
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = hex.slice(2 * starts[i], 2 * (starts[i] + NONCE_BYTES + lengths[i] + TAG_BYTES));
    return out;
  }

  /**
   * The AES of every value's counter blocks, in one call: per value (its nonce at `starts[i]` of
   * `view`, `lengths[i]` bytes of text, -1: none) J0 = nonce ‖ 1, which masks the tag, then
   * nonce ‖ 2, 3, … (the keystream), from `streamStarts[i]`.
   */
  private keystream(view: DataView, starts: Int32Array, lengths: Int32Array, streamStarts: Int32Array, blocks: number): Buffer {
    const counters = this.counters.take(blocks * BLOCK);
    const counterView = viewOf(counters);
    for (let i = 0; i < starts.length; i++) {
      if (lengths[i] < 0) continue;
      const n0 = view.getInt32(starts[i]);
      const n1 = view.getInt32(starts[i] + 4);
      const n2 = view.getInt32(starts[i] + 8);
      for (let j = 1, n = 1 + Math.ceil(lengths[i] / BLOCK); j <= n; j++) {
        const block = streamStarts[i] + (j - 1) * BLOCK;
        counterView.setInt32(block, n0);
        counterView.setInt32(block + 4, n1);
        counterView.setInt32(block + 8, n2);
        counterView.setInt32(block + 12, j);
      }
    }
    return this.aes.update(counters);
  }

  /** GHASH of `length` bytes from `start` (zero-padded to whole blocks) and their length block, into `state`. */
  private ghash(bytes: Buffer, view: DataView, start: number, length: number): void {
    this.state.fill(0);
    const end = start + length;
    let at = start;
    for (; at + BLOCK <= end; at += BLOCK) this.multiply(view.getInt32(at), view.getInt32(at + 4), view.getInt32(at + 8), view.getInt32(at + 12));
    if (at < end) {
      const tail = this.tail;
      for (let k = 0; k < BLOCK; k++) tail[k] = at + k < end ? bytes[at + k] : 0;
      const t = this.tailView;
      this.multiply(t.getInt32(0), t.getInt32(4), t.getInt32(8), t.getInt32(12));
    }
    const bits = length * 8;
    this.multiply(0, 0, Math.floor(bits / 0x1_0000_0000), bits | 0);
  }

  /** state = (state ⊕ x)·H: the XOR of the table's entries for its 16 bytes. */
  private multiply(x0: number, x1: number, x2: number, x3: number): void {
    const s = this.state;
    const y = this.product;
    y[0] = s[0] ^ x0;
    y[1] = s[1] ^ x1;
    y[2] = s[2] ^ x2;
    y[3] = s[3] ^ x3;
    const t = this.table;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    for (let p = 0; p < 16; p++) {
      const i = (p << 10) | (((y[p >> 2] >>> (24 - 8 * (p & 3))) & 0xff) << 2);
      z0 ^= t[i];
      z1 ^= t[i + 1];
      z2 ^= t[i + 2];
      z3 ^= t[i + 3];
    }
    s[0] = z0;
    s[1] = z1;
    s[2] = z2;
    s[3] = z3;
  }
}

/**
 * The table for multiplying by H: entry (p, b) is the block holding byte b at position p, times H.
 * Bit i of a block (most significant bit of byte 0 first) stands for x^i, so x^i·H is H shifted
 * right i times, reduced by x^128 = x^7 + x^2 + x + 1 (0xe1 in the first byte) at each carry.
 */
function ghashTable(h: Buffer): Int32Array {
  const powers = new Int32Array(128 * 4);
  let v0 = h.readInt32BE(0);
  let v1 = h.readInt32BE(4);
  let v2 = h.readInt32BE(8);
  let v3 = h.readInt32BE(12);
  for (let i = 0; i < 128; i++) {
    powers.set([v0, v1, v2, v3], i * 4);
    const carry = v3 & 1;
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
  }
  const table = new Int32Array(TABLE_WORDS);
  for (let p = 0; p < 16; p++) {
    for (let b = 1; b < 256; b++) {
      // b = its lowest set bit + the rest, whose entry is already made.
      const low = b & -b;
      const bit = 7 - Math.log2(low);
      const rest = ((p << 8) | (b ^ low)) << 2;
      const power = (p * 8 + bit) * 4;
      const at = ((p << 8) | b) << 2;
      for (let w = 0; w < 4; w++) table[at + w] = table[rest + w] ^ powers[power + w];
    }
  }
  return table;
}
