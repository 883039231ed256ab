/**
 * `rotate-auth-key`: a new AUTH_KEY into the `.env` GPT-Load reads, the old one out of the stored
 * proxy keys (GPT-Load copied it into system_settings.proxy_keys on first start, maybe into groups
 * too) in one transaction, and the date on record beside `.env` for `auth-key-stale`. The database
 * goes first: if the `.env` write then fails, the old key is still AUTH_KEY and nothing is lost.
 */
import { KeystoreError, type Localized } from '../../core/errors';
import { assessSecret, maskSecret } from '../../core/secrets';
import type { Store } from '../../store/connect';
import type { Deployment } from '../deployment';
import { applyEnvChanges, restartHint, type RestartHint } from '../migrate/env';
import type { OperationContext } from '../operation';
import { findProxyKeyUses, isUsed, proxyKeyValue, removeProxyKey, type ProxyKeyUses } from '../proxyKeys';
import { assertComposeDelivers } from '../composeCheck';
import { appendRecord } from './record';

/** AUTH_KEY as the `.env` file holds it ('' when absent). */
function fileAuthKey(deployment: Deployment): string {
  return deployment.env.doc.values?.AUTH_KEY ?? '';
}

/**
 * Refuses what GPT-Load would not read or would judge weak: a new key with any of its dashboard
 * warnings, a comma (proxy key lists split there), the old key again. Never quotes the key.
 */
function checkNewAuthKey(value: string, old: string): void {
  const warnings = assessSecret(value, 'AUTH_KEY');
  if (warnings.length > 0) {
    throw new KeystoreError('usage', {
      en: `the new AUTH_KEY does not pass GPT-Load's checks: ${warnings.map((w) => w.text.en).join('; ')}. Leave out the key option to have one generated.`,
      zh: `新的 AUTH_KEY 未通过 GPT-Load 的检查：${warnings.map((w) => w.text.zh).join('；')}。不指定密钥选项即可自动生成。`,
    });
  }
  proxyKeyValue(value);
  if (value === old) throw new KeystoreError('usage', { en: 'the new AUTH_KEY is the current one', zh: '新的 AUTH_KEY 与当前的相同' });
}

export interface AuthKeyRotationPlan {
  envPath: string;
  oldMasked: string | null;
  newMasked: string;
  /** Where the old key is stored as a proxy key (null: not looked up). */
  oldUses: ProxyKeyUses | null;
}

/**
 * What a rotation would do (read only): run before asking the operator. Refused, as migrate-keys'
 * --update-env is, when Docker Compose would not hand the new key to GPT-Load's container.
 */
export async function planAuthKeyRotation(store: Store | null, deployment: Deployment, newKey: string): Promise<AuthKeyRotationPlan> {
  const old = fileAuthKey(deployment);
  checkNewAuthKey(newKey, old);
  assertComposeDelivers(deployment, { AUTH_KEY: newKey });
  return {
    envPath: deployment.envPath,
    oldMasked: old ? maskSecret(old) : null,
    newMasked: maskSecret(newKey),
    oldUses: store && old && !old.includes(',') ? await findProxyKeyUses(store, old) : null,
  };
}

export interface AuthKeyRotation extends AuthKeyRotationPlan {
  /** Removed from the stored proxy keys (counts as removed). */
  removed: ProxyKeyUses | null;
  restart: RestartHint;
  /** ISO date recorded beside .env. */
  recorded: string;
  notes: Localized[];
}

export async function rotateAuthKey(store: Store | null, params: { deployment: Deployment; newKey: string }, context: OperationContext = {}): Promise<AuthKeyRotation> {
  const { deployment, newKey } = params;
  const plan = await planAuthKeyRotation(store, deployment, newKey);
  const old = fileAuthKey(deployment);
  let removed: ProxyKeyUses | null = null;
  const notes: Localized[] = [];
  if (store && plan.oldUses && isUsed(plan.oldUses)) {
    const removal = await removeProxyKey(store, { value: old, deployment }, context);
    removed = { settings: removal.settings, groups: removal.groups };
    notes.push(...removal.notes);
  }
  applyEnvChanges(deployment.envPath, { AUTH_KEY: newKey });
  const entry = appendRecord(deployment.envDir, 'authKeyRotations', newKey);
  return { ...plan, removed, restart: restartHint(deployment.envDir), recorded: entry.date, notes };
}
