/**
 * The reverse proxies in front of GPT-Load, from nginx configs, Caddyfiles and Traefik labels in
 * Compose: which of them pass requests to GPT-Load, whether they serve TLS, and whether they limit
 * the admin UI (`/` and `/api/`) by client IP. `/proxy/` routes may stay open.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { caddyNodes, readCaddyfile, siteServesHttps } from './caddyfile';
import type { AuditCompose } from './compose';
import { nginxServers, nginxUpstreams, readNginxConfig, type NginxDirective } from './nginx';

interface FrontDoor {
  kind: 'nginx' | 'caddy' | 'traefik';
  /** server_name, site address or router name. */
  label: string;
  file: string;
  line: number;
  tls: boolean;
  /** `/` and `/api/` limited by client IP (allow/deny, remote_ip, ipAllowList). */
  adminRestricted: boolean;
}

/** How GPT-Load is addressed from a proxy: its ports (container and published) and Compose service name. */
export interface GptLoadAddress {
  ports: string[];
  serviceNames: string[];
}

/** `http://gpt-load:3001/`, `127.0.0.1:3001`, `[::1]:3001` → host and port. */
function hostPort(target: string): { host: string; port: string } {
  const stripped = target.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(stripped);
  return { host: m?.[1] ?? stripped, port: m?.[2] ?? '' };
}

function pointsAtGptLoad(target: string, address: GptLoadAddress, upstreams?: Map<string, string[]>): boolean {
  const { host, port } = hostPort(target);
  const named = upstreams?.get(host);
  if (named) return named.some((s) => pointsAtGptLoad(s, address));
  return address.serviceNames.includes(host) || (port !== '' && address.ports.includes(port));
}

// ---------------------------------------------------------------------------------------------
// nginx

/** nginx's choice for a URI among prefix locations: the longest match (regex locations not modelled). */
function locationFor(server: NginxDirective, uri: string): NginxDirective | undefined {
  let best: NginxDirective | undefined;
  let bestLength = -1;
  for (const d of server.block ?? []) {
    if (d.name !== 'location' || !d.block) continue;
    const [first, second] = d.args;
    const prefix = first === '=' || first === '^~' ? second : first === '~' || first === '~*' ? undefined : first;
    if (prefix === undefined || !uri.startsWith(prefix) || (first === '=' && uri !== prefix)) continue;
    if (prefix.length > bestLength) {
      best = d;
      bestLength = prefix.length;
    }
  }
  return best;
}

function blocksByIp(directives: readonly NginxDirective[]): boolean {
  return directives.some((d) => d.name === 'deny') || directives.some((d) => d.name === 'return' && /^(403|404|444)$/.test(d.args[0] ?? ''));
}

function nginxFrontDoors(file: string, address: GptLoadAddress): { doors: FrontDoor[]; files: string[] } {
  const config = readNginxConfig(file);
  const upstreams = nginxUpstreams(config.directives);
  const doors: FrontDoor[] = [];
  for (const { server, inherited } of nginxServers(config.directives)) {
    const body = server.block ?? [];
    const proxies = (server.block ?? []).filter((d) => d.name === 'location' && d.block?.some((p) => p.name === 'proxy_pass' && pointsAtGptLoad(p.args[0] ?? '', address, upstreams)));
    if (proxies.length === 0) continue;
    const tls = body.some((d) => (d.name === 'listen' && d.args.slice(1).some((a) => a === 'ssl' || a === 'quic')) || d.name === 'ssl_certificate');
    const outer = [...inherited, ...body.filter((d) => !d.block)];
    const restricted = ['/', '/api/auth/login'].every((uri) => {
      const location = locationFor(server, uri);
      return blocksByIp(outer) || (location !== undefined && blocksByIp(location.block ?? []));
    });
    const name = body.find((d) => d.name === 'server_name')?.args.join(' ') ?? '';
    doors.push({ kind: 'nginx', label: name || `server (${basename(server.file)}:${server.line})`, file: server.file, line: server.line, tls, adminRestricted: restricted });
  }
  return { doors, files: config.files };
}

// ---------------------------------------------------------------------------------------------
// Caddy

