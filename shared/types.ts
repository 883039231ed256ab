/**
 * Values that cross the wire between the daemon (server/server.ts) and its clients (the VS Code
 * extension, editors speaking LSP, tests). Plain JSON only: no classes, no Dates, no Buffers.
 * Imports only from vscode-languageserver-protocol so both bundles can take it as is.
 *
 * Secrets never appear here except where a field says so (RevealKeyResult.key, decrypt results,
 * GenerateSecretResult.value, EnvReadResult.revealed): everything else is counts, ids, masked values
 * and fingerprints.
 */
import type { Range, WorkDoneProgressReport } from 'vscode-languageserver-protocol';

/** Message language; initialize's `locale` picks it ('zh*' → 'zh-CN', anything else → 'en'). */
export type Lang = 'en' | 'zh-CN';

/**
 * Why a request failed: the keystore core's own codes (server/core/errors.ts takes this list), so the
 * CLI's exit codes and the daemon's errors never drift apart. Sent as `ResponseError.data.code`.
 */
export type ErrorCode =
  | 'usage'
  | 'env-parse'
  | 'env-missing'
  | 'host-not-found'
  | 'connection-refused'
  | 'connection-timeout'
  | 'auth-refused'
  | 'database-missing'
  | 'not-gpt-load-database'
  | 'native-module-unavailable'
  | 'wrong-key'
  | 'key-required'
  | 'decrypt-failed'
  | 'refused-by-check'
  | 'service-running'
  | 'cancelled'
  | 'backup-invalid'
  | 'io'
  | 'internal'
  /** Docker Compose would give GPT-Load's container another value than the change makes (exit 5). */
  | 'compose-override'
  /** A new key GPT-Load's dashboard would flag, with nobody to confirm it (exit 3). */
  | 'weak-key'
  /** The workspace is not trusted: the daemon runs no process and opens no connection. */
  | 'untrusted';

/** `ResponseError.data` of every keystore error. `message` is already in the client's language. */
export interface ErrorData {
  code: ErrorCode;
  /** Machine-readable details (counts, row ids, line/character); never secrets. */
  details?: Record<string, unknown>;
}

/**
 * Which GPT-Load deployment a request is about. The daemon resolves it exactly as GPT-Load does
 * (DATABASE_DSN from the file, else `./data/gpt-load.db` beside it); the daemon's own process
 * environment is not GPT-Load's and is ignored. Secrets are never part of it.
 */
export interface DeploymentRef {
  /** Absolute path of GPT-Load's `.env` (a `file:` URI is accepted too). */
  envFile: string;
  /** DATABASE_DSN override (the `.env` value otherwise). */
  dsn?: string;
  /** HOST[:PORT] replacing the DSN's host (Docker Compose service names do not resolve outside). */
  dbHost?: string;
}

/** Where a long operation stands (server/keystore/operation.ts Progress). */
export interface OperationProgress {
  phase: string;
  done: number;
  total: number;
  /** Rows per second over the phase so far. */
  rate?: number;
}

/**
 * The `$/progress` value of keystore work-done progress: a standard report (message, percentage,
 * shown by any LSP client) that also carries the raw figures for clients that want them.
 */
export interface KeystoreProgressReport extends WorkDoneProgressReport, OperationProgress {}

// ---------------------------------------------------------------------------------------------
// status, groups

export type DashboardVerdict = 'data_not_encrypted' | 'key_not_configured' | 'key_mismatch' | null;

export interface DashboardCheck {
  verdict: DashboardVerdict;
  sampled: number;
  /** Share of sampled rows whose key_hash is SHA-256(key_value). */
  plaintextShare: number;
  /** Share of sampled rows the configured key decrypts and re-hashes. */
  decryptShare: number;
}

export interface RowCounts {
  total: number;
  /** key_hash = SHA-256(key_value). */
  plaintext: number;
  encrypted: number;
  unknown: number;
  empty: number;
  /** A few ids of undecryptable rows, to point at. */
  unknownIds: Array<number | string>;
  /** Plaintext left by GPT-Load with a NULL or empty key_hash (rows from before v1.1.0). */
  noHash?: number;
  /** Decrypts with the configured key, but key_hash is wrong or missing (GPT-Load cannot find the key by hash). */
  wrongHash?: number;
  /** A few ids of each other kind needing attention. */
  exampleIds?: { plaintext: Array<number | string>; noHash: Array<number | string>; wrongHash: Array<number | string> };
}

