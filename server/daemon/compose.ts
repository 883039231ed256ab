/**
 * docker-compose.yml / compose.yaml: AUTH_KEY and ENCRYPTION_KEY written literally under a service's
 * `environment:` (map or list form) live in a file that is usually committed. The fix moves the value
 * into the `.env` beside the compose file (which Compose reads for interpolation) and references it
 * as `${NAME}` — one WorkspaceEdit, so the secret is never dropped on the way.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CreateFile, DiagnosticSeverity, TextDocumentEdit, type CodeAction, type Diagnostic, type Range, type WorkspaceEdit } from 'vscode-languageserver/node';
import { literalComposeSecrets } from '../core/compose';
import { lintCompose } from '../core/lint';
import { quoteForDotenv, setEnvValue } from '../core/env/write';
import { localize, type Lang } from '../core/errors';
import { DaemonDiagnosticCodes, DIAGNOSTIC_SOURCE } from '../../shared/protocol';

interface LiteralSecret {
  service: string;
  name: string;
  value: string;
  /** The text to replace: the map value, or the whole `NAME=value` list item. */
  range: Range;
  replacement: string;
}

/** Literal AUTH_KEY / ENCRYPTION_KEY values under `services.*.environment`. Malformed YAML yields what parses. */
function findLiteralSecrets(doc: TextDocument): LiteralSecret[] {
  return literalComposeSecrets(doc.getText()).map((s) => ({
    service: s.service,
    name: s.name,
    value: s.value,
    range: { start: doc.positionAt(s.span[0]), end: doc.positionAt(s.span[1]) },
    replacement: s.form === 'map' ? `\${${s.name}}` : `${s.name}=\${${s.name}}`,
  }));
}

export function composeDiagnostics(doc: TextDocument, lang: Lang): Diagnostic[] {
  return lintCompose(doc.getText(), basename(doc.uri), lang).map((f) => ({
    range: f.range,
    severity: DiagnosticSeverity.Warning,
    source: DIAGNOSTIC_SOURCE,
    code: DaemonDiagnosticCodes.composeLiteralSecret,
    message: f.message,
    data: f.data,
  }));
}

export interface EnvFileAccess {
  /** The `.env` text: the open editor's when it is open, else the file's; null when it does not exist. */
  read(path: string): { text: string; version: number | null } | null;
  canCreateFiles: boolean;
}

/** The "move to .env" fix for each literal secret in `range` (none when the move cannot be done safely). */
export function composeCodeActions(doc: TextDocument, range: Range, diagnostics: Diagnostic[], access: EnvFileAccess, lang: Lang): CodeAction[] {
  const composePath = fileUriToPath(doc.uri);
  if (!composePath) return [];
  const envPath = join(dirname(composePath), '.env');
  const envUri = pathToFileURL(envPath).toString();
  const actions: CodeAction[] = [];
  for (const secret of findLiteralSecrets(doc)) {
    if (!overlaps(secret.range, range)) continue;
    // Compose interpolates `$` in literal values; moving such a value would change what it means.
    if (secret.value.includes('$')) continue;
    let envEdit: TextDocumentEdit;
    let create: CreateFile | null = null;
    const existing = access.read(envPath);
    try {
      if (existing) {
        const next = setEnvValue(existing.text, secret.name, secret.value);
        envEdit = TextDocumentEdit.create({ uri: envUri, version: existing.version }, [{ range: wholeText(existing.text), newText: next }]);
      } else {
        if (!access.canCreateFiles) continue;
        create = CreateFile.create(envUri, { ignoreIfExists: true });
        envEdit = TextDocumentEdit.create({ uri: envUri, version: null }, [
          { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: `${secret.name}=${quoteForDotenv(secret.value)}\n` },
        ]);
      }
    } catch {
      // An unparsable .env or an unwritable value: offering nothing beats losing the secret.
      continue;
    }
    const composeEdit = TextDocumentEdit.create({ uri: doc.uri, version: doc.version }, [{ range: secret.range, newText: secret.replacement }]);
    const edit: WorkspaceEdit = { documentChanges: [...(create ? [create] : []), envEdit, composeEdit] };
    actions.push({
      title: localize({ en: `Move ${secret.name} to .env and reference it as \${${secret.name}}`, zh: `将 ${secret.name} 移到 .env，并以 \${${secret.name}} 引用` }, lang),
      kind: 'quickfix',
      diagnostics: diagnostics.filter((d) => overlaps(d.range, secret.range)),
      isPreferred: true,
      edit,
    });
  }
  return actions;
}

function wholeText(text: string): Range {
  const lines = text.split(/\r\n|\r|\n/);
  return { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines[lines.length - 1].length } };
}

export function overlaps(a: Range, b: Range): boolean {
  const before = (p: { line: number; character: number }, q: { line: number; character: number }) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

export function fileUriToPath(uri: string): string | null {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : null;
  } catch {
    return null;
  }
}
