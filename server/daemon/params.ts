/**
 * The daemon's side of the request contract: every request's params are checked against a spec
 * typed by its Params in shared/protocol.ts (one check per field, so renaming or retyping a field
 * there fails to compile here) before its handler sees them. Clients are other programs: bad params
 * get one error naming the field and what was expected, never echoing the value (it may be a
 * secret), with data { code: 'usage', details: { field } }. Its JSON-RPC code says which kind:
 * - InvalidParams (-32602): a field is there but not of the type Params declares (or the params are
 *   not an object) — the client does not speak this protocol;
 * - the keystore's `usage` (4000): a required field is missing, or a value of the declared type is
 *   beyond what the daemon takes (too long, out of range, a relative path) — as the CLI's usage errors.
 */
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import type { WorkDoneProgressParams } from 'vscode-languageserver/node';
import { KeystoreError, type Localized } from '../core/errors';
import type { DeploymentRef } from '../../shared/protocol';
import { InvalidParamsError } from './errors';

/** One field's check: the value its handler gets, or one error naming the field. */
export type Check<T> = (value: unknown, field: string) => T;

/** A check for each field of a request's Params; the session itself reads the work-done token. */
export type ParamsSpec<P> = { [K in Exclude<keyof P, keyof WorkDoneProgressParams>]-?: Check<P[K]> };

function message(field: string, expected: Localized): Localized {
  return { en: `invalid params: '${field}' must be ${expected.en}`, zh: `参数无效：'${field}' 必须是${expected.zh}` };
}

function wrongType(field: string, expected: Localized, value: unknown): never {
  if (value === undefined || value === null) throw new KeystoreError('usage', message(field, expected), { field });
  throw new InvalidParamsError(message(field, expected), { field });
}

function beyondLimits(field: string, expected: Localized): never {
  throw new KeystoreError('usage', message(field, expected), { field });
}

/** An optional field: absent and null are both undefined (JSON clients send either). */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, field) => (value === undefined || value === null ? undefined : check(value, field));
}

export function text(maxLength = 1 << 20): Check<string> {
  return (value, field) => {
    if (typeof value !== 'string') return wrongType(field, { en: 'a string', zh: '字符串' }, value);
    if (value.length > maxLength) return beyondLimits(field, { en: `a string of at most ${maxLength} characters`, zh: `不超过 ${maxLength} 个字符的字符串` });
    return value;
  };
}

/** A string, or null where null means something (EnvWrite's value: remove the key); not absent. */
export const textOrNull: Check<string | null> = (value, field) =>
  value === null || typeof value === 'string' ? value : wrongType(field, { en: 'a string or null', zh: '字符串或 null' }, value);

export function integer(min: number, max: number): Check<number> {
  const expected = { en: `a whole number ${min}..${max}`, zh: `${min}..${max} 之间的整数` };
  return (value, field) => {
    if (typeof value !== 'number') return wrongType(field, expected, value);
    if (!Number.isInteger(value) || value < min || value > max) return beyondLimits(field, expected);
    return value;
  };
}

export const flag: Check<boolean> = (value, field) => (typeof value === 'boolean' ? value : wrongType(field, { en: 'true or false', zh: 'true 或 false' }, value));

export function strings(maxItems: number): Check<string[]> {
  const expected = { en: `a list of at most ${maxItems} strings`, zh: `最多 ${maxItems} 个字符串的列表` };
  return (value, field) => {
    if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) return wrongType(field, expected, value);
    if (value.length > maxItems) return beyondLimits(field, expected);
    return value as string[];
  };
}

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, field) =>
    (values as readonly unknown[]).includes(value) ? (value as T) : wrongType(field, { en: `one of ${values.join(', ')}`, zh: `${values.join('、')} 之一` }, value);
}

const A_PATH = { en: 'an absolute path or a file: URI', zh: '绝对路径或 file: URI' };

/** An absolute path, or a `file:` URI turned into one. */
export const filePath: Check<string> = (value, field) => {
  if (typeof value !== 'string') return wrongType(field, A_PATH, value);
  let path = value;
  if (value.startsWith('file:')) {
    try {
      path = fileURLToPath(value);
    } catch {
      return beyondLimits(field, A_PATH);
    }
  }
  if (value.length > 4096 || !isAbsolute(path) || path.includes('\0')) return beyondLimits(field, A_PATH);
  return path;
};

function fields<P>(spec: ParamsSpec<P>, value: unknown, field: string, expected: Localized, prefix: string): P {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrongType(field, expected, value);
  const given = value as Record<string, unknown>;
  const checked: Record<string, unknown> = {};
  for (const [name, check] of Object.entries<Check<unknown>>(spec as Record<string, Check<unknown>>)) {
    const v = check(given[name], prefix + name);
    if (v !== undefined) checked[name] = v;
  }
  return checked as P;
}

const deploymentRefSpec: ParamsSpec<DeploymentRef> = { envFile: filePath, dsn: optional(text(8192)), dbHost: optional(text(300)) };

export const deploymentRef: Check<DeploymentRef> = (value, field) =>
  fields(deploymentRefSpec, value, field, { en: 'an object { envFile, dsn?, dbHost? }', zh: '对象 { envFile, dsn?, dbHost? }' }, `${field}.`);

/** A request's params as its handler gets them: absent params count as {}; fields the spec does not name are dropped. */
export function checkParams<P>(spec: ParamsSpec<P>, params: unknown): P {
  return fields(spec, params ?? {}, 'params', { en: 'one object', zh: '一个对象' }, '');
}
