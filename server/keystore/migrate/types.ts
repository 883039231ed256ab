/**
 * What a migrate-keys run takes and gives: its parameters, hooks, plan and result. A module of its
 * own so that the run (migrateKeys.ts) and its texts (notes.ts) both import these, not each other.
 */
import type { Localized } from '../../core/errors';
import type { Store } from '../../store/connect';
import type { CacheClearResult } from '../cache';
import type { Deployment } from '../deployment';
import type { MigrationJournal } from '../journal';
import type { ServiceCheck } from '../service';
import type { TempMigrationLeftover } from '../history/tempMigration';
import type { RestartHint } from './env';
import type { MigrationMode, PhaseOneCounts } from './plan';

export interface MigrateKeysParams {
  deployment: Deployment;
  /** The ENCRYPTION_KEY the data is under now; '' = plaintext (GPT-Load's --from omitted). */
  fromKey: string;
  /** The new ENCRYPTION_KEY; '' = disable encryption (GPT-Load's --to omitted). */
  toKey: string;
  /** Write ENCRYPTION_KEY into the .env after the commit (removed when disabling). */
  updateEnv?: boolean;
  /** Go on although GPT-Load answers /health or other sessions are connected. */
  force?: boolean;
  /** Leave request_logs as they are (GPT-Load's own migrate-keys does). */
  skipLogs?: boolean;
  /** Rows under neither key stay exactly as they are (named in the summary) instead of refusing the run. */
  leaveUndecryptable?: boolean;
  /** Run every check and report what would change; write nothing. */
  dryRun?: boolean;
  /** Delete GPT-Load's stale Redis entries when REDIS_DSN is set (default true). */
  clearCache?: boolean;
  /** HOST[:PORT] replacing REDIS_DSN's host. */
  redisHost?: string;
  /** Connection timeout for the database and Redis, ms (default 5000). */
  timeoutMs?: number;
  /** Crypto worker threads (default one per CPU, less one on MySQL/PostgreSQL; 0 = main thread; small tables always use the main thread). */
  threads?: number;
  /** Rows per keyset batch (default 2000 on SQLite, 5000 on MySQL/PostgreSQL). */
  batchSize?: number;
  /**
   * Go on with a new key GPT-Load's dashboard would flag (default false: refused with 'weak-key'
   * before anything is done). Fronts set it after the user confirmed the warnings, or on request.
   */
  allowWeakKey?: boolean;
  hooks?: MigrateHooks;
}

interface MigrateHooks {
  /** Every check passed and something will be written: false stops the run (nothing written, 'cancelled'). */
  confirm?(plan: MigrationPlan): Promise<boolean>;
  /**
   * Right before the first write (the backup step plugs in here). What it returns is reported as
   * `backup` in the result; throwing stops the run with nothing written.
   */
  beforeWrite?: (plan: MigrationPlan, store: Store) => Promise<unknown>;
}

/** What the checks found and what the run is about to do. */
export interface MigrationPlan {
  mode: MigrationMode;
  /** migrate: every keyed row is in the source state; finish: source and target rows (a partial change); complete: nothing left in the source state. */
  action: 'migrate' | 'finish' | 'complete';
  /** Rows to rewrite, both tables. */
  rows: number;
  /** Rows already under the target key. */
  alreadyDone: number;
  /** A rerun of a finished change: every row under the target key and the .env already names it. */
  upToDate: boolean;
  target: string;
  fromFingerprint: string;
  toFingerprint: string;
  tables: PhaseOneCounts;
  service: ServiceCheck;
  /** --force overrode a running-service finding. */
  forced: boolean;
  /** An interrupted earlier run found at start (its journal), if any. */
  interrupted: InterruptedRun | null;
  updateEnv: boolean;
  skipLogs: boolean;
  /** GPT-Load's leftover side table: dropped by the run (after its backup), never read as data. */
  tempMigration: TempMigrationLeftover | null;
  warnings: Localized[];
  /** GPT-Load's dashboard warnings about the new key (allowed by allowWeakKey): for the confirmation. */
  keyWarnings: Localized[];
}

export interface InterruptedRun {
  journal: MigrationJournal;
  /** Same keys as this run: this run finishes it. */
  sameKeys: boolean;
  explanation: Localized;
}

type MigrateOutcome =
  /** Rows rewritten. */
  | 'migrated'
  /** A partial change (or one interrupted after its commit) completed. */
  | 'finished'
  /** The database was already under the target key; only .env / cache / cleanup were done. */
  | 'completed'
  /** No keyed rows at all. */
  | 'nothing-to-migrate'
  /** A rerun: every row already under the target key and the .env already says so. */
  | 'nothing-to-do'
  | 'dry-run';

export interface MigrateKeysResult {
  mode: MigrationMode;
  outcome: MigrateOutcome;
  dryRun: boolean;
  target: string;
  fromFingerprint: string;
  toFingerprint: string;
  /** api_keys / request_logs rows rewritten (or that would be, in a dry run), leftovers included. */
  apiKeys: number;
  requestLogs: number;
  /** Of those, leftovers of GPT-Load's history brought along (plaintext, missing or wrong key_hash), both tables. */
  leftovers: number;
  /** Undecryptable rows left exactly as they were (--leave-undecryptable), both tables. */
  leftUndecryptable: number;
  /** A leftover temp_migration table found (dropped unless a dry run). */
  tempMigration: TempMigrationLeftover | null;
  /** Phase 1's exact counts per table and per state. */
  tables: PhaseOneCounts;
  service: ServiceCheck;
  forced: boolean;
  /** Redis entries removed; null when REDIS_DSN is unset, clearing is off, or in a dry run. */
  cacheCleared: number | null;
  cache: CacheClearResult | null;
  envUpdated: boolean;
  env: { path: string; action: 'set' | 'removed' | 'unchanged' | 'not-requested' };
  /** What the beforeWrite hook returned (the backup step); null without one. */
  backup: unknown;
  restart: RestartHint;
  interrupted: InterruptedRun | null;
  /** Milliseconds per phase. */
  phases: Record<string, number>;
  /** Rows per second of the write phase (both tables). */
  rate: number | null;
  durationMs: number;
  warnings: Localized[];
  /** GPT-Load's dashboard warnings about the new key, which the caller allowed. */
  keyWarnings: Localized[];
  /** What happened and what to do next, in both languages. */
  notes: Localized[];
}