/** A `temp_migration` table left by an interrupted GPT-Load migrate-keys: garbage holding copies of keys. */
export interface TempMigrationLeftover {
  rows: number;
  /** Some of its values are plaintext keys (it was disabling encryption, or enabling it). */
  holdsPlaintext: boolean;
}

/**
 * ok: every row as the configured key says. needs-migration: key set, rows plaintext.
 * key-missing: rows encrypted, no key set. wrong-key: no row decrypts. mixed: several states.
 * not-encrypted: encryption disabled, every key stored in plaintext (GPT-Load's dashboard warns too).
 */
export type OverallState = 'empty' | 'ok' | 'needs-migration' | 'key-missing' | 'wrong-key' | 'mixed' | 'not-encrypted';

export interface GroupSummary {
  id: number;
  name: string;
  displayName: string;
  channelType: string;
  groupType: string;
  active: number;
  invalid: number;
}

export interface StatusReport {
  /** Database label, safe to show (no password). */
  target: string;
  engine: string;
  encryptionEnabled: boolean;
  /** Non-reversible fingerprint of the configured key ("plaintext" when disabled). */
  keyFingerprint: string;
  dashboard: DashboardCheck;
  state: OverallState;
  apiKeys: RowCounts;
  requestLogs: RowCounts;
  groups: GroupSummary[];
  /** A leftover temp_migration table, if any. */
  tempMigration?: TempMigrationLeftover | null;
  /** Each finding needing attention with the command that resolves it (empty when nothing does). */
  attention?: Array<{ en: string; zh: string }>;
  /** Where the ENCRYPTION_KEY judged with came from (absent when the caller did not say). */
  keySource?: KeySource;
}

/**
 * Where the configured ENCRYPTION_KEY came from. `environment`: the process environment (the
 * shell), which wins over .env for GPT-Load's godotenv too; `env-file`: the .env; `unset`: neither.
 */
export interface KeySource {
  from: 'environment' | 'env-file' | 'unset';
  /** The .env's own ENCRYPTION_KEY when the environment's hides a different one (fingerprints only; "plaintext" = empty). */
  hiddenEnvFileKey: { fingerprint: string; line: number } | null;
  /**
   * The ENCRYPTION_KEY Docker Compose gives GPT-Load's container (a Compose file beside the .env runs
   * it and sets the key): through `environment:`, an `env_file:` or a `.env` mounted as /app/.env.
   */
  container: { service: string; via: 'environment' | 'env_file' | 'mounted-env'; file: string; line: number; fingerprint: string } | null;
}

// ---------------------------------------------------------------------------------------------
// keys

export type KeyStatus = 'active' | 'invalid';

export interface KeyListItem {
  id: number;
  groupId: number;
  groupName: string;
  status: string;
  /** Masked key, "(undecryptable)" when the configured key does not open it. Never the whole key. */
  masked: string;
  notes: string;
  requestCount: number;
  failureCount: number;
  lastUsedAt: string | null;
}

export interface KeyPage {
  items: KeyListItem[];
  /** Pass as `afterId` for the next page; null at the end. */
  nextAfterId: number | null;
}

// ---------------------------------------------------------------------------------------------
// secrets, .env

/** GPT-Load dashboard's risk level for a secret: null = no warning. */
export type SecretRisk = 'high' | 'medium' | null;

/** A secret judged as GPT-Load's dashboard judges it; never the secret itself. */
export interface SecretStrength {
  /** Length in bytes (GPT-Load counts Go `len`). */
  length: number;
  risk: SecretRisk;
  /** The dashboard's warning in the client's language, null when none. */
  message: string | null;
}

export type EnvQuote = 'none' | 'single' | 'double';

/** One assignment of a `.env` as godotenv reads it, without its value. */
export interface EnvEntryView {
  key: string;
  range: Range;
  keyRange: Range;
  valueRange: Range;
  quote: EnvQuote;
  exported: boolean;
  /** The value contains `$VAR` / `${VAR}` that godotenv expands. */
  expanded: boolean;
  /** False for an earlier duplicate (godotenv keeps the last one). */
  effective: boolean;
  /** The value GPT-Load reads, masked (maskSecret). */
  masked: string;
  /** Length in bytes of the value GPT-Load reads. */
  length: number;
  /** Only for AUTH_KEY, ENCRYPTION_KEY and other secrets GPT-Load judges. */
  strength?: SecretStrength;
}

