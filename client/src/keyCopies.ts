/**
 * Copies of ENCRYPTION_KEY the extension keeps on request (GPT-Load's advice: keep the key in several
 * safe places, or a lost `.env` makes every stored key unrecoverable, backups included). The label —
 * deployment, date, fingerprint, last check — lives in globalState; the key only in SecretStorage.
 * The fingerprint (an HMAC under the derived key, computed by the daemon: PBKDF2 must not block the
 * extension host) tells copies apart and pairs them with the key a backup needs, without revealing
 * anything about the key.
 */
import { randomUUID } from 'node:crypto';
import type * as vscode from 'vscode';
import type { Deployment } from './deployments';
import { shortDate } from './describe';
import type { Secrets } from './secrets';

export type KeyCopySource = 'env' | 'typed' | 'migration';

export interface KeyCopy {
  id: string;
  /** The deployment it was saved for, and its label then. */
  envFile: string;
  deployment: string;
  /** ISO 8601. */
  savedAt: string;
  fingerprint: string;
  source: KeyCopySource;
  /** The last Check Key Backups: did it open the database's keys (null: there were none to try)? */
  lastCheck?: { at: string; works: boolean | null };
}

const COPIES_KEY = 'gptLoad.keyCopies';
/** When Check Key Backups last ran, by `.env` path (ISO dates). */
const CHECKS_KEY = 'gptLoad.keyChecks';
const DAY_MS = 24 * 60 * 60 * 1000;

/** The fingerprint daemon, CLI and backups show for a key ("plaintext" for ''); the daemon derives it. */
export type FingerprintOf = (key: string) => Promise<string>;

/** "deployment · 2026-01-31 14:05": how a copy is named in pickers and reports. */
export function copyLabel(copy: KeyCopy): string {
  return `${copy.deployment} · ${shortDate(copy.savedAt)}`;
}

export class KeyCopies {
  constructor(
    private readonly state: vscode.Memento,
    private readonly secrets: Secrets,
    readonly fingerprintOf: FingerprintOf,
  ) {}

  /** Every copy (or a deployment's), newest first. */
  list(envFile?: string): KeyCopy[] {
    const all = this.state.get<KeyCopy[]>(COPIES_KEY, []);
    return envFile === undefined ? all : all.filter((c) => c.envFile === envFile);
  }

  /** The copies of `envFile` first, then the others (a key may have moved between deployments). */
  ordered(envFile: string): KeyCopy[] {
    const all = this.list();
    return [...all.filter((c) => c.envFile === envFile), ...all.filter((c) => c.envFile !== envFile)];
  }

  /** Saves a copy; when the deployment already has this key, that copy is kept and returned. */
  async save(deployment: Deployment, value: string, source: KeyCopySource): Promise<{ copy: KeyCopy; existed: boolean }> {
    const fingerprint = await this.fingerprintOf(value);
    const existing = this.list(deployment.envFile).find((c) => c.fingerprint === fingerprint);
    if (existing && (await this.secrets.keyCopy(existing.id)) === value) return { copy: existing, existed: true };
    const copy: KeyCopy = { id: randomUUID(), envFile: deployment.envFile, deployment: deployment.label, savedAt: new Date().toISOString(), fingerprint, source };
    await this.secrets.storeKeyCopy(copy.id, value);
    await this.state.update(COPIES_KEY, [copy, ...this.list()]);
    return { copy, existed: false };
  }

  /** The key of a copy; undefined when this machine's secret storage no longer holds it. */
  value(copy: KeyCopy): Thenable<string | undefined> {
    return this.secrets.keyCopy(copy.id);
  }

  async remove(id: string): Promise<void> {
    await this.secrets.deleteKeyCopy(id);
    await this.state.update(COPIES_KEY, this.list().filter((c) => c.id !== id));
  }

  /** Remembers a check of `envFile`'s copies (and when it ran, for the reminder). */
  async recordCheck(envFile: string, outcomes: Array<{ id: string; works: boolean | null }>, at = new Date()): Promise<void> {
    const when = at.toISOString();
    const byId = new Map(outcomes.map((o) => [o.id, o.works]));
    await this.state.update(
      COPIES_KEY,
      this.list().map((c) => (byId.has(c.id) ? { ...c, lastCheck: { at: when, works: byId.get(c.id)! } } : c)),
    );
    await this.state.update(CHECKS_KEY, { ...this.state.get<Record<string, string>>(CHECKS_KEY, {}), [envFile]: when });
  }

  lastCheck(envFile: string): string | undefined {
    return this.state.get<Record<string, string>>(CHECKS_KEY, {})[envFile];
  }

  /**
   * Deployments whose copies went unchecked for more than `days`: counted from the last check, or
   * from the oldest copy when none ran yet. Deployments without copies or checks are not tracked.
   */
  overdue(days: number, now = Date.now()): Array<{ envFile: string; days: number; checked: boolean }> {
    const since = new Map<string, { at: number; checked: boolean }>();
    for (const copy of this.list()) {
      const at = Date.parse(copy.savedAt);
      const known = since.get(copy.envFile);
      if (!known || at < known.at) since.set(copy.envFile, { at, checked: false });
    }
    for (const [envFile, at] of Object.entries(this.state.get<Record<string, string>>(CHECKS_KEY, {}))) since.set(envFile, { at: Date.parse(at), checked: true });
    return [...since]
      .filter(([, s]) => now - s.at > days * DAY_MS)
      .map(([envFile, s]) => ({ envFile, days: Math.floor((now - s.at) / DAY_MS), checked: s.checked }));
  }
}
