/**
 * Crypto worker of migrate-keys, status and backups (bundled to dist/worker.js; run from source under
 * tsx in tests). It receives the two derived keys once, as its first message (the pool starts it
 * while they are still deriving), then batches of rows; it never sees a password, never touches the
 * database and keeps nothing between batches.
 */
import { parentPort } from 'node:worker_threads';
import { MigrationCrypto, type MigrationKeys, type RowsIn } from './migrate/crypto';

export interface WorkerRequest extends RowsIn {
  id: number;
  op: 'classify' | 'migrate' | 'open';
}

export interface WorkerKeys {
  op: 'keys';
  keys: MigrationKeys;
}

export type WorkerReply =
  | { id: number; op: 'classify'; states: Uint8Array }
  | { id: number; op: 'migrate'; states: Uint8Array; values: string[]; hashes: string[] }
  | { id: number; op: 'open'; states: Uint8Array; digests: string[] }
  | { id: number; error: string };

if (parentPort) {
  const port = parentPort;
  let crypto: MigrationCrypto | null = null;
  port.on('message', (request: WorkerKeys | WorkerRequest) => {
    if (request.op === 'keys') {
      crypto = new MigrationCrypto(request.keys);
      return;
    }
    let reply: WorkerReply;
    try {
      if (!crypto) throw new Error('no keys');
      reply =
        request.op === 'classify'
          ? { id: request.id, op: 'classify', states: crypto.classify(request) }
          : request.op === 'open'
            ? { id: request.id, op: 'open', ...crypto.open(request) }
            : { id: request.id, op: 'migrate', ...crypto.migrate(request) };
    } catch (err) {
      // Only the error's kind: a message could quote a value.
      reply = { id: request.id, error: err instanceof Error ? err.name : 'error' };
    }
    const transfer = 'states' in reply ? [reply.states.buffer as ArrayBuffer] : [];
    port.postMessage(reply, transfer);
  });
}
