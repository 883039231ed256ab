/**
 * Quick fixes for the daemon's diagnostics. Each fix re-reads the document (diagnostics carry no
 * secrets), builds the smallest edit, and checks with godotenv's reading that the edit does what
 * its title says; a fix that cannot be made safely is not offered. Generated secrets are made only
 * when the fix is picked (codeAction/resolve) when the client supports resolving edits.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind,
  CreateFile,
  TextDocumentEdit,
  type CodeAction,
  type CodeActionParams,
  type Diagnostic,
  type TextDocuments,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { parseDotenv, type EnvEntry } from '../core/env/read';
import { quoteForDotenv } from '../core/env/write';
import { localize, type Localized } from '../core/errors';
import { generateSecret } from '../core/secrets';
import { CommandIds } from '../../shared/commands';
import { DaemonDiagnosticCodes, DIAGNOSTIC_SOURCE } from '../../shared/protocol';
import { composeCodeActions, type EnvFileAccess } from './compose';
import type { DatabaseChecks } from './dbcheck';
import { documentKind } from './diagnostics';
import { envView, type EnvView } from './envView';
import { redactor } from './log';
import type { Session } from './session';

type Generated = 'AUTH_KEY' | 'ENCRYPTION_KEY';

interface ResolveData {
  uri: string;
  generate: Generated;
}

const GENERATED_LENGTH: Record<Generated, number> = { AUTH_KEY: 32, ENCRYPTION_KEY: 48 };
const DB_CODES = new Set<string>([
  DaemonDiagnosticCodes.keyMismatch,
  DaemonDiagnosticCodes.dataNotEncrypted,
  DaemonDiagnosticCodes.keyNotConfigured,
  DaemonDiagnosticCodes.mixedState,
]);

function fixOf(d: Diagnostic): string | undefined {
  const data = d.data as { fix?: unknown } | undefined;
  return typeof data?.fix === 'string' ? data.fix : undefined;
}

function keyOf(d: Diagnostic): string | undefined {
  const data = d.data as { key?: unknown } | undefined;
  return typeof data?.key === 'string' ? data.key : undefined;
}

function endOf(text: string) {
  const lines = text.split(/\r\n|\r|\n/);
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

function eolOf(text: string): string {
  return /\r\n/.test(text) ? '\r\n' : '\n';
}

export class CodeActions {
  constructor(
    private readonly session: Session,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly checks: DatabaseChecks,
  ) {}

  /** Whether the client resolves `edit` lazily (codeAction/resolve). */
  canResolveEdits = false;

  private t(text: Localized): string {
    return localize(text, this.session.lang);
  }

  provide(params: CodeActionParams): CodeAction[] {
    const document = this.documents.get(params.textDocument.uri);
    if (!document) return [];
    const ours = params.context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE);
    const kind = documentKind(document);
    if (kind === 'compose') return composeCodeActions(document, params.range, ours, this.nearbyFiles(), this.session.lang);
    if (kind !== 'dotenv') return [];
    const view = envView(document);
    const actions = new Map<string, CodeAction>();
    const add = (action: CodeAction | null) => {
      if (action && !actions.has(action.title)) actions.set(action.title, action);
    };
    for (const d of ours) {
      const fix = fixOf(d);
      const code = String(d.code ?? '');
      if (fix === 'generate' && keyOf(d) === 'AUTH_KEY') add(this.generate(view, 'AUTH_KEY', d));
      if (fix === 'migrate-keys' || DB_CODES.has(code)) {
        if (code === 'encryption-key-missing' && this.isNewDeployment(view)) add(this.generate(view, 'ENCRYPTION_KEY', d));
        else add(this.migrate(view, d));
      }
      if (fix === 'quote') add(this.quote(view, d));
      if (fix === 'remove-duplicate') add(this.removeDuplicate(view, d));
      if (fix === 'gitignore') add(this.gitignore(view, d));
      if (fix === 'remove-bom') add(this.removeBom(view, d));
      if (fix === 'remove-proxy-key') add(this.removeProxyKey(view, d));
    }
    return [...actions.values()];
  }

  resolve(action: CodeAction): CodeAction {
    const data = action.data as ResolveData | undefined;
    if (!data || action.edit) return action;
    const document = this.documents.get(data.uri);
    if (!document) return action;
    return { ...action, edit: this.generatedEdit(envView(document), data.generate) };
  }

  // -------------------------------------------------------------------------------------------

  /** No keys stored yet (or no database yet): a fresh ENCRYPTION_KEY cannot strand any data. */
  private isNewDeployment(view: EnvView): boolean {
    if (view.target === null) return false;
    const check = this.checks.peek(view.target, view.encryptionKey);
    if (!check) return false;
    return check.ok ? check.totalKeys === 0 : check.code === 'database-missing' && view.target.kind === 'sqlite';
  }

  private generate(view: EnvView, name: Generated, d: Diagnostic): CodeAction {
    const title =
      name === 'AUTH_KEY'
        ? this.t({ en: 'Generate a strong AUTH_KEY', zh: '生成高强度 AUTH_KEY' })
        : this.t({ en: 'Generate an ENCRYPTION_KEY (new deployment: no keys stored yet)', zh: '生成 ENCRYPTION_KEY（新部署：尚未存储任何密钥）' });
    const action: CodeAction = { title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: name === 'AUTH_KEY' };
    if (this.canResolveEdits) action.data = { uri: view.uri, generate: name } satisfies ResolveData;
    else action.edit = this.generatedEdit(view, name);
    return action;
  }

  private generatedEdit(view: EnvView, name: Generated): WorkspaceEdit {
    const secret = generateSecret(GENERATED_LENGTH[name]);
    redactor.add(secret);
    const entry = view.last.get(name);
    let edit: TextEdit;
    if (entry) {
      edit = { range: entry.valueRange, newText: secret };
    } else {
      const eol = eolOf(view.text);
      const sep = view.text === '' || /[\r\n]$/.test(view.text) ? '' : eol;
      const end = endOf(view.text);
      edit = { range: { start: end, end }, newText: `${sep}${name}=${secret}${eol}` };
    }
    return { changes: { [view.uri]: [edit] } };
  }

  private migrate(view: EnvView, d: Diagnostic): CodeAction {
    const title = this.t({ en: 'Migrate keys…', zh: '迁移密钥…' });
    return { title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title, command: CommandIds.migrateKeys, arguments: [view.uri] } };
  }

  /** AUTH_KEY stored as a proxy key: the client removes it there (proxy-keys remove), after asking. */
  private removeProxyKey(view: EnvView, d: Diagnostic): CodeAction {
    const title = this.t({ en: "Remove AUTH_KEY from GPT-Load's stored proxy keys…", zh: '从 GPT-Load 已存储的代理密钥中删除 AUTH_KEY…' });
    return { title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title, command: CommandIds.removeAuthKeyFromProxyKeys, arguments: [view.uri] } };
  }

  /** Rewrites a value so godotenv reads the intended text: as written (`$` findings) or as GPT-Load reads it now (Compose disagreements). */
  private quote(view: EnvView, d: Diagnostic): CodeAction | null {
    const key = keyOf(d);
    const entry = key ? view.last.get(key) : undefined;
    if (!entry) return null;
    const asRead = d.code === 'compose-disagrees';
    const intended = asRead ? entry.value : literalAsWritten(entry);
    if (intended === null) return null;
    let spelled: string;
    try {
      spelled = quoteForDotenv(intended);
    } catch {
      return null;
    }
    const edit = { range: entry.valueRange, newText: spelled };
    if (parseAfter(view, [edit])?.[entry.key] !== intended) return null;
    return {
      title: asRead
        ? this.t({ en: `Quote ${entry.key} so Docker Compose and GPT-Load read the same value`, zh: `为 ${entry.key} 加引号，使 Docker Compose 与 GPT-Load 读到相同的值` })
        : this.t({ en: `Quote ${entry.key} so GPT-Load reads it as written`, zh: `为 ${entry.key} 加引号，使 GPT-Load 按原样读取` }),
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [view.uri]: [edit] } },
    };
  }

  private removeDuplicate(view: EnvView, d: Diagnostic): CodeAction | null {
    const entry = view.doc.entries.find((e) => e.key === keyOf(d) && e.range.start.line === d.range.start.line && e.range.start.character === d.range.start.character);
    if (!entry || view.last.get(entry.key) === entry || !view.doc.values) return null;
    const edit = removalOf(view, entry);
    // Removing it must change nothing godotenv reads (a later value may have expanded it).
    const after = parseAfter(view, [edit]);
    if (!after || JSON.stringify(Object.entries(after).sort()) !== JSON.stringify(Object.entries(view.doc.values).sort())) return null;
    return {
      title: this.t({ en: `Remove this earlier ${entry.key} (it has no effect)`, zh: `删除这条较早的 ${entry.key}（它不生效）` }),
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [view.uri]: [edit] } },
    };
  }

  private gitignore(view: EnvView, d: Diagnostic): CodeAction | null {
    if (view.path === null) return null;
    const name = basename(view.path);
    const ignorePath = join(dirname(view.path), '.gitignore');
    const ignoreUri = pathToFileURL(ignorePath).toString();
    const existing = this.nearbyFiles().read(ignorePath);
    let changes: WorkspaceEdit['documentChanges'];
    if (existing) {
      const sep = existing.text === '' || /[\r\n]$/.test(existing.text) ? '' : eolOf(existing.text);
      const end = endOf(existing.text);
      changes = [TextDocumentEdit.create({ uri: ignoreUri, version: existing.version }, [{ range: { start: end, end }, newText: `${sep}${name}${eolOf(existing.text)}` }])];
    } else {
      if (!this.session.canCreateFiles) return null;
      changes = [
        CreateFile.create(ignoreUri, { ignoreIfExists: true }),
        TextDocumentEdit.create({ uri: ignoreUri, version: null }, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: `${name}\n` }]),
      ];
    }
    return {
      title: this.t({ en: `Add ${name} to .gitignore`, zh: `将 ${name} 加入 .gitignore` }),
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { documentChanges: changes },
    };
  }

  private removeBom(view: EnvView, d: Diagnostic): CodeAction | null {
    if (!view.text.startsWith('\uFEFF')) return null;
    return {
      title: this.t({ en: 'Remove the BOM', zh: '删除 BOM' }),
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [view.uri]: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, newText: '' }] } },
    };
  }

  /** Text of a file beside the document: the open editor's if it is open (with its version), else the disk's. */
  private nearbyFiles(): EnvFileAccess {
    return {
      canCreateFiles: this.session.canCreateFiles,
      read: (path) => {
        const open = this.documents.get(pathToFileURL(path).toString());
        if (open) return { text: open.getText(), version: open.version };
        try {
          return { text: readFileSync(path, 'utf8'), version: null };
        } catch {
          return null;
        }
      },
    };
  }
}

