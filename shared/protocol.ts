/**
 * The daemon's JSON-RPC protocol beyond LSP: one namespace per method with its literal `method`,
 * its typed `type` and its params/result. Methods are added, never reshaped: a new need gets a new
 * optional field or a new method.
 *
 * Errors: every request fails with a JSON-RPC error whose `code` is a `KeystoreErrorCodes` value,
 * whose `message` is the same text the CLI prints (in the client's language) and whose `data` is
 * `ErrorData` ({ code: ErrorCode, details }). Cancelled requests fail with LSP's RequestCancelled.
 * Params the daemon cannot take fail with data.code 'usage' and details.field naming the field: a
 * field of another type than declared here with JSON-RPC's InvalidParams (-32602), a missing field
 * or a value beyond the daemon's limits (too long, out of range, a relative path) with 'usage'.
 *
 * Long requests (status, migrate, keyBackups, backup create/restore) report work-done progress
 * (`KeystoreProgressReport`) on the `workDoneToken` the client passes, or on a token the daemon
 * creates with `window/workDoneProgress/create` when none is passed; they honour `$/cancelRequest`
 * and the progress' cancel between batches.
 *
 * Imports only from vscode-languageserver-protocol: both the daemon and the client bundle it.
 */
import { NotificationType, RequestType, type WorkDoneProgressParams } from 'vscode-languageserver-protocol';
import type {
  AuditResult,
  BackupCheckResult,
  BackupInfo,
  BackupPlaintextRows,
  BackupRestoreResult,
  BackupVerdict,
  DeploymentRef,
  EnvDatabaseStatus,
  EnvReadResult,
  EnvWriteResult,
  ErrorCode,
  GroupSummary,
  KeyCopyCheck,
  KeyPage,
  KeyStatus,
  MigrationSummary,
  ProxyKeyInfo,
  SecretStrength,
  ServiceCheckResult,
  StatusReport,
  StatusSummary,
  RedactLogsSummary,
} from './types';

export * from './types';

/**
 * JSON-RPC error codes of keystore failures (outside JSON-RPC's and LSP's reserved ranges, except
 * `cancelled`, which is LSP's RequestCancelled so clients treat it as a quiet cancellation).
 * Stable: a code never changes meaning.
 */
export const KeystoreErrorCodes: Record<ErrorCode, number> = {
  usage: 4000,
  'env-parse': 4010,
  'env-missing': 4011,
  'key-required': 4012,
  'wrong-key': 4020,
  'decrypt-failed': 4021,
  'refused-by-check': 4030,
  'service-running': 4031,
  'host-not-found': 4040,
  'connection-refused': 4041,
  'connection-timeout': 4042,
  'auth-refused': 4043,
  'database-missing': 4044,
  'native-module-unavailable': 4045,
  'not-gpt-load-database': 4050,
  'backup-invalid': 4060,
  io: 4070,
  internal: 4099,
  cancelled: -32800,
  'compose-override': 4032,
  'weak-key': 4013,
  untrusted: 4080,
};

/** The ErrorCode of a JSON-RPC error code (undefined for codes that are not ours). */
export function errorCodeOf(jsonRpcCode: number): ErrorCode | undefined {
  return (Object.keys(KeystoreErrorCodes) as ErrorCode[]).find((c) => KeystoreErrorCodes[c] === jsonRpcCode);
}

/** `source` of every diagnostic the daemon publishes. */
export const DIAGNOSTIC_SOURCE = 'gpt-load';

/** Diagnostic codes of the daemon's own (database-backed and compose) checks; lint codes come from server/core/lint.ts. */
export const DaemonDiagnosticCodes = {
  keyMismatch: 'db-key-mismatch',
  dataNotEncrypted: 'db-data-not-encrypted',
  keyNotConfigured: 'db-key-not-configured',
  mixedState: 'db-mixed-state',
  databaseUnreachable: 'db-unreachable',
  weakProxyKey: 'db-weak-proxy-key',
  reusedProxyKey: 'db-reused-proxy-key',
  composeLiteralSecret: 'compose-literal-secret',
} as const;

// ---------------------------------------------------------------------------------------------
// keystore

/** client → daemon: GPT-Load's dashboard verdict plus exact per-row counts of api_keys (and request_logs). */
export namespace StatusRequest {
  export const method = 'gptLoad/status' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    /** Skip the exact pass over request_logs (it can hold millions of rows). */
    skipLogs?: boolean;
  }
  export type Result = StatusReport;
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: GPT-Load's dashboard verdict (its 20-row sample) and row counts, without
 * classifying rows — cheap at any size, for a status bar. `gptLoad/status` gives the exact figures.
 */
