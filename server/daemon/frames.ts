/**
 * The stdio input's framing, checked before the protocol library reads it. The library reads a
 * broken header (`Content-Length: abc`, a length off by one that leaves the next header misaligned)
 * by reporting an error and then waiting forever on a stream it can no longer split, and it buffers
 * whatever length a header announces. A daemon in that state is alive and deaf; instead, a broken
 * frame is logged and the daemon exits non-zero, so the client restarts it.
 *
 * Only the headers are checked here: a well-framed body that is not JSON costs that message alone
 * (the library answers or ignores it), the stream stays aligned.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Largest message accepted (the biggest legitimate ones, value lists and .env texts, are a few MB). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** A header block longer than this is not LSP's (Content-Length and Content-Type only). */
const MAX_HEADER_BYTES = 1024;
const HEADER_END = Buffer.from('\r\n\r\n');
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/** Why a header block is not a frame, or its body length. */
function frameLength(header: string): number | string {
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const m = HEADER_LINE.exec(line);
    if (!m) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    if (m[1].toLowerCase() !== 'content-length') continue;
    if (length !== undefined) return 'two Content-Length headers';
    if (!/^\d{1,15}$/.test(m[2])) return `Content-Length is not a byte count: ${JSON.stringify(m[2].slice(0, 40))}`;
    length = Number(m[2]);
  }
  if (length === undefined) return 'no Content-Length header';
  if (length > MAX_MESSAGE_BYTES) return `Content-Length ${length} exceeds the ${MAX_MESSAGE_BYTES}-byte limit`;
  return length;
}

/** Passes the bytes through while they frame correctly; the first broken frame calls `onBroken` and stops. */
export class FrameGuard extends Transform {
  private header = Buffer.alloc(0);
  private bodyLeft = 0;
  private broken = false;

  constructor(private readonly onBroken: (reason: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.broken) return callback();
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft > 0) {
        const taken = Math.min(this.bodyLeft, chunk.length - offset);
        this.bodyLeft -= taken;
        offset += taken;
        continue;
      }
      const before = this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(offset)]);
      const end = this.header.indexOf(HEADER_END);
      if (end === -1) {
        if (this.header.length > MAX_HEADER_BYTES) return this.fail(`a header block longer than ${MAX_HEADER_BYTES} bytes`, callback);
        break;
      }
      const length = frameLength(this.header.subarray(0, end).toString('latin1'));
      if (typeof length === 'string') return this.fail(length, callback);
      offset += end + HEADER_END.length - before;
      this.header = Buffer.alloc(0);
      this.bodyLeft = length;
    }
    this.push(chunk);
    callback();
  }

  private fail(reason: string, callback: TransformCallback): void {
    this.broken = true;
    callback();
    this.onBroken(reason);
  }
}
