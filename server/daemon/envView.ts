/**
 * One open `.env` as the daemon's features see it: godotenv's reading of the editor's text (unsaved
 * changes included), the effective entry of each key, and the database it points at. Parsed once
 * per document version and shared by diagnostics, hovers and code actions.
 */
import { basename, dirname } from 'node:path';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { parseDotenv, type DotenvDocument, type EnvEntry } from '../core/env/read';
import { KeystoreError } from '../core/errors';
import { resolveDsn, type DatabaseTarget } from '../store/dsn';
import { fileUriToPath } from './compose';
import { redactor } from './log';

export interface EnvView {
  uri: string;
  version: number;
  /** null for documents that are not files (untitled): no database, no git. */
  path: string | null;
  text: string;
  doc: DotenvDocument;
  /** The effective (last) assignment of each key. */
  last: Map<string, EnvEntry>;
  encryptionKey: string;
  authKey: string | undefined;
  target: DatabaseTarget | null;
  /** Why DATABASE_DSN does not resolve (it is malformed). */
  targetError: KeystoreError | null;
}

/** Documents the daemon lints as `.env`: language id `dotenv`, or a file named `.env` / `.env.*`. */
export function isDotenvDocument(uri: string, languageId: string): boolean {
  if (languageId === 'dotenv') return true;
  const path = fileUriToPath(uri);
  return path !== null && /^\.env(\..+)?$/.test(basename(path));
}

const views = new Map<string, EnvView>();

export function envView(document: TextDocument): EnvView {
  const cached = views.get(document.uri);
  if (cached && cached.version === document.version) return cached;
  const text = document.getText();
  const doc = parseDotenv(text);
  const last = new Map<string, EnvEntry>();
  for (const e of doc.entries) last.set(e.key, e);
  const value = (key: string) => last.get(key)?.value;
  const path = fileUriToPath(document.uri);
  for (const key of ['AUTH_KEY', 'ENCRYPTION_KEY', 'DATABASE_DSN', 'REDIS_DSN']) redactor.add(value(key));
  let target: DatabaseTarget | null = null;
  let targetError: KeystoreError | null = null;
  if (path !== null) {
    try {
      target = resolveDsn(value('DATABASE_DSN') ?? '', dirname(path));
    } catch (err) {
      if (!(err instanceof KeystoreError)) throw err;
      targetError = err;
    }
  }
  const view: EnvView = {
    uri: document.uri,
    version: document.version,
    path,
    text,
    doc,
    last,
    encryptionKey: value('ENCRYPTION_KEY') ?? '',
    authKey: value('AUTH_KEY'),
    target,
    targetError,
  };
  views.set(document.uri, view);
  return view;
}

export function forgetView(uri: string): void {
  views.delete(uri);
}

/** Where a finding about `key` goes: its value, else its line, else the top of the file. */
export function rangeFor(view: EnvView, key: string, part: 'value' | 'entry' = 'value') {
  const entry = view.last.get(key);
  if (entry) return part === 'value' && entry.value !== '' ? entry.valueRange : entry.range;
  return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
}
