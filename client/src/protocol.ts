/**
 * shared/protocol.ts, loaded on first use. It pulls in vscode-languageserver-protocol (~330 KB of
 * module code), which activation must not wait for: every module of the client imports protocol
 * *types* statically and the request objects through `protocol()` where it sends them.
 */
export type Protocol = typeof import('../../shared/protocol.js');

let loaded: Promise<Protocol> | undefined;

export function protocol(): Promise<Protocol> {
  loaded ??= import('../../shared/protocol.js');
  return loaded;
}