export interface EnvParseError {
  message: string;
  range: Range;
}

export interface EnvReadResult {
  /** Absolute path read. */
  path: string;
  exists: boolean;
  /** Set when godotenv refuses the file (GPT-Load then ignores all of it). */
  error: EnvParseError | null;
  entries: EnvEntryView[];
  /** Only when the request named one key in `reveal`: its value as GPT-Load reads it. */
  revealed?: { key: string; value: string | null };
}

export interface EnvWriteResult {
  path: string;
  /** The file did not exist and was created. */
  created: boolean;
  /** False when the file already said exactly this. */
  changed: boolean;
}

// ---------------------------------------------------------------------------------------------
// migrate, key copies

/** What a migration did; the key material itself is never part of it. */
export interface MigrationSummary {
  /** 'enable' (plaintext → key), 'disable' (key → plaintext), 'change' (key → key). */
  mode: 'enable' | 'disable' | 'change';
  apiKeys: number;
  requestLogs: number;
  /** Fingerprints of the keys before and after ("plaintext" when disabled). */
  fromFingerprint: string;
  toFingerprint: string;
  /** Cache entries removed from Redis; null when no REDIS_DSN or not reachable. */
  cacheCleared: number | null;
  /** ENCRYPTION_KEY in the .env was updated to the new key. */
  envUpdated: boolean;
  durationMs: number;
  /** Anything the operator should do next, in the client's language. */
  notes: string[];
  /** migrated | finished (a partial change completed) | completed (data was already under the new key) | nothing-to-migrate | dry-run. */
  outcome?: string;
  /** Warnings (e.g. a weak new key), in the client's language. */
  warnings?: string[];
  /** Rows per second of the write phase. */
  rate?: number | null;
  /** The command that restarts GPT-Load so it reads the new ENCRYPTION_KEY, when known. */
  restartCommand?: string | null;
  /** How to restart this deployment, one sentence in the client's language. */
  restartAdvice?: string;
  /** The checked backup of the state before the run; null when none was taken. */
  backupFile?: string | null;
  /**
   * Key rows that backup holds in plaintext (after enabling encryption: every key) — a copy of them
   * anyone who reads the file has; `notes` says what to do. null: none.
   */
  backupPlaintext?: BackupPlaintextRows | null;
  /** Of the rows rewritten, leftovers of GPT-Load's history brought along (plaintext, missing or wrong key_hash). */
  leftovers?: number;
  /** Undecryptable rows left exactly as they were (leaveUndecryptable). */
  leftUndecryptable?: number;
}

/** One ENCRYPTION_KEY copy checked against the database. */
export interface KeyCopyCheck {
  /** Index into the request's `candidates`. */
  index: number;
  fingerprint: string;
  /** Every sampled encrypted row decrypts and re-hashes with this copy. */
  works: boolean;
  decrypted: number;
  sampled: number;
  /** Same fingerprint as ENCRYPTION_KEY in the `.env`. */
  matchesEnv: boolean;
  /** Backups (of the request's `backups`) that need exactly this key. */
  matchesBackups?: string[];
}

// ---------------------------------------------------------------------------------------------
// backups (filled in by the backups module)

export interface BackupInfo {
  /** Absolute path of the backup file. */
  path: string;
  /** ISO 8601. */
  createdAt: string;
  engine: string;
  /** Label of the source database (no password). */
  source: string;
  /** Fingerprint of the ENCRYPTION_KEY the stored keys are encrypted with ("plaintext" if none). */
  keyFingerprint: string;
  rows: Record<string, number>;
  bytes: number;
  /** 'sqlite' (a SQLite file) or 'portable' (gzip JSON lines, any engine). */
  layout?: string;
  toolVersion?: string;
  /** Warnings about this backup (e.g. it holds plaintext keys), in the client's language. */
  warnings?: string[];
}

/**
 * The verdict on one backup file (`backup check`, `backup list`, prune's entries), best first: the
 * worse of two is the later. ok: whole, opened by the key, fresh, same keys as the live database.
 * stale: older than the age limit. differs: the live database has keys the backup lacks or lost keys
 * it has. needs-key: the key given (or the .env's) does not open every stored key. unverified: whole
 * as far as its own digests say, but its seal is not under any key at hand (or is an older unkeyed
 * one), so nothing rules out that someone rewrote it. corrupt: damaged, forged, incomplete or not a
 * backup.
 */
