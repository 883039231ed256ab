/**
 * Are the operator's copies of ENCRYPTION_KEY (password manager, vault, paper) still the key? Each
 * candidate is tried on a sample of the stored encrypted keys and compared, by fingerprint, with the
 * .env's key and with the key each backup needs. Candidates live only for the call and are never
 * returned, logged or put into a message: results name them by index and fingerprint.
 */
import { codecFor, sha256Hex } from '../../core/crypto';
import { throwIfCancelled } from '../../core/errors';
import type { Store } from '../../store/connect';
import { sampleHashedKeys } from '../../store/rows';
import { readBackupManifest } from './check';
import type { OperationContext } from '../operation';
import type { KeyCopyCheck } from '../../../shared/types';

export interface KeyCandidatesParams {
  /** The copies to check (secrets: used for this call only). */
  candidates: string[];
  /** ENCRYPTION_KEY in the .env ('' = disabled). */
  envKey: string;
  /** Backup files whose needed key is compared with each candidate. */
  backups?: string[];
  /** Encrypted rows to try (default 50). */
  sampleSize?: number;
}

/** The wire's KeyCopyCheck, with the backups each copy opens always listed. */
type KeyCandidateCheck = KeyCopyCheck & { matchesBackups: string[] };

export interface KeyCandidatesReport {
  /** Encrypted rows sampled (the same rows for every candidate). */
  sampled: number;
  envFingerprint: string;
  results: KeyCandidateCheck[];
  /** Backups that could not be read (damaged), by path. */
  unreadableBackups: string[];
}

const SCAN_FOR_SAMPLE = 4;

export async function checkKeyCandidates(store: Store, params: KeyCandidatesParams, context: OperationContext = {}): Promise<KeyCandidatesReport> {
  const wanted = params.sampleSize ?? 50;
  // Plaintext rows say nothing about a key: sample among the encrypted ones.
  const sample = (await sampleHashedKeys(store, wanted * SCAN_FOR_SAMPLE)).filter((r) => sha256Hex(r.key_value) !== r.key_hash).slice(0, wanted);
  const backupKeys: Array<{ path: string; needed: string | null }> = [];
  const unreadableBackups: string[] = [];
  for (const path of params.backups ?? []) {
    const manifest = readBackupManifest(path);
    if (manifest) backupKeys.push({ path, needed: manifest.encryption.keyFingerprint });
    else unreadableBackups.push(path);
  }
  const envFingerprint = codecFor(params.envKey).fingerprint;
  const results = params.candidates.map((candidate, index) => {
    throwIfCancelled(context.cancellation);
    const codec = codecFor(candidate);
    let decrypted = 0;
    if (codec.enabled) {
      for (const row of sample) {
        try {
          if (codec.hash(codec.decrypt(row.key_value)) === row.key_hash) decrypted++;
        } catch {
          // not this key
        }
      }
    }
    return {
      index,
      fingerprint: codec.fingerprint,
      works: sample.length > 0 && decrypted === sample.length,
      decrypted,
      sampled: sample.length,
      matchesEnv: codec.fingerprint === envFingerprint,
      matchesBackups: backupKeys.filter((b) => b.needed === codec.fingerprint).map((b) => b.path),
    };
  });
  return { sampled: sample.length, envFingerprint, results, unreadableBackups };
}
