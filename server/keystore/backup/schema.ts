/**
 * The manifest's shape (docs/backup-format.md), checked where a manifest enters — before anything
 * reads a field of it. A manifest is text from a file anyone with the backups folder could write:
 * `tables: "x"`, `[null]` or `encryption: null` make it corrupt, one clear verdict for that file,
 * never a crash of the command reading it.
 */
import Ajv from 'ajv';
import { BACKUP_FORMAT, BACKUP_TABLES, type BackupManifest } from './format';

const HEX64 = '^[0-9a-f]{64}$';
const count = { type: 'integer', minimum: 0 };
const keyCounts = {
  type: 'object',
  required: ['total', 'plaintext', 'encrypted', 'unknown', 'empty'],
  properties: { total: count, plaintext: count, encrypted: count, unknown: count, empty: count },
};

/** Built on first use: backupFormat.ts and this module import each other. */
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
export function isManifestShape(value: unknown): value is BackupManifest {
  validate ??= new Ajv({ allErrors: false, strict: true }).compile<BackupManifest>(manifestSchema());
  return validate(value);
}