export const BACKUP_VERDICTS = ['ok', 'stale', 'differs', 'needs-key', 'unverified', 'corrupt'] as const;
export type BackupVerdict = (typeof BACKUP_VERDICTS)[number];

export interface BackupCheckResult {
  valid: boolean;
  info: BackupInfo | null;
  /** What is wrong, in the client's language; empty when valid. */
  problems: string[];
  /** Whether the `.env`'s (or the given) ENCRYPTION_KEY opens the keys in the backup; null if not checked. */
  decryptsWithKey: boolean | null;
  verdict?: BackupVerdict;
  /**
   * The backup's keys against the live database (by key_hash, or by decrypted value when the keys
   * differ); null when not compared — the database unreachable (see `notes`) or no key opens both.
   */
  live?: BackupLiveComparison | null;
  /** Age of the backup, ms; null when unknown (a damaged manifest). */
  ageMs?: number | null;
  /** Stored keys of the backup tried one by one with the key, and how many did not open. */
  keyCheck?: { checked: number; failed: number };
  /** Things worth knowing that are no problem (e.g. why the live database was not compared), in the client's language. */
  notes?: string[];
  /** Key rows the backup holds in plaintext: a risk whatever the verdict (null: none). */
  plaintext?: BackupPlaintextRows | null;
}

/** Key rows a backup holds in plaintext — a copy of those keys anyone who reads the file has. */
export interface BackupPlaintextRows {
  apiKeys: number;
  requestLogs: number;
}

/** How a backup's keys differ from the live database's. */
export interface BackupLiveComparison {
  /** In the backup, no longer in the database. */
  missing: number;
  /** In the database, not in the backup. */
  added: number;
  backupKeys: number;
  liveKeys: number;
}

export interface BackupRestoreResult {
  restored: Record<string, number>;
  /** A backup of the state before the restore, when one was made. */
  safetyBackup: BackupInfo | null;
  /** What the operator should know (e.g. Redis cache not cleared), in the client's language. */
  warnings?: string[];
  /** Tables of GPT-Load's the backup does not hold: left as they are. */
  untouched?: string[];
  /** Keys re-encrypted from the backup's key to the `.env`'s (fingerprints); null when copied as they are. */
  reencrypted?: { from: string; to: string; rows: number } | null;
  /** Stale Redis entries removed; null when REDIS_DSN is unset, clearing is off, it failed (see warnings) or in a dry run. */
  cacheCleared?: number | null;
  /** Dry run only: the live rows of each restored table now (the preview's "N now → M from the backup"). */
  current?: Record<string, number>;
  /** Dry run only: what the restore changes besides the keys (stored text: show it escaped). */
  outside?: OutsideKeyChanges;
  /** Dry run (and a restore that asks first): how the keys differ from the live database's; absent when not compared. */
  keysSinceBackup?: KeysSinceBackup;
}

/** The keys a restore drops and brings back, by identity (key_hash, or the key itself under another key). */
export interface KeysSinceBackup {
  /** Live keys the backup lacks (added since it was taken): the restore drops them. */
  added: number;
  /** Live ids of a few of them. */
  addedIds: number[];
  /** Keys in the backup no longer in the database (deleted since): the restore brings them back. */
  gone: number;
  /** Backup ids of a few of them. */
  goneIds: number[];
}

/** What a restore changes besides the keys: groups, upstreams, where proxy keys differ (never their values), settings by name. */
export interface OutsideKeyChanges {
  groups: { added: string[]; removed: string[]; changed: Array<{ name: string; fields: string[] }> };
  upstreams: Array<{ group: string; before: string | null; after: string | null }>;
  /** Groups whose proxy_keys differ, and whether the global proxy_keys setting does. */
  proxyKeys: { groups: string[]; global: boolean };
  settings: { added: string[]; removed: string[]; changed: string[] };
}

// ---------------------------------------------------------------------------------------------
// proxy keys, service

/** One distinct stored proxy key, judged as GPT-Load's dashboard judges it; never the key itself. */
export interface ProxyKeyInfo {
  /** Masked (maskSecret). */
  masked: string;
  /** In system_settings.proxy_keys, the global list. */
  system: boolean;
  /** Names of the groups whose proxy_keys hold it, by group id. */
  groups: string[];
  strength: SecretStrength;
  /** Equal to AUTH_KEY of the `.env`: whoever holds this proxy key can also log into the admin UI. */
  isAuthKey: boolean;
  /** Stored in more than one place: revoking it in one leaves it valid in the others. */
  reused: boolean;
}

