/**
 * GPT-Load's `temp_migration` side table (id, key_value_new, key_hash_new), left behind when its own
 * migrate-keys was interrupted. api_keys is consistent either way (GPT-Load swaps in one
 * transaction), so the table is garbage — holding a copy of every key, in plaintext when that run
 * was disabling encryption. It is never read as data: only counted and looked at for its shape.
 */
import { sha256Hex } from '../../core/crypto';
import type { Localized } from '../../core/errors';
import { tableExists, type SqlRunner } from '../../store/connect';
import { countRows } from '../../store/rows';
import type { TempMigrationLeftover } from '../../../shared/types';
import { looksEncrypted } from '../migrate/crypto';

export type { TempMigrationLeftover };

const TEMP_MIGRATION_TABLE = 'temp_migration';

/** Rows looked at to tell whether the copies are plaintext. */
const SHAPE_SAMPLE = 100;

/** The leftover table, or null when there is none. */
export async function findTempMigration(runner: SqlRunner): Promise<TempMigrationLeftover | null> {
  if (!(await tableExists(runner, TEMP_MIGRATION_TABLE))) return null;
  const rows = await countRows(runner, TEMP_MIGRATION_TABLE);
  const sample = await runner.query<{ v: string | null; h: string | null }>(`SELECT key_value_new AS v, key_hash_new AS h FROM ${runner.q(TEMP_MIGRATION_TABLE)} LIMIT ${SHAPE_SAMPLE}`);
  const holdsPlaintext = sample.some(({ v, h }) => {
    const value = v ?? '';
    return value !== '' && (sha256Hex(value) === (h ?? '') || !looksEncrypted(value));
  });
  return { rows, holdsPlaintext };
}

/**
 * Drops the table. Transactional on SQLite and PostgreSQL; on MySQL a DROP TABLE commits the
 * transaction it runs in, so callers there run it on its own, after their COMMIT.
 */
export async function dropTempMigration(runner: SqlRunner): Promise<void> {
  await runner.execute(`DROP TABLE IF EXISTS ${runner.q(TEMP_MIGRATION_TABLE)}`);
}

export function describeTempMigration(leftover: TempMigrationLeftover): Localized {
  const what: Localized = leftover.holdsPlaintext
    ? { en: 'plaintext copies of keys', zh: '密钥的明文副本' }
    : { en: 'encrypted copies of keys', zh: '密钥的加密副本' };
  return {
    en: `table ${TEMP_MIGRATION_TABLE} left by an interrupted GPT-Load migrate-keys: ${leftover.rows.toLocaleString('en-US')} rows, ${what.en}`,
    zh: `中断的 GPT-Load migrate-keys 遗留的 ${TEMP_MIGRATION_TABLE} 表：${leftover.rows.toLocaleString('en-US')} 行，${what.zh}`,
  };
}
