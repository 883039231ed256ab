/** `.env` requests: godotenv's reading of a file on disk (masked) and a safe one-key write. */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeEnvParseError, parseDotenv } from '../core/env/read';
import { updateEnvFile } from '../core/env/write';
import { KeystoreError, localize } from '../core/errors';
import { maskSecret } from '../core/secrets';
import { assertComposeDelivers } from '../keystore/composeCheck';
import { EnvReadRequest, EnvWriteRequest, type EnvEntryView, type EnvReadResult } from '../../shared/protocol';
import { appendRecord } from '../keystore/audit/record';
import { redactor } from './log';
import { filePath, optional, text, textOrNull } from './params';
import { JUDGED_SECRETS, strengthOf } from './secrets';
import type { Session } from './session';

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new KeystoreError('io', { en: `cannot read ${path} (${code ?? 'error'})`, zh: `无法读取 ${path}（${code ?? 'error'}）` });
  }
}

/** The secrets whose `.env` writes are checked against Docker Compose (AUTH_KEY rotation, a new ENCRYPTION_KEY). */
const COMPOSE_CHECKED = new Set(['AUTH_KEY', 'ENCRYPTION_KEY']);

export function registerEnvRequests(session: Session): void {
  session.onRequest(EnvReadRequest.type, { envFile: filePath, reveal: optional(text(255)) }, ({ envFile: path, reveal }) => {
    const content = readText(path);
    const doc = parseDotenv(content ?? '');
    const lastIndex = new Map<string, number>();
    doc.entries.forEach((e, i) => lastIndex.set(e.key, i));
    const entries: EnvEntryView[] = doc.entries.map((e, i) => {
      redactor.add(e.value);
      const view: EnvEntryView = {
        key: e.key,
        range: e.range,
        keyRange: e.keyRange,
        valueRange: e.valueRange,
        quote: e.quote === '"' ? 'double' : e.quote === "'" ? 'single' : 'none',
        exported: e.exported,
        expanded: e.expanded,
        effective: lastIndex.get(e.key) === i,
        masked: maskSecret(e.value),
        length: Buffer.byteLength(e.value, 'utf8'),
      };
      if (JUDGED_SECRETS.has(e.key)) view.strength = strengthOf(e.value, e.key, session.lang);
      return view;
    });
    const result: EnvReadResult = {
      path,
      exists: content !== null,
      error: doc.error
        ? {
            message: localize(describeEnvParseError(doc.error), session.lang),
            range: { start: doc.error.position, end: { line: doc.error.position.line, character: doc.error.position.character + 1 } },
          }
        : null,
      entries,
    };
    if (reveal !== undefined) {
      const index = lastIndex.get(reveal);
      result.revealed = { key: reveal, value: index === undefined ? null : doc.entries[index].value };
    }
    return result;
  });

  session.onRequest(EnvWriteRequest.type, { envFile: filePath, key: text(255), value: textOrNull }, ({ envFile: path, key, value: raw }) => {
    redactor.add(raw);
    // A key GPT-Load's container gets from elsewhere in a Compose deployment: writing .env would change nothing it reads.
    if (COMPOSE_CHECKED.has(key)) assertComposeDelivers({ envPath: path, envDir: dirname(path), processEnv: {} }, { [key]: raw });
    const before = readText(path);
    updateEnvFile(path, key, raw);
    const after = readText(path);
    // A new AUTH_KEY (Rotate or Generate AUTH_KEY) is a rotation: on record beside .env for audit's auth-key-stale.
    if (key === 'AUTH_KEY' && raw && before !== after) appendRecord(dirname(path), 'authKeyRotations', raw);
    return { path, created: before === null && after !== null, changed: before !== after };
  });
}
