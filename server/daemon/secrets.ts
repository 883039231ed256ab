/** A secret's strength on the wire: the core's assessSecret folded into one risk and one message. */
import { localize, type Lang } from '../core/errors';
import { assessSecret, goLength, type SecretName } from '../core/secrets';
import type { SecretStrength } from '../../shared/protocol';

/** Variables GPT-Load judges as secrets. */
export const JUDGED_SECRETS = new Set(['AUTH_KEY', 'ENCRYPTION_KEY']);

export function secretNameOf(name: string): SecretName {
  return name === 'AUTH_KEY' || name === 'ENCRYPTION_KEY' ? name : 'proxy key';
}

export function strengthOf(value: string, name: string, lang: Lang): SecretStrength {
  const warnings = assessSecret(value, secretNameOf(name));
  return {
    length: goLength(value),
    risk: warnings.some((w) => w.severity === 'high') ? 'high' : warnings.length > 0 ? 'medium' : null,
    message: warnings.length > 0 ? warnings.map((w) => localize(w.text, lang)).join('; ') : null,
  };
}
