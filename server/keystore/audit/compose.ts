/**
 * What the audit needs of a Docker Compose file: GPT-Load's service (its image names gpt-load, or
 * it is called gpt-load), its published ports, its `environment:` and labels, and the other
 * services' environment (database passwords) — each value with its line, `${VAR:-default}`
 * interpolated from the shell and the project `.env` as Compose does.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

export interface ComposeValue {
  /** Interpolated value. */
  value: string;
  /** Written as it is, not `${VAR}`: a literal in the Compose file. */
  literal: boolean;
  line: number;
}

export interface PublishedPort {
  /** '' = every interface. */
  hostIp: string;
  hostPort: string;
  containerPort: string;
  line: number;
}

export interface ComposeService {
  name: string;
  line: number;
  image: string;
  environment: Map<string, ComposeValue>;
  labels: Map<string, ComposeValue>;
  ports: PublishedPort[];
  networkModeHost: boolean;
}

export interface ComposeFile {
  path: string;
  services: ComposeService[];
  /** GPT-Load's service, when one is recognised. */
  gptLoad: ComposeService | null;
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose's interpolation: `$$` escapes, `${V:-d}` / `${V-d}` defaults, `${V:+a}` alternates. */
export function interpolate(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(VARIABLE, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const value = lookup(braced ?? bare ?? '');
    if (op === ':-') return value ? value : (arg ?? '');
    if (op === '-') return value ?? arg ?? '';
    if (op === ':+') return value ? (arg ?? '') : '';
    if (op === '+') return value !== undefined ? (arg ?? '') : '';
    return value ?? '';
  });
}

function isReference(text: string): boolean {
  return /\$\{?[A-Za-z_]/.test(text.replace(/\$\$/g, ''));
}

/** `KEY=value` list items or a map, as Compose accepts both for environment and labels. */
function keyValues(node: unknown, lineOf: (n: Node) => number, lookup: (name: string) => string | undefined): Map<string, ComposeValue> {
  const out = new Map<string, ComposeValue>();
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const raw = isScalar(pair.value) && pair.value.value !== null ? String(pair.value.value) : '';
      out.set(String(pair.key.value), { value: interpolate(raw, lookup), literal: raw !== '' && !isReference(raw), line: lineOf((pair.value as Node) ?? pair.key) });
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      if (!isScalar(item)) continue;
      const text = String(item.value);
      const eq = text.indexOf('=');
      if (eq <= 0) continue;
      const raw = text.slice(eq + 1);
      out.set(text.slice(0, eq), { value: interpolate(raw, lookup), literal: raw !== '' && !isReference(raw), line: lineOf(item) });
    }
  }
  return out;
}

/** Compose's short syntax `[[ip:]host:]container[/proto]` and the long one. */
function publishedPorts(node: unknown, lineOf: (n: Node) => number, lookup: (name: string) => string | undefined): PublishedPort[] {
  if (!isSeq(node)) return [];
  const ports: PublishedPort[] = [];
  for (const item of node.items) {
    if (isMap(item)) {
      const get = (k: string) => {
        const v = item.get(k);
        return v === undefined || v === null ? '' : interpolate(String(v), lookup);
      };
      ports.push({ hostIp: get('host_ip'), hostPort: get('published'), containerPort: get('target'), line: lineOf(item) });
      continue;
    }
    if (!isScalar(item)) continue;
    const text = interpolate(String(item.value), lookup).replace(/\/(tcp|udp|sctp)$/, '');
    // An IPv6 host address is bracketed: [::1]:3001:3001.
    const m = /^(?:(\[[^\]]*\]|[^:]*):)??(?:([^:]*):)?([^:]+)$/.exec(text);
    if (!m) continue;
    ports.push({ hostIp: (m[1] ?? '').replace(/^\[|\]$/g, ''), hostPort: m[2] ?? '', containerPort: m[3], line: lineOf(item) });
  }
  return ports;
}

export function readComposeFile(path: string, lookup: (name: string) => string | undefined): ComposeFile {
  const text = readFileSync(path, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, strict: false, uniqueKeys: false, prettyErrors: false });
  const lineOf = (n: Node) => (n.range ? lineCounter.linePos(n.range[0]).line : 1);
  const services: ComposeService[] = [];
  const servicesNode = doc.get('services', true);
  if (isMap(servicesNode)) {
    for (const pair of servicesNode.items) {
      if (!isPair(pair) || !isScalar(pair.key) || !isMap(pair.value)) continue;
      const body = pair.value;
      const image = body.get('image');
      services.push({
        name: String(pair.key.value),
        line: lineOf(pair.key as Node),
        image: typeof image === 'string' ? interpolate(image, lookup) : '',
        environment: keyValues(body.get('environment', true), lineOf, lookup),
        labels: keyValues(body.get('labels', true), lineOf, lookup),
        ports: publishedPorts(body.get('ports', true), lineOf, lookup),
        networkModeHost: body.get('network_mode') === 'host',
      });
    }
  }
  const gptLoad = services.find((s) => /(^|\/)gpt-load(:|$)/.test(s.image)) ?? services.find((s) => s.name === 'gpt-load') ?? null;
  return { path, services, gptLoad };
}