export namespace StatusSummaryRequest {
  export const method = 'gptLoad/status/summary' as const;
  export interface Params {
    deployment: DeploymentRef;
    /** Do not count request_logs (`requestLogs` is then null). */
    skipLogs?: boolean;
  }
  export type Result = StatusSummary;
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: is GPT-Load running against this deployment's database — `/health` answering at
 * HOST:PORT of the `.env`, or other sessions on MySQL/PostgreSQL? The same check migrate and
 * restore refuse on; the migrate wizard asks it before the backup step.
 */
export namespace ServiceCheckRequest {
  export const method = 'gptLoad/service/check' as const;
  export interface Params {
    deployment: DeploymentRef;
  }
  export type Result = ServiceCheckResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: enable, change or disable encryption of stored keys (api_keys and request_logs).
 * Work-done progress with phase, rows and rate; cancellable — a cancel before the switch leaves the
 * database untouched and clean (no side table left behind).
 */
export namespace MigrateRequest {
  export const method = 'gptLoad/migrate' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    /** Key the data is encrypted with now; omitted = ENCRYPTION_KEY of the `.env`; '' = data is plaintext. */
    fromKey?: string;
    /** New key; '' = disable encryption. */
    toKey: string;
    /** Write the new key into the `.env` as ENCRYPTION_KEY after the switch (default false). */
    updateEnv?: boolean;
    /** Go on although GPT-Load looks running / other sessions are connected (default false). */
    force?: boolean;
    /** Skip request_logs (default false: they are migrated too). */
    skipLogs?: boolean;
    /** Clear GPT-Load's stale Redis entries after the switch (default true when REDIS_DSN is set). */
    clearCache?: boolean;
    /** Run every check and report what would change; write nothing (default false). */
    dryRun?: boolean;
    /** HOST[:PORT] replacing REDIS_DSN's host (Compose service names do not resolve outside). */
    redisHost?: string;
    /**
     * Write and check a backup of the data before the first write (default true); false when the
     * caller took one itself (the wizard) or the user opted out.
     */
    backup?: boolean;
    /**
     * Go on with a new key GPT-Load's dashboard would flag (default false: the request fails with
     * error code `weak-key`, details.warnings = the dashboard's warning codes, before anything is
     * done). Set it after the user saw those warnings and confirmed.
     */
    allowWeakKey?: boolean;
    /** Rows under neither key stay exactly as they are instead of refusing the run (default false). */
    leaveUndecryptable?: boolean;
  }
  export type Result = MigrationSummary;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: the groups with their key counts by status. */
export namespace GroupsRequest {
  export const method = 'gptLoad/groups' as const;
  export interface Params {
    deployment: DeploymentRef;
  }
  export interface Result {
    groups: GroupSummary[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: one keyset page of keys (masked), filtered by group, status, or an exact key
 * value (found through key_hash as GPT-Load's search does: nothing is decrypted to search).
 */
export namespace KeysRequest {
  export const method = 'gptLoad/keys' as const;
  export interface Params {
    deployment: DeploymentRef;
    groupId?: number;
    groupName?: string;
    status?: KeyStatus;
    /** Exact plaintext key to find. */
    value?: string;
    /** Page size, 1..1000 (default 100). */
    limit?: number;
    /** `nextAfterId` of the previous page. */
    afterId?: number;
  }
  export type Result = KeyPage;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: decrypts one stored key for copying. The only method that returns a stored plaintext key. */
export namespace RevealKeyRequest {
  export const method = 'gptLoad/revealKey' as const;
  export interface Params {
    deployment: DeploymentRef;
    id: number;
  }
  export interface Result {
    id: number;
    /** The plaintext API key: copy it, never log or store it. */
    key: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * Parameters of encrypt / decrypt / hash. The key is `encryptionKey` when given, else ENCRYPTION_KEY of
 * `deployment`'s `.env`, else none ('' = GPT-Load's disabled mode: plaintext values, SHA-256 hashes).
 */
export interface ValuesParams {
  values: string[];
  encryptionKey?: string;
  deployment?: DeploymentRef;
}

export interface ValuesResult {
  /** One per value, same order; null where a value did not decrypt. */
  results: Array<string | null>;
  /** Indexes of values that did not decrypt, with the reason (never the value). */
  failures: Array<{ index: number; reason: string }>;
  keyFingerprint: string;
}

/** client → daemon: encrypts values exactly as GPT-Load stores them. */
export namespace EncryptRequest {
  export const method = 'gptLoad/encrypt' as const;
  export type Params = ValuesParams;
  export type Result = ValuesResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: decrypts stored values (returns plaintext keys). */
export namespace DecryptRequest {
  export const method = 'gptLoad/decrypt' as const;
  export type Params = ValuesParams;
  export type Result = ValuesResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: GPT-Load's key_hash of values. */
export namespace HashRequest {
  export const method = 'gptLoad/hash' as const;
  export type Params = ValuesParams;
  export type Result = ValuesResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: a strong secret for AUTH_KEY (or ENCRYPTION_KEY), safe for godotenv and Compose as is. */
export namespace GenerateSecretRequest {
  export const method = 'gptLoad/generateSecret' as const;
  export interface Params {
    /** Which variable it is for (default AUTH_KEY); judged as GPT-Load judges it. */
    name?: string;
    /** Characters, 16..256 (default 32 for AUTH_KEY, 48 for ENCRYPTION_KEY). */
    length?: number;
  }
  export interface Result {
    value: string;
    strength: SecretStrength;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: ENCRYPTION_KEY copies (password manager, vault, paper) checked against the
 * database: does each decrypt the stored keys? Copies are used for this request only, never kept.
 */
export namespace KeyBackupsRequest {
  export const method = 'gptLoad/keyBackups' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    candidates: string[];
    /**
     * Backup files whose needed key is compared with each candidate (by fingerprint); relative paths
     * are taken from the `.env`'s folder. Default: every backup in the backups folder beside the `.env`.
     */
    backups?: string[];
  }
  export interface Result {
    /** How many encrypted rows were sampled (the same rows for every candidate). */
    sampled: number;
    /** Fingerprint of ENCRYPTION_KEY in the `.env` ("plaintext" when empty). */
    envFingerprint: string;
    results: KeyCopyCheck[];
    /** Backups of `backups` that could not be read. */
    unreadableBackups?: string[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

// ---------------------------------------------------------------------------------------------
// proxy keys (system_settings.proxy_keys and groups.proxy_keys: comma-separated plaintext lists)

/** client → daemon: every distinct stored proxy key, masked, where it is used, GPT-Load's warnings, AUTH_KEY reuse. */
export namespace ListProxyKeysRequest {
  export const method = 'gptLoad/proxyKeys/list' as const;
  export interface Params {
    deployment: DeploymentRef;
  }
  export interface Result {
    /** In order of first appearance, the global list first. */
    keys: ProxyKeyInfo[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: removes one value from GPT-Load's stored proxy keys — `system_settings.proxy_keys`
 * and every `groups.proxy_keys` — in one transaction, keeping the other entries as written and in
 * order. Used after rotating AUTH_KEY, which GPT-Load copied into the global proxy keys on first
 * start. Not refused while GPT-Load runs: it reads the lists when it starts, so it needs a restart
 * either way, and the result says whether it looks running.
 */
export namespace RemoveProxyKeyRequest {
  export const method = 'gptLoad/proxyKeys/remove' as const;
  export interface Params {
    deployment: DeploymentRef;
    /** The proxy key to remove (a secret: never logged). Trimmed as GPT-Load trims entries; a comma is refused. */
    value: string;
  }
  export interface Result {
    /** Removed from system_settings.proxy_keys. */
    system: boolean;
    /** Names of the groups it was removed from. */
    groups: string[];
    /** Something was removed: GPT-Load uses the lists it loaded at start until it is restarted. */
    restartRequired: boolean;
    /** GPT-Load looked running when the change was made (see ServiceCheckRequest). */
    running: boolean;
    /** The command that restarts GPT-Load beside the `.env`, when known. */
    restartCommand: string | null;
    /** The global list holds no key any more. */
    globalEmptied: boolean;
    /** What to do next, in the client's language. */
    notes: string[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

// ---------------------------------------------------------------------------------------------
// .env

/**
 * client → daemon: a `.env` as godotenv reads it from disk — positions and a masked view; a value
 * only for the one key named in `reveal`.
 */
export namespace EnvReadRequest {
  export const method = 'gptLoad/env/read' as const;
  export interface Params {
    /** Absolute path or `file:` URI. */
    envFile: string;
    reveal?: string;
  }
  export type Result = EnvReadResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: sets (or, with value null, removes) one key of a `.env`, quoting it safely; keeps
 * everything else. For AUTH_KEY and ENCRYPTION_KEY beside a Docker Compose file that runs GPT-Load,
 * fails with `compose-override` (nothing written; details: variable, file, line, kind) when the
 * container would not get the new value (e.g. a literal under `environment:` overrides `.env`).
 */
export namespace EnvWriteRequest {
  export const method = 'gptLoad/env/write' as const;
  export interface Params {
    envFile: string;
    key: string;
    value: string | null;
  }
  export type Result = EnvWriteResult;
  export const type = new RequestType<Params, Result, void>(method);
}

// ---------------------------------------------------------------------------------------------
// backups (operations of server/keystore/backup/ by the backups module; shapes may gain optional fields)

/** client → daemon: backs up the key store and reads the backup back before answering (implemented by backups). Work-done progress; cancellable. */
export namespace BackupCreateRequest {
  export const method = 'gptLoad/backup/create' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    /** Folder or file to write; default: the backups folder beside the `.env`. */
    destination?: string;
    /** Include request_logs (default true, as the CLI; they hold encrypted key copies too). */
    includeLogs?: boolean;
  }
  export type Result = BackupInfo;
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: verifies a backup file, whether a key opens it, and — with `deployment` — how it
 * differs from the live database; an unreachable database skips that comparison (said in `notes`)
 * instead of failing the check (implemented by backups).
 */
export namespace BackupCheckRequest {
  export const method = 'gptLoad/backup/check' as const;
  export interface Params extends WorkDoneProgressParams {
    path: string;
    /** Check against ENCRYPTION_KEY of this deployment's `.env`. */
    deployment?: DeploymentRef;
    /** Or against this key (used for the request only). */
    encryptionKey?: string;
  }
  export type Result = BackupCheckResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: restores a backup into the deployment's database (implemented by backups). Work-done progress. */
export namespace BackupRestoreRequest {
  export const method = 'gptLoad/backup/restore' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    path: string;
    /** Go on although GPT-Load looks running (default false). */
    force?: boolean;
    /** The ENCRYPTION_KEY the backup's keys are under, when it is not the `.env`'s (they are re-encrypted to it). */
    backupKey?: string;
    /** Run every check, write nothing (default false). */
    dryRun?: boolean;
    /** Take a verified backup of the current state first (default true). */
    safetyBackup?: boolean;
    /** Clear GPT-Load's stale Redis entries after the restore (default true when REDIS_DSN is set). */
    clearCache?: boolean;
    /** HOST[:PORT] replacing REDIS_DSN's host (Compose service names do not resolve outside). */
    redisHost?: string;
    /** Restore although the backup's seal cannot be verified with the keys at hand (default false: refused). */
    acceptUnverified?: boolean;
  }
  export type Result = BackupRestoreResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** client → daemon: backups known for a deployment, newest first (implemented by backups). */
export namespace BackupListRequest {
  export const method = 'gptLoad/backup/list' as const;
  export interface Params {
    deployment: DeploymentRef;
    /** Folder to look in; default: the backups folder beside the `.env`. */
    directory?: string;
  }
  export interface Result {
    backups: BackupInfo[];
    /** Every file found, damaged and interrupted ones included, with its quick check. */
    checks?: Array<{ path: string; verdict: BackupVerdict; problems: string[]; plaintext?: BackupPlaintextRows | null }>;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: deletes the backups no rule keeps — always kept: the newest whole backup for each
 * key fingerprint and every file that is not a whole backup; `plaintext` deletes backups holding keys
 * in plaintext whatever else keeps them. Preview with `dryRun`; a prune that would leave no backup of
 * the current data (see `warnings`) is refused unless `confirmed` (implemented by backups).
 */
export namespace BackupPruneRequest {
  export const method = 'gptLoad/backup/prune' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    /** Folder to prune; default: the backups folder beside the `.env`. */
    directory?: string;
    /** Keep the newest N whole backups. */
    keep?: number;
    /** Keep whole backups younger than this many milliseconds. */
    maxAgeMs?: number;
    /** Delete backups that hold keys in plaintext. */
    plaintext?: boolean;
    dryRun?: boolean;
    /** The user has seen the preview's warnings and goes on. */
    confirmed?: boolean;
  }
  export interface Result {
    dryRun: boolean;
    /** Deleted (or, on a dry run, to delete) and kept backups; `reason`: newest-for-key | keep | max-age | no-rule | unchecked | plaintext | pruned. */
    deleted: BackupPruneEntry[];
    kept: BackupPruneEntry[];
    bytesFreed: number;
    /** In the client's language. */
    warnings: string[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export interface BackupPruneEntry {
  path: string;
  createdAt: string | null;
  keyFingerprint: string | null;
  verdict: BackupVerdict;
  plaintext: BackupPlaintextRows | null;
  reason: string;
  bytes: number;
}

// ---------------------------------------------------------------------------------------------
// daemon → client

/** daemon → client: the background database check of an open `.env` finished (for a status item). */
export namespace EnvDatabaseStatusNotification {
  export const method = 'gptLoad/envDatabaseStatus' as const;
  export interface Params {
    /** URI of the `.env` document. */
    uri: string;
    status: EnvDatabaseStatus;
  }
  export const type = new NotificationType<Params>(method);
}

/**
 * client → daemon: how the operator restarts this GPT-Load after a change, from what lies beside
 * its `.env` (Compose file, Makefile, gpt-load binary). No command is guessed when none is found.
 */
export namespace RestartAdviceRequest {
  export const method = 'gptLoad/restartAdvice' as const;
  export interface Params {
    deployment: DeploymentRef;
  }
  export interface Result {
    kind: 'docker-compose' | 'make' | 'binary' | 'unknown';
    /** The command to copy; null when the deployment kind is unknown. */
    command: string | null;
    /** One sentence in the client's language. */
    advice: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: how GPT-Load judges a secret the user is about to use (its dashboard's warnings,
 * and for a new ENCRYPTION_KEY also migrate-keys' own), with its fingerprint. Nothing is kept.
 */
export namespace SecretAssessRequest {
  export const method = 'gptLoad/secret/assess' as const;
  export interface Params {
    /** AUTH_KEY (the default), ENCRYPTION_KEY or a proxy key. */
    name?: string;
    value: string;
    /** Also GPT-Load's migrate-keys warnings for a new encryption key. */
    asNewEncryptionKey?: boolean;
  }
  export interface Result {
    strength: SecretStrength;
    /** Every warning, one sentence each, in the client's language; empty when none. */
    warnings: string[];
    /** The key's fingerprint as backups and the CLI show it (for ENCRYPTION_KEY). */
    fingerprint: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

// ---------------------------------------------------------------------------------------------
// debug (registered only when the daemon runs with --debug-methods)

/** client → daemon: heap figures after a full GC when the daemon runs with --expose-gc (tests only). */
export namespace DebugMemoryRequest {
  export const method = 'gptLoad/debug/memory' as const;
  export type Params = Record<string, never>;
  export interface Result {
    heapUsed: number;
    rss: number;
    collected: boolean;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: mask the upstream keys GPT-Load stored in request_logs.error_message before v1.4.9,
 * as GPT-Load v1.4.9 masks them (and drop a leftover temp_migration). `dryRun` only counts; otherwise a
 * checked backup first, then one transaction. Work-done progress; cancellable before the commit.
 */
export namespace RedactLogsRequest {
  export const method = 'gptLoad/redactLogs' as const;
  export interface Params extends WorkDoneProgressParams {
    deployment: DeploymentRef;
    /** Count the rows and occurrences to mask; write nothing (default false). */
    dryRun?: boolean;
    /** Go on although GPT-Load looks running (default false). */
    force?: boolean;
    /** Write and check a backup first (default true). */
    backup?: boolean;
  }
  export type Result = RedactLogsSummary;
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * client → daemon: `gpt-load-keystore audit` for a deployment — GPT-Load's security best-practice
 * list checked (AUTH_KEY, ENCRYPTION_KEY and data, backups, secrets in Compose/git, HTTPS and admin
 * IP limits at the reverse proxy, failed logins, Redis/DB/CORS). Read-only; the same findings and
 * counts as the CLI's `--json`.
 */
export namespace AuditRequest {
  export const method = 'gptLoad/audit' as const;
  export interface Params {
    deployment: DeploymentRef;
    /** GPT-Load's log files (default: LOG_FILE_PATH beside the .env when it exists). */
    logs?: string[];
    /** Reverse proxy access logs, for client IPs. */
    accessLogs?: string[];
    /** nginx / Caddy configs on top of those found in the deployment folder. */
    proxyConfigs?: string[];
  }
  export type Result = AuditResult;
  export const type = new RequestType<Params, Result, void>(method);
}
