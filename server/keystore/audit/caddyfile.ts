/**
 * A Caddyfile read far enough for the audit: site blocks with their addresses, `reverse_proxy`
 * upstreams, `remote_ip` / `client_ip` matchers and `tls`, with file and line; `import` of files
 * (globs) and snippets followed. Caddy's own adapter needs the caddy binary, which an operator's
 * audit host may not have.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { globFiles } from './globFiles';

export interface CaddyNode {
  name: string;
  args: string[];
  file: string;
  line: number;
  block?: CaddyNode[];
}

/** One line's tokens: words and quoted strings, `#` comments dropped. */
function lineTokens(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[3]?.startsWith('#')) break;
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]));
  }
  return out;
}

function parse(text: string, file: string): CaddyNode[] {
  const root: CaddyNode[] = [];
  const stack: CaddyNode[][] = [root];
  text.split(/\r?\n/).forEach((raw, i) => {
    const tokens = lineTokens(raw);
    if (tokens.length === 0) return;
    const line = i + 1;
    if (tokens.length === 1 && tokens[0] === '}') {
      if (stack.length > 1) stack.pop();
      return;
    }
    const opens = tokens[tokens.length - 1] === '{';
    const words = opens ? tokens.slice(0, -1) : tokens;
    const node: CaddyNode = { name: words[0] ?? '', args: words.slice(1), file, line };
    stack[stack.length - 1].push(node);
    if (opens) {
      node.block = [];
      stack.push(node.block);
    }
  });
  return root;
}

export interface CaddySite {
  addresses: string[];
  file: string;
  line: number;
  directives: CaddyNode[];
}

export interface Caddyfile {
  sites: CaddySite[];
  /** `auto_https off` in the global options. */
  autoHttpsOff: boolean;
  files: string[];
}

/** Reads a Caddyfile: imports spliced in, snippets expanded where imported. */
export function readCaddyfile(file: string): Caddyfile {
  const files: string[] = [];
  const snippets = new Map<string, CaddyNode[]>();
  const load = (path: string, depth: number): CaddyNode[] => {
    if (files.includes(path) || depth > 16) return [];
    files.push(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [];
    }
    return expand(parse(text, path), dirname(path), depth);
  };
  const expand = (nodes: CaddyNode[], base: string, depth: number): CaddyNode[] =>
    nodes.flatMap((node) => {
      if (/^\(.+\)$/.test(node.name) && node.block) {
        snippets.set(node.name.slice(1, -1), node.block);
        return [];
      }
      if (node.name === 'import' && node.args[0]) {
        const snippet = snippets.get(node.args[0]);
        if (snippet) return expand(snippet, base, depth + 1);
        return globFiles(isAbsolute(node.args[0]) ? node.args[0] : join(base, node.args[0])).flatMap((f) => load(f, depth + 1));
      }
      return [node.block ? { ...node, block: expand(node.block, base, depth) } : node];
    });
  let top = load(resolve(file), 0);
  let autoHttpsOff = false;
  // A global options block: the first block without a name.
  if (top[0]?.name === '' && top[0].block) {
    autoHttpsOff = top[0].block.some((d) => d.name === 'auto_https' && d.args[0] === 'off');
    top = top.slice(1);
  }
  const sites: CaddySite[] = [];
  if (top.length > 0 && !top.some((n) => n.block && !n.name.startsWith('@'))) {
    // No braces: the first line is the one site's address, the rest its directives.
    const [head, ...rest] = top;
    sites.push({ addresses: [head.name, ...head.args].flatMap(splitAddresses), file: head.file, line: head.line, directives: rest });
  } else {
    for (const n of top) if (n.block) sites.push({ addresses: [n.name, ...n.args].flatMap(splitAddresses), file: n.file, line: n.line, directives: n.block });
  }
  return { sites, autoHttpsOff, files };
}

function splitAddresses(word: string): string[] {
  return word.split(',').filter(Boolean);
}

/** Every node of a site, nested ones included (handle, route, matchers' blocks). */
export function caddyNodes(nodes: readonly CaddyNode[]): CaddyNode[] {
  return nodes.flatMap((n) => [n, ...(n.block ? caddyNodes(n.block) : [])]);
}

/**
 * Whether Caddy serves this address over HTTPS: yes for a host name, an IP or `:443` unless the
 * scheme is http:// or the port is Caddy's HTTP port; automatic HTTPS off needs an explicit `tls`.
 */
export function siteServesHttps(site: CaddySite, autoHttpsOff: boolean): boolean {
  const explicitTls = caddyNodes(site.directives).some((n) => n.name === 'tls');
  if (explicitTls) return true;
  if (autoHttpsOff) return false;
  return site.addresses.some((address) => {
    if (address.startsWith('http://')) return false;
    if (address.startsWith('https://')) return true;
    const port = /:(\d+)$/.exec(address)?.[1];
    if (port === '80') return false;
    if (address.startsWith(':')) return port === '443';
    return true;
  });
}
