/**
 * Working memory of the batch crypto (gcmBatch.ts, hmacBatch.ts), kept from one batch to the next.
 * A fresh buffer per batch is memory outside V8's heap that its collector counts only loosely: in the
 * worker threads of migrate-keys, batches of 5,000 rows left tens of MiB of such buffers waiting for
 * a collection, which showed in the run's peak memory.
 */
export class Scratch {
  private buffer = Buffer.alloc(0);

  /** `size` bytes (their content undefined), valid until the next take. */
  take(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(Math.max(size, 2 * this.buffer.length));
    return this.buffer.subarray(0, size);
  }
}

/** A DataView over exactly these bytes (Buffer's own readers check bounds on every call). */
export function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
