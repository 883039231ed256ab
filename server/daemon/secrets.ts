/** A secret's strength on the wire: the core's assessSecret folded into one risk and one message. */
import { localize, type Lang } from '../core/errors';
import { assessSecret, goLength, type SecretName, type SecretWarning } from '../core/secrets';
import type { SecretStrength } from '../../shared/protocol';

/** Variables GPT-Load judges as secrets. */
export const JUDGED_SECRETS = new Set(['AUTH_KEY', 'ENCRYPTION_KEY']);

export function secretNameOf(name: string): SecretName {
  return name === 'AUTH_KEY' || name === 'ENCRYPTION_KEY' ? name : 'proxy key';
}

export function strengthOf(value: string, name: string, lang: Lang): SecretStrength {
  return strengthFrom(goLength(value), assessSecret(value, secretNameOf(name)), lang);
}

/** The wire form of warnings assessSecret already gave (where the caller holds only the masked value). */
export function strengthFrom(length: number, warnings: readonly SecretWarning[], lang: Lang): SecretStrength {
  return {
    length,
    risk: warnings.some((w) => w.severity === 'high') ? 'high' : warnings.length > 0 ? 'medium' : null,
    message: warnings.length > 0 ? warnings.map((w) => localize(w.text, lang)).join('; ') : null,
  };
}
