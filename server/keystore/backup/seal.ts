/**
 * Keyed backup seals (docs/backup-format.md, format 2). The manifest — which carries every table's
 * and the body's digest — is sealed with an HMAC-SHA256 under a key only the deployment has:
 * derived from ENCRYPTION_KEY, or from AUTH_KEY when encryption is disabled. Someone who can only
 * write the backups folder can recompute digests, but not the seal.
 *
 * Keys are derived with HKDF-SHA256 under our own salt and info, so they are independent of
 * GPT-Load's own AES key (PBKDF2 of ENCRYPTION_KEY): for ENCRYPTION_KEY the input is that AES key
 * (what a codec holds), for AUTH_KEY the secret itself. The manifest records `sealKey`, a short
 * non-secret id of the key, so a check knows which of the keys at hand (the .env's, a given old
 * key) sealed it — and says plainly when none of them did.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { codecFor, derivedKeyOf, type KeyCodec } from '../../core/crypto';
import { KeystoreError } from '../../core/errors';
import { canonicalJson, type BackupManifest, type UnsealedManifest } from './format';
import type { Deployment } from '../deployment';

const SALT = 'gpt-load-keystore backup seal';

export interface SealKey {
  /** 16 hex digits naming the key; recorded in the manifest. Safe to print and store. */
  id: string;
  /** Which secret it comes from (for messages). */
  from: 'ENCRYPTION_KEY' | 'AUTH_KEY';
  key: Buffer;
}

function sealKey(input: Buffer, from: SealKey['from']): SealKey {
  const key = Buffer.from(hkdfSync('sha256', input, SALT, `manifest hmac from ${from}`, 32));
  return { id: createHmac('sha256', key).update('seal key id').digest('hex').slice(0, 16), from, key };
}

/** The seal key of an ENCRYPTION_KEY (its codec); null when encryption is disabled. */
export function sealKeyOfCodec(codec: KeyCodec): SealKey | null {
  const derived = derivedKeyOf(codec);
  return derived === null ? null : sealKey(derived, 'ENCRYPTION_KEY');
}

export function sealKeyOfAuthKey(authKey: string): SealKey | null {
  return authKey === '' ? null : sealKey(Buffer.from(authKey, 'utf8'), 'AUTH_KEY');
}

/** The key a deployment seals its backups with: ENCRYPTION_KEY's, else AUTH_KEY's. Throws when it has neither. */
export function deploymentSealKey(codec: KeyCodec, authKey: string): SealKey {
  const key = sealKeyOfCodec(codec) ?? sealKeyOfAuthKey(authKey);
  if (key) return key;
  throw new KeystoreError('key-required', {
    en: 'cannot seal a backup: neither ENCRYPTION_KEY nor AUTH_KEY is set (GPT-Load needs AUTH_KEY to start; set it in the .env)',
    zh: '无法为备份加上封签：ENCRYPTION_KEY 和 AUTH_KEY 都未设置（GPT-Load 需要 AUTH_KEY 才能启动；请在 .env 中设置）',
  });
}

/** Every key a check can try: the codecs' (a given key, the .env's) and AUTH_KEY's, without repeats. */
export function sealKeysAtHand(codecs: Array<KeyCodec | undefined>, authKey: string | undefined): SealKey[] {
  const keys = [...codecs.map((c) => (c ? sealKeyOfCodec(c) : null)), sealKeyOfAuthKey(authKey ?? '')];
  return keys.filter((k, i): k is SealKey => k !== null && keys.findIndex((o) => o?.id === k.id) === i);
}

/** The seal keys a deployment has at hand: a given key's (an older ENCRYPTION_KEY), its ENCRYPTION_KEY's, its AUTH_KEY's. */
export function deploymentSealKeys(deployment: Deployment, given?: KeyCodec): SealKey[] {
  return sealKeysAtHand([given, codecFor(deployment.encryptionKey)], deployment.env.get('AUTH_KEY'));
}

function mac(key: SealKey, manifest: Omit<BackupManifest, 'seal'>): string {
  return createHmac('sha256', key.key).update(canonicalJson(manifest)).digest('hex');
}

export function sealManifestWith(manifest: UnsealedManifest, key: SealKey): BackupManifest {
  const withKey = { ...manifest, sealKey: key.id };
  return { ...withKey, seal: mac(key, withKey) };
}

/**
 * verified: sealed by one of `keys` and unchanged since. forged: sealed by one of them, but the
 * manifest differs (altered, or damaged). unverifiable: an older unkeyed seal, or sealed by a key
 * not at hand — nothing says who wrote it.
 */
export type SealCheck = { state: 'verified'; key: SealKey } | { state: 'forged'; key: SealKey } | { state: 'unverifiable'; reason: 'unkeyed' | 'unknown-key'; sealKey: string | null };

export function checkSeal(manifest: BackupManifest, keys: SealKey[]): SealCheck {
  if (manifest.sealKey === undefined) return { state: 'unverifiable', reason: 'unkeyed', sealKey: null };
  const key = keys.find((k) => k.id === manifest.sealKey);
  if (!key) return { state: 'unverifiable', reason: 'unknown-key', sealKey: manifest.sealKey };
  const { seal, ...rest } = manifest;
  const expected = Buffer.from(mac(key, rest), 'hex');
  const got = Buffer.from(seal, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected) ? { state: 'verified', key } : { state: 'forged', key };
}