/** Whether GPT-Load looks running against a deployment's database (operations that rewrite keys refuse then). */
export interface ServiceCheckResult {
  /** `/health` answered, or other sessions are connected to the database. */
  running: boolean;
  /** The `/health` URL probed (HOST/PORT of the `.env`; 0.0.0.0 probed as 127.0.0.1). */
  url: string;
  /** Other sessions on the database (the daemon's own excluded); null on SQLite. */
  otherSessions: number | null;
  /** Something answered HTTP at `url` (any status). */
  answered: boolean;
  /** What was found, in the client's language; null when not running. */
  message: string | null;
}

/** The status bar's figures: GPT-Load's dashboard verdict and row counts, no row classified. */
export interface StatusSummary {
  target: string;
  engine: string;
  encryptionEnabled: boolean;
  keyFingerprint: string;
  dashboard: DashboardCheck;
  /** Rows of api_keys. */
  apiKeys: number;
  /** Rows of request_logs; null when skipped. */
  requestLogs: number | null;
}

// ---------------------------------------------------------------------------------------------
// daemon

/** `initializationOptions` the daemon understands; all optional. */
export interface InitializationOptions {
  /** Database connection timeout for requests and background checks (default 5000). */
  connectTimeoutMs?: number;
  /** Compute database-backed .env diagnostics (default true). */
  databaseDiagnostics?: boolean;
  /**
   * Where the diagnostic codes are documented (the README, http(s) or file URI): each diagnostic
   * links to `docsUrl#<code>` (codeDescription) and hovers link there. Default: no links.
   */
  docsUrl?: string;
  /**
   * The workspace is trusted (default true, for editors without workspace trust). false: the daemon
   * lints and parses only — it runs no process (git) and opens no connection (database, Redis,
   * GPT-Load's health endpoint); requests that would answer the 'untrusted' error.
   */
  trusted?: boolean;
}

/**
 * What the background check found for the database an open `.env` points at.
 * unreachable: the database could not be opened (reason in `message`).
 */
export type EnvDatabaseState = OverallState | 'unreachable' | 'unchecked';

export interface EnvDatabaseStatus {
  state: EnvDatabaseState;
  target: string | null;
  keyFingerprint: string;
  /** How the figures were obtained: 'sample' (N rows) or 'exact'. */
  basis: 'sample' | 'exact' | 'none';
  sampled: number;
  decrypting: number;
  plaintext: number;
  totalKeys: number;
  message: string | null;
}

/** What redact-logs found (and did): counts only, never a key. */
export interface RedactLogsSummary {
  dryRun: boolean;
  /** request_logs rows with an error_message. */
  scanned: number;
  /** Rows quoting a stored key, and the occurrences in them. */
  rows: number;
  occurrences: number;
  /** Keys looked for (api_keys values the configured key opens, more than 8 bytes). */
  poolKeys: number;
  rowsChanged: number;
  tempMigration: TempMigrationLeftover | null;
  tempMigrationDropped: boolean;
  backupFile: string | null;
  durationMs: number;
  /** What else to know, in the client's language. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// audit (GPT-Load's security best-practice list)

export type AuditSeverity = 'pass' | 'warn' | 'fail' | 'unknown';

/** One finding as `audit --json` prints it and the daemon's audit request returns it. */
export interface AuditFindingInfo {
  /** Stable code: auth-key-weak, no-https, login-failures, … */
  code: string;
  severity: AuditSeverity;
  /** The best-practice item it belongs to (AuditResult.items keys). */
  item: string;
  /** Why, and the one next step, in the requested language (secrets masked at most). */
  message: string;
  /** Where it was found (absolute path) and its 1-based line. */
  file?: string;
  line?: number;
  /** The command that fixes it: rotate-auth-key, redact-logs, migrate-keys, backup-create, save-key-copy, proxy-keys-remove. */
  fix?: string;
}

export interface AuditResult {
  findings: AuditFindingInfo[];
  summary: Record<AuditSeverity, number>;
  /** Each item of the list, in order: its title and counts. */
  items: Record<string, { title: string } & Record<AuditSeverity, number>>;
  envPath: string;
  /** What was read. */
  sources: { compose: string[]; proxyConfigs: string[]; logs: string[]; accessLogs: string[] };
}
