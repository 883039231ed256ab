/**
 * HMAC-SHA256 of many messages under one key in one go (FIPS 180-4, RFC 2104): GPT-Load's key_hash.
 *
 * Why not Node's createHmac: it builds a fresh HMAC context per message (the key's two padded blocks
 * hashed again each time, and three calls into C++), 2–5 µs for an API key, and migrate-keys hashes
 * every row twice (checking its key_hash, making the new one). Here the two padded key blocks are
 * hashed once, each message costs its own blocks plus one, and all messages are encoded into one
 * buffer and their digests read out as one hex string: a migrate batch took 4.7–4.8 instead of
 * 6.0–6.1 µs of CPU per row. Tests hold it to Node's HMAC byte for byte; KeyCodec.hashMany also has
 * Node recompute a sample of every batch (crypto.ts).
 */

import { Scratch, viewOf } from './scratch';

const BLOCK = 64;
const DIGEST = 32;
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export class HmacSha256Batch {
  /** SHA-256 states after the key's inner (⊕ 0x36) and outer (⊕ 0x5c) blocks. */
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly schedule = new Int32Array(64);
  /** The outer hash's one block: the inner digest, padding, length (64 + 32 bytes). */
  private readonly outerBlock = Buffer.alloc(BLOCK);
  private readonly outerView = viewOf(this.outerBlock);
  /** The padded messages, and their digests. */
  private readonly messages = new Scratch();
  private readonly digests = new Scratch();

  constructor(key: Buffer) {
    if (key.length > BLOCK) throw new RangeError('HMAC keys longer than a block are hashed first; GPT-Load uses 32 bytes');
    const pad = Buffer.alloc(BLOCK);
    for (const [state, byte] of [[this.inner, 0x36], [this.outer, 0x5c]] as const) {
      pad.fill(byte);
      for (let i = 0; i < key.length; i++) pad[i] ^= key[i];
      state.set(INITIAL);
      this.compress(state, viewOf(pad), 0);
    }
    this.outerBlock[DIGEST] = 0x80;
    this.outerView.setUint32(BLOCK - 4, (BLOCK + DIGEST) * 8);
  }

  /** The lowercase hex HMAC of each message's UTF-8 bytes (what createHmac('sha256', key).update(m, 'utf8').digest('hex') gives). */
  hexMany(messages: readonly string[]): string[] {
    const n = messages.length;
    const lengths = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      lengths[i] = Buffer.byteLength(messages[i], 'utf8');
      total += paddedLength(lengths[i]);
    }
    // Every message padded to whole blocks as SHA-256 pads it (0x80, zeros, its bit length after the key block).
    const bytes = this.messages.take(total).fill(0);
    const view = viewOf(bytes);
    const digests = this.digests.take(n * DIGEST);
    const digestView = viewOf(digests);
    const { state, outerView } = this;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const length = lengths[i];
      const padded = paddedLength(length);
      bytes.write(messages[i], at, length, 'utf8');
      bytes[at + length] = 0x80;
      const bits = (BLOCK + length) * 8;
      view.setUint32(at + padded - 8, Math.floor(bits / 0x1_0000_0000));
      view.setUint32(at + padded - 4, bits >>> 0);
      state.set(this.inner);
      for (let block = at; block < at + padded; block += BLOCK) this.compress(state, view, block);
      for (let w = 0; w < 8; w++) outerView.setInt32(4 * w, state[w]);
      state.set(this.outer);
      this.compress(state, outerView, 0);
      for (let w = 0; w < 8; w++) digestView.setInt32(i * DIGEST + 4 * w, state[w]);
      at += padded;
    }
    const hex = digests.toString('hex');
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = hex.slice(2 * DIGEST * i, 2 * DIGEST * (i + 1));
    return out;
  }

  /** One SHA-256 compression of the block at `at` into `h`. */
  private compress(h: Int32Array, view: DataView, at: number): void {
    const w = this.schedule;
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(at + 4 * i);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0];
    let b = h[1];
    let c = h[2];
    let d = h[3];
    let e = h[4];
    let f = h[5];
    let g = h[6];
    let hh = h[7];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + hh) | 0;
  }
}

/** A message's bytes with SHA-256's padding: 0x80, zeros, 8 bytes of length, to whole blocks. */
function paddedLength(length: number): number {
  return Math.ceil((length + 9) / BLOCK) * BLOCK;
}
