/**
 * Everything one audit reads, gathered once: the deployment (.env), its Compose file, the reverse
 * proxies in front, the database (when reachable), the record beside .env — and the one question
 * every check asks: which value does GPT-Load really get for a variable, and where is it written.
 */
import type { Localized } from '../../core/errors';
import type { Store } from '../../store/connect';
import type { Deployment } from '../deployment';
import type { AuditCompose } from './compose';
import type { ProxyFacts } from './proxies';
import type { DeploymentRecord } from './record';

export interface AuditInputs {
  deployment: Deployment;
  compose: AuditCompose | null;
  proxies: ProxyFacts;
  /** null when the database could not be opened: `storeProblem` says why. */
  store: Store | null;
  storeProblem: Localized | null;
  record: DeploymentRecord;
  backupsDir: string;
  maxBackupAgeMs: number;
  now: Date;
}

export interface Setting {
  value: string;
  /** Where it is written (absent: the process environment or GPT-Load's default). */
  file?: string;
  line?: number;
}

/**
 * What GPT-Load gets for `name`: in a Compose deployment, its container's value (core/compose:
 * `environment:` over `env_file:` over a mounted `.env`); else the process environment, then `.env`.
 */
export function setting(inputs: AuditInputs, name: string): Setting | undefined {
  const compose = inputs.compose?.deployment;
  if (compose?.service) {
    const effective = compose.effectiveVariable(name);
    if (effective.value === undefined) return undefined;
    return { value: effective.value, ...(effective.source ? { file: effective.source.file, line: effective.source.line } : {}) };
  }
  const env = inputs.deployment.env;
  const value = env.get(name);
  if (value === undefined) return undefined;
  if (env.source(name) !== 'file') return { value };
  const entry = env.doc.entries.filter((e) => e.key === name).pop();
  return { value, file: env.path, ...(entry ? { line: entry.range.start.line + 1 } : {}) };
}

/** `file`/`line` of a setting, for a finding. */
export function placeOf(s: Setting | undefined): { file?: string; line?: number } {
  return s?.file ? { file: s.file, ...(s.line ? { line: s.line } : {}) } : {};
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}