function caddyFrontDoors(file: string, address: GptLoadAddress): { doors: FrontDoor[]; files: string[] } {
  const caddy = readCaddyfile(file);
  const doors: FrontDoor[] = [];
  for (const site of caddy.sites) {
    const nodes = caddyNodes(site.directives);
    const proxies = nodes.some((n) => n.name === 'reverse_proxy' && n.args.filter((a) => !a.startsWith('@') && !a.startsWith('/')).some((a) => pointsAtGptLoad(a, address)));
    if (!proxies) continue;
    const ipMatcher = (word: string | undefined) => word === 'remote_ip' || word === 'client_ip';
    // `remote_ip …`, `not remote_ip …` in a matcher block, or a one-line `@name remote_ip …`.
    const restricted = nodes.some((n) => ipMatcher(n.name) || (n.name === 'not' && ipMatcher(n.args[0])) || (n.name.startsWith('@') && n.args.some(ipMatcher)));
    doors.push({ kind: 'caddy', label: site.addresses.join(', '), file: site.file, line: site.line, tls: siteServesHttps(site, caddy.autoHttpsOff), adminRestricted: restricted });
  }
  return { doors, files: caddy.files };
}

// ---------------------------------------------------------------------------------------------
// Traefik labels on GPT-Load's Compose service

function traefikFrontDoors(compose: AuditCompose): FrontDoor[] {
  const service = compose.deployment.service;
  if (!service) return [];
  const labels = compose.labels;
  if (labels.get('traefik.enable')?.value !== 'true') return [];
  const routers = new Set<string>();
  for (const name of labels.keys()) {
    const m = /^traefik\.http\.routers\.([^.]+)\./.exec(name);
    if (m) routers.add(m[1]);
  }
  const allowList = (middleware: string) =>
    [...labels.keys()].some((k) => new RegExp(`^traefik\\.http\\.middlewares\\.${middleware.replace(/@.*$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.ip(allow|white)list\\.sourcerange$`, 'i').test(k));
  return [...routers].map((router) => {
    const label = (suffix: string) => labels.get(`traefik.http.routers.${router}.${suffix}`);
    const tls = label('tls')?.value === 'true' || [...labels.keys()].some((k) => k.startsWith(`traefik.http.routers.${router}.tls.`));
    const middlewares = (label('middlewares')?.value ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    const at = label('rule') ?? labels.get('traefik.enable')!;
    return { kind: 'traefik' as const, label: router, file: at.file, line: at.line, tls, adminRestricted: middlewares.some(allowList) };
  });
}

// ---------------------------------------------------------------------------------------------

const SKIP_DIRS = new Set(['data', 'node_modules', '.git', 'backups', 'logs']);

/** nginx and Caddy configuration files in a deployment folder (three levels deep). */
export function discoverProxyConfigs(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(d, name);
      let stat;
      try {
        stat = statSync(path);
      } catch {
        continue;
      }
      if (stat.isDirectory()) {
        if (depth < 3 && !SKIP_DIRS.has(name) && !name.startsWith('.')) walk(path, depth + 1);
      } else if (stat.size < 1 << 20 && proxyKindOf(path) !== null) found.push(path);
    }
  };
  walk(resolve(dir), 0);
  return found;
}

function proxyKindOf(path: string): 'nginx' | 'caddy' | null {
  const name = basename(path);
  if (/^Caddyfile/.test(name) || name.endsWith('.caddyfile') || name.endsWith('.Caddyfile')) return 'caddy';
  if (!name.endsWith('.conf')) return null;
  try {
    return /\b(server|location|http)\s*\{|proxy_pass/.test(readFileSync(path, 'utf8')) ? 'nginx' : null;
  } catch {
    return null;
  }
}

export interface ProxyFacts {
  doors: FrontDoor[];
  /** Every configuration file read (includes and imports too). */
  files: string[];
}

/** The front doors of every config given or discovered (a file another one includes is read once, through it). */
export function readFrontDoors(configs: readonly string[], compose: AuditCompose | null, address: GptLoadAddress): ProxyFacts {
  const doors: FrontDoor[] = [];
  const files: string[] = [];
  // Main files first (nginx.conf, Caddyfile), so a conf.d file they include is not read twice.
  const rank = (path: string) => (/^(nginx\.conf|Caddyfile)$/.test(basename(path)) ? 0 : 1);
  const ordered = [...configs].sort((a, b) => rank(a) - rank(b));
  for (const config of ordered) {
    const path = resolve(config);
    if (files.includes(path)) continue;
    const kind = proxyKindOf(path) ?? 'nginx';
    const read = kind === 'caddy' ? caddyFrontDoors(path, address) : nginxFrontDoors(path, address);
    doors.push(...read.doors);
    files.push(...read.files.filter((f) => !files.includes(f)));
  }
  if (compose) doors.push(...traefikFrontDoors(compose));
  return { doors, files };
}
