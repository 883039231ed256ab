/**
 * Codecs (derived ENCRYPTION_KEYs) kept for a few minutes: deriving one costs 100,000 PBKDF2 rounds,
 * and diagnostics, hovers and key pages ask for the same key again and again. Derivation runs on
 * libuv's thread pool (crypto.pbkdf2), so typing never waits for it. Entries are found by an HMAC of
 * the key under a per-process random salt (the map holds no key text), expire after CODEC_TTL_MS
 * unused, and at most MAX_CODECS are kept. Keys given for one request only (copies to check) use
 * `freshCodec` and are not kept.
 */
import { createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { codecFromDerivedKey, KDF_ITERATIONS, KDF_SALT, PLAINTEXT_CODEC, type KeyCodec } from '../core/crypto';

const CODEC_TTL_MS = 5 * 60_000;
const MAX_CODECS = 8;
const salt = randomBytes(32);

const cache = new Map<string, { codec: Promise<KeyCodec>; lastUsed: number }>();

/** The core's deriveKey, off the event loop. */
export function freshCodec(encryptionKey: string): Promise<KeyCodec> {
  if (encryptionKey === '') return Promise.resolve(PLAINTEXT_CODEC);
  return new Promise((resolve, reject) =>
    pbkdf2(Buffer.from(encryptionKey, 'utf8'), KDF_SALT, KDF_ITERATIONS, 32, 'sha256', (err, key) =>
      err ? reject(err) : resolve(codecFromDerivedKey(key)),
    ),
  );
}

export function cachedCodec(encryptionKey: string): Promise<KeyCodec> {
  if (encryptionKey === '') return Promise.resolve(PLAINTEXT_CODEC);
  const id = createHmac('sha256', salt).update(encryptionKey, 'utf8').digest('base64');
  const now = Date.now();
  for (const [key, entry] of cache) if (now - entry.lastUsed > CODEC_TTL_MS) cache.delete(key);
  const hit = cache.get(id);
  if (hit) {
    hit.lastUsed = now;
    // Re-inserted, so the Map's first entry is always the least recently used.
    cache.delete(id);
    cache.set(id, hit);
    return hit.codec;
  }
  const codec = freshCodec(encryptionKey);
  cache.set(id, { codec, lastUsed: now });
  codec.catch(() => cache.delete(id));
  while (cache.size > MAX_CODECS) cache.delete(cache.keys().next().value as string);
  return codec;
}
