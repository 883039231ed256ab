/**
 * GPT-Load v1.4.9's masking of upstream keys in stored error texts, over a whole key pool at once.
 * GPT-Load: `MaskAPIKey(key)` = key[:4] + "****" + key[len-4:] on bytes, keys of 8 bytes or fewer
 * returned as they are; `RedactSecret(text, key)` = strings.ReplaceAll(text, key, MaskAPIKey(key)).
 * GPT-Load applies it with the one key a request used; here every key of the pool is looked for in
 * one left-to-right pass (the longest key wins where two start at the same place), so a million keys
 * cost what a few do: candidates are found by a rolling hash of their first PREFIX characters.
 */

/** GPT-Load's MaskAPIKey, on UTF-8 bytes as Go slices strings. */
export function maskApiKey(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length <= 8) return key;
  return Buffer.concat([bytes.subarray(0, 4), Buffer.from('****'), bytes.subarray(bytes.length - 4)]).toString('utf8');
}

/** Characters hashed to find candidates; keys shorter than this (in characters) are looked for one by one. */
const PREFIX = 8;

function prefixHash(text: string, start: number): number {
  let h = 0;
  for (let i = start; i < start + PREFIX; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

/** 31^(PREFIX-1) mod 2^32: what the leaving character weighed in the rolling hash. */
const LEAVING = (() => {
  let p = 1;
  for (let i = 1; i < PREFIX; i++) p = Math.imul(p, 31);
  return p;
})();

export interface Redaction {
  text: string;
  /** Occurrences masked. */
  masked: number;
}

export class KeyRedactor {
  /** Keys by the rolling hash of their first PREFIX characters, longest first. */
  private readonly byPrefix = new Map<number, string[]>();
  /** Keys of more than 8 bytes but fewer than PREFIX characters (non-ASCII): searched for directly. */
  private readonly short: string[] = [];
  private readonly seen = new Set<string>();

  get size(): number {
    return this.seen.size;
  }

  /** Adds a key of the pool; keys of 8 bytes or fewer are ignored, as GPT-Load leaves them. */
  add(key: string): void {
    if (Buffer.byteLength(key, 'utf8') <= 8 || this.seen.has(key)) return;
    this.seen.add(key);
    if (key.length < PREFIX) {
      this.short.push(key);
      return;
    }
    const h = prefixHash(key, 0);
    const list = this.byPrefix.get(h);
    if (!list) this.byPrefix.set(h, [key]);
    else {
      list.push(key);
      list.sort((a, b) => b.length - a.length);
    }
  }

  /** Every key of the pool, and `own` (the row's own key), masked in `text`. */
  redact(text: string, own?: string | null): Redaction {
    let masked = 0;
    let out = text;
    if (this.byPrefix.size > 0 && out.length >= PREFIX) {
      const parts: string[] = [];
      let copied = 0;
      let h = prefixHash(out, 0);
      for (let i = 0; i + PREFIX <= out.length; ) {
        const found = this.byPrefix.get(h)?.find((key) => out.startsWith(key, i));
        if (found !== undefined) {
          parts.push(out.slice(copied, i), maskApiKey(found));
          masked++;
          i += found.length;
          copied = i;
          if (i + PREFIX <= out.length) h = prefixHash(out, i);
          continue;
        }
        if (i + PREFIX < out.length) h = (Math.imul(h - Math.imul(out.charCodeAt(i), LEAVING), 31) + out.charCodeAt(i + PREFIX)) | 0;
        i++;
      }
      if (masked > 0) out = parts.join('') + out.slice(copied);
    }
    for (const key of own && !this.seen.has(own) ? [...this.short, own] : this.short) {
      if (Buffer.byteLength(key, 'utf8') <= 8 || !out.includes(key)) continue;
      const pieces = out.split(key);
      masked += pieces.length - 1;
      out = pieces.join(maskApiKey(key));
    }
    return { text: out, masked };
  }
}