/** The text as written, which the `$` rules say godotenv does not keep; null when it cannot be told. */
function literalAsWritten(entry: EnvEntry): string | null {
  if (entry.quote === null) return entry.rawValue;
  if (entry.quote === "'") return entry.rawValue.slice(1, -1);
  // Double quotes: godotenv's escapes apply, only `$` is meant literally.
  let escaped = '';
  for (let i = 0; i < entry.rawValue.length; i++) {
    const c = entry.rawValue[i];
    if (c === '\\') {
      escaped += c + (entry.rawValue[i + 1] ?? '');
      i++;
    } else escaped += c === '$' ? '\\$' : c;
  }
  const doc = parseDotenv(`K=${escaped}\n`);
  return doc.values && doc.entries.length === 1 ? doc.values.K : null;
}

function offsetAt(text: string, position: { line: number; character: number }): number {
  let line = 0;
  let i = 0;
  while (line < position.line && i < text.length) {
    const c = text[i++];
    if (c === '\r' && text[i] === '\n') i++;
    if (c === '\n' || c === '\r') line++;
  }
  return Math.min(i + position.character, text.length);
}

function applyEdits(text: string, edits: TextEdit[]): string {
  const spans = edits.map((e) => ({ from: offsetAt(text, e.range.start), to: offsetAt(text, e.range.end), text: e.newText })).sort((a, b) => b.from - a.from);
  for (const s of spans) text = text.slice(0, s.from) + s.text + text.slice(s.to);
  return text;
}

function parseAfter(view: EnvView, edits: TextEdit[]): Record<string, string> | null {
  return parseDotenv(applyEdits(view.text, edits)).values;
}

/** The whole line(s) of an assignment when nothing else is on them, else just the assignment. */
function removalOf(view: EnvView, entry: EnvEntry): TextEdit {
  const lines = view.text.split(/\r\n|\r|\n/);
  const before = lines[entry.range.start.line].slice(0, entry.range.start.character);
  const after = lines[entry.range.end.line]?.slice(entry.range.end.character) ?? '';
  if (/^\s*$/.test(before) && /^\s*(#.*)?$/.test(after)) {
    const lastLine = entry.range.end.line + 1 >= lines.length;
    return {
      range: { start: { line: entry.range.start.line, character: 0 }, end: lastLine ? { line: entry.range.end.line, character: lines[entry.range.end.line].length } : { line: entry.range.end.line + 1, character: 0 } },
      newText: '',
    };
  }
  return { range: entry.range, newText: '' };
}
