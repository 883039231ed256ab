/**
 * A manifest read from a backup: member 1 of a portable file or the manifest row of a SQLite one,
 * its shape (docs/backup-format.md) checked where it enters — before anything reads a field of it. A manifest is text from a file anyone with the backups folder could write:
 * `tables: "x"`, `[null]` or `encryption: null` make it corrupt, one clear verdict for that file,
 * never a crash of the command reading it.
 */
import Ajv from 'ajv';
import { crc32 } from 'node:zlib';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, BACKUP_TABLES, MANIFEST_MEMBER_OVERHEAD, MANIFEST_PREFIX_BYTES, manifestLineLength, unkeyedSealOk, type BackupManifest } from './format';

const HEX64 = '^[0-9a-f]{64}$';
const count = { type: 'integer', minimum: 0 };
const keyCounts = {
  type: 'object',
  required: ['total', 'plaintext', 'encrypted', 'unknown', 'empty'],
  properties: { total: count, plaintext: count, encrypted: count, unknown: count, empty: count },
};

/** Built on first use: compiling the schema costs a few milliseconds that most commands never need. */
const manifestSchema = () => ({
  type: 'object',
  required: ['format', 'version', 'layout', 'engine', 'source', 'createdAt', 'tool', 'snapshot', 'tables', 'encryption', 'seal'],
  properties: {
    format: { const: BACKUP_FORMAT },
    version: { type: 'integer', minimum: 1 },
    layout: { enum: ['sqlite', 'portable'] },
    engine: { enum: ['sqlite', 'mysql', 'postgres'] },
    source: { type: 'string', maxLength: 4096 },
    createdAt: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' },
    tool: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string', maxLength: 256 }, version: { type: 'string', maxLength: 256 } } },
    snapshot: { enum: ['sqlite-backup-api', 'mysql-consistent-snapshot', 'postgres-repeatable-read'] },
    tables: {
      type: 'array',
      maxItems: BACKUP_TABLES.length,
      items: {
        type: 'object',
        required: ['name', 'present', 'included', 'columns', 'rows', 'sha256'],
        properties: {
          name: { enum: [...BACKUP_TABLES] },
          present: { type: 'boolean' },
          included: { type: 'boolean' },
          columns: {
            type: 'array',
            maxItems: 1000,
            items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string', maxLength: 256 }, type: { type: 'string', maxLength: 256 } } },
          },
          rows: count,
          sha256: { type: 'string', pattern: `${HEX64}|^$` },
        },
      },
    },
    encryption: {
      type: 'object',
      required: ['keyFingerprint', 'configuredFingerprint', 'apiKeys', 'requestLogs'],
      properties: {
        keyFingerprint: { type: ['string', 'null'], maxLength: 64 },
        configuredFingerprint: { type: 'string', maxLength: 64 },
        apiKeys: keyCounts,
        requestLogs: { anyOf: [{ type: 'null' }, keyCounts] },
      },
    },
    body: { type: 'object', required: ['bytes', 'sha256'], properties: { bytes: count, sha256: { type: 'string', pattern: HEX64 } } },
    sealKey: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    seal: { type: 'string', pattern: HEX64 },
  },
});

let validate: ((value: unknown) => boolean) | undefined;

/** Whether `value` has a manifest's shape (every field a reader uses, of the right type). */
function isManifestShape(value: unknown): value is BackupManifest {
  validate ??= new Ajv({ allErrors: false, strict: true }).compile<BackupManifest>(manifestSchema());
  return validate(value);
}

export type ManifestDecodeFailure = 'not-a-backup' | 'truncated' | 'crc' | 'json' | 'shape' | 'seal' | 'version';

/** The manifest from member 1 (`member` = the first MANIFEST_MEMBER_OVERHEAD + length bytes). */
export function decodeManifestMember(member: Buffer): { manifest: BackupManifest } | { failure: ManifestDecodeFailure } {
  const length = manifestLineLength(member);
  if (length === null) return { failure: 'not-a-backup' };
  if (member.length < MANIFEST_MEMBER_OVERHEAD + length) return { failure: 'truncated' };
  const line = member.subarray(MANIFEST_PREFIX_BYTES, MANIFEST_PREFIX_BYTES + length);
  const trailer = member.subarray(MANIFEST_PREFIX_BYTES + length, MANIFEST_MEMBER_OVERHEAD + length);
  if (trailer.readUInt32LE(0) !== crc32(line) >>> 0 || trailer.readUInt32LE(4) !== length) return { failure: 'crc' };
  return parseManifest(line.toString('utf8'));
}

/** A manifest longer than this is no manifest of ours (a portable one is at most 64 KiB by construction). */
const MAX_MANIFEST_CHARS = 1024 * 1024;

export function parseManifest(text: string): { manifest: BackupManifest } | { failure: ManifestDecodeFailure } {
  if (text.length > MAX_MANIFEST_CHARS) return { failure: 'shape' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { failure: 'json' };
  }
  if (value === null || typeof value !== 'object' || (value as { format?: unknown }).format !== BACKUP_FORMAT) return { failure: 'not-a-backup' };
  const version = (value as { version?: unknown }).version;
  if (typeof version === 'number' && version > BACKUP_FORMAT_VERSION) return { failure: 'version' };
  // The shape before any field is read; a version this tool never wrote fails it too.
  if (!isManifestShape(value) || ![1, 2].includes(value.version) || (value.version === 2) !== (value.sealKey !== undefined)) return { failure: 'shape' };
  // A keyed seal needs the keys at hand: backupCheck verifies it (backupSeal.ts checkSeal).
  if (value.version === 1 && !unkeyedSealOk(value)) return { failure: 'seal' };
  return { manifest: value };
}
