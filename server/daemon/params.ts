/**
 * Checks of incoming request params. Clients are other programs: anything malformed is a 'usage'
 * error naming the field (never echoing its value, which may be a secret).
 */
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import type { DeploymentRef } from '../../shared/protocol';
import { usageError } from './errors';

export type Fields = Record<string, unknown>;

function invalid(field: string, expected: string, expectedZh: string): never {
  throw usageError(`invalid params: '${field}' must be ${expected}`, `参数无效：'${field}' 必须是${expectedZh}`, { field });
}

export function fields(params: unknown): Fields {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) invalid('params', 'one object', '一个对象');
  return params as Fields;
}

export function optString(o: Fields, name: string, maxLength = 1 << 20): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > maxLength) invalid(name, 'a string', '字符串');
  return v;
}

export function reqString(o: Fields, name: string, maxLength?: number): string {
  const v = optString(o, name, maxLength);
  if (v === undefined) invalid(name, 'a string', '字符串');
  return v;
}

export function optInt(o: Fields, name: string, min: number, max: number): number | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(name, `a whole number ${min}..${max}`, `${min}..${max} 之间的整数`);
  return v;
}

export function reqInt(o: Fields, name: string, min: number, max: number): number {
  const v = optInt(o, name, min, max);
  if (v === undefined) invalid(name, `a whole number ${min}..${max}`, `${min}..${max} 之间的整数`);
  return v;
}

export function optBool(o: Fields, name: string): boolean | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') invalid(name, 'true or false', 'true 或 false');
  return v;
}

export function stringArray(o: Fields, name: string, maxItems: number): string[] {
  const v = o[name];
  if (!Array.isArray(v) || v.length > maxItems || v.some((s) => typeof s !== 'string')) {
    invalid(name, `a list of at most ${maxItems} strings`, `最多 ${maxItems} 个字符串的列表`);
  }
  return v as string[];
}

export function oneOf<T extends string>(o: Fields, name: string, values: readonly T[]): T | undefined {
  const v = optString(o, name);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) invalid(name, `one of ${values.join(', ')}`, `${values.join('、')} 之一`);
  return v as T;
}

/** An absolute path, or a `file:` URI turned into one. */
export function filePath(o: Fields, name: string): string {
  const raw = reqString(o, name, 4096);
  let path = raw;
  if (raw.startsWith('file:')) {
    try {
      path = fileURLToPath(raw);
    } catch {
      invalid(name, 'an absolute path or a file: URI', '绝对路径或 file: URI');
    }
  }
  if (!isAbsolute(path) || path.includes('\0')) invalid(name, 'an absolute path or a file: URI', '绝对路径或 file: URI');
  return path;
}

export function deploymentRef(o: Fields, name = 'deployment'): DeploymentRef {
  const d = fields(o[name] ?? invalid(name, 'an object { envFile, dsn?, dbHost? }', '对象 { envFile, dsn?, dbHost? }'));
  return { envFile: filePath(d, 'envFile'), dsn: optString(d, 'dsn', 8192), dbHost: optString(d, 'dbHost', 300) };
}

export function optDeploymentRef(o: Fields, name = 'deployment'): DeploymentRef | undefined {
  return o[name] === undefined || o[name] === null ? undefined : deploymentRef(o, name);
}
