/**
 * ENCRYPTION_KEY copies (a password manager entry, a vault, a sheet of paper) checked against the
 * data: a copy works when it decrypts and re-hashes every sampled encrypted row. The same rows are
 * tried with every copy; copies live only for the request.
 */
import { classifyRow, sha256Hex } from '../core/crypto';
import { throwIfCancelled } from '../core/errors';
import type { OperationContext } from '../keystore/operation';
import type { Store } from '../store/connect';
import { iterateKeyRows } from '../store/rows';
import type { KeyBackupsRequest, KeyCopyCheck } from '../../shared/protocol';
import { cachedCodec, freshCodec } from './codecs';

/** Encrypted rows tried per copy: enough that a wrong copy cannot pass by chance, cheap for 16 copies. */
export const KEY_COPY_SAMPLE = 50;

export async function checkKeyCopies(
  store: Store,
  envKey: string,
  candidates: string[],
  context: OperationContext,
): Promise<KeyBackupsRequest.Result> {
  const sample: Array<{ key_value: string; key_hash: string }> = [];
  for await (const batch of iterateKeyRows(store, { batchSize: 500 })) {
    throwIfCancelled(context.cancellation);
    for (const row of batch) {
      // Plaintext rows say nothing about a key.
      if (row.key_hash !== '' && sha256Hex(row.key_value) !== row.key_hash) sample.push(row);
      if (sample.length >= KEY_COPY_SAMPLE) break;
    }
    if (sample.length >= KEY_COPY_SAMPLE) break;
  }
  const envFingerprint = (await cachedCodec(envKey)).fingerprint;
  const results: KeyCopyCheck[] = [];
  for (const [index, candidate] of candidates.entries()) {
    throwIfCancelled(context.cancellation);
    context.progress?.({ phase: 'check key copies', done: index, total: candidates.length });
    const codec = await freshCodec(candidate);
    const decrypted = codec.enabled ? sample.filter((row) => classifyRow(row.key_value, row.key_hash, codec) === 'encrypted').length : 0;
    results.push({
      index,
      fingerprint: codec.fingerprint,
      works: sample.length > 0 && decrypted === sample.length,
      decrypted,
      sampled: sample.length,
      matchesEnv: codec.fingerprint === envFingerprint,
    });
  }
  context.progress?.({ phase: 'check key copies', done: candidates.length, total: candidates.length });
  return { sampled: sample.length, envFingerprint, results };
}
