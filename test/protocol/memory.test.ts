/**
 * Memory stays flat: 10,000 mixed requests and document changes after a warm-up, heap measured
 * after a full GC (the daemon runs with --expose-gc and --debug-methods). The bound is on growth,
 * not time.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DebugMemoryRequest, EncryptRequest, EnvReadRequest, KeysRequest } from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { fileUri, startDaemon, type Daemon } from './daemon';

const REQUESTS = 10_000;
/** A leak of 200 bytes per request would exceed it; the heap's own noise stays well under. */
const MAX_GROWTH_BYTES = 2 * 1024 * 1024;

async function heapUsed(daemon: Daemon): Promise<number> {
  // Two rounds: finalizers of the first may free more in the second.
  await daemon.rpc.sendRequest(DebugMemoryRequest.type, {});
  const { heapUsed, collected } = await daemon.rpc.sendRequest(DebugMemoryRequest.type, {});
  assert.ok(collected, 'the daemon runs with --expose-gc');
  return heapUsed;
}

test(`heap after GC stays flat over ${REQUESTS.toLocaleString('en-US')} requests`, async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 500, encryptionKey: 'memory-test-key-0123456789abcdef', env: true });
  assert.ok(db);
  const daemon = await startDaemon(t, { nodeArgs: ['--expose-gc'], args: ['--debug-methods'] });
  const envFile = join(db.envDir, '.env');
  const deployment = { envFile };
  const uri = fileUri(envFile);
  daemon.open(uri, 'AUTH_KEY=x\n');
  let version = 1;

  const round = async (i: number) => {
    switch (i % 5) {
      case 0:
        return daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 20, afterId: (i * 7) % 400 });
      case 1:
        return daemon.rpc.sendRequest(EnvReadRequest.type, { envFile });
      case 2:
        return daemon.rpc.sendRequest(EncryptRequest.type, { deployment, values: [`sk-${i}`] });
      case 3:
        daemon.change(uri, `AUTH_KEY=value-${i}\nENCRYPTION_KEY=\nA=$B\nA=2\n`, ++version);
        return daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 1 } });
      default:
        return daemon.rpc.sendRequest('gptLoad/unknown', {}).catch(() => undefined);
    }
  };
  const run = async (from: number, count: number) => {
    // Eight in flight, as an editor with a tree view and diagnostics would have.
    for (let i = from; i < from + count; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => round(i + k)));
  };

  await run(0, 1000);
  const before = await heapUsed(daemon);
  await run(1000, REQUESTS);
  const after = await heapUsed(daemon);
  t.diagnostic(`heapUsed after GC: ${(before / 1048576).toFixed(1)} MiB → ${(after / 1048576).toFixed(1)} MiB`);
  assert.ok(after - before < MAX_GROWTH_BYTES, `heap grew by ${after - before} bytes`);
});
