/**
 * Everything the client needs from the language-client libraries and the wire protocol, in one
 * module that is loaded on first use (through `import('./lsp')`), never during activation:
 * together they are ~1 MB of module code. esbuild can emit it as its own file (dist/client-lsp.js)
 * so that activation does not even parse it.
 */
export { CloseAction, ErrorAction, LanguageClient, State, TransportKind } from 'vscode-languageclient/node';
export { RequestType, WorkDoneProgress } from 'vscode-languageserver-protocol';
export * from '../../shared/protocol';
