/**
 * shared/protocol.ts and the client libraries (./lsp.ts), loaded on first use: activation must not
 * wait for ~1 MB of module code. Every module of the client imports protocol *types* statically and
 * the request objects through `protocol()` where it sends them.
 */
export type Protocol = typeof import('./lsp.js');

let loaded: Promise<Protocol> | undefined;

export function protocol(): Promise<Protocol> {
  // require, not import(): the bundle is CommonJS, and a packaged build may emit ./lsp as its own file.
  loaded ??= Promise.resolve().then(() => require('./lsp.js') as Protocol);
  return loaded;
}
