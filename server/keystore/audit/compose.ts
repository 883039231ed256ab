/**
 * What the audit reads of Docker Compose beyond GPT-Load's effective environment and published
 * ports (core/compose, through composeCheck's composeOf): every service's `environment:` as written
 * (literal secrets, database passwords of the MySQL/PostgreSQL services) and GPT-Load's labels
 * (Traefik routers), each with file and line.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { interpolate, parseComposeText, type ComposeDeployment } from '../../core/compose';
import { composeOf } from '../composeCheck';
import type { Deployment } from '../deployment';

interface ComposeValue {
  /** Interpolated value ('' when Compose could not interpolate it). */
  value: string;
  /** Written as it is, with no `${VAR}`: a literal in the Compose file. */
  literal: boolean;
  file: string;
  line: number;
}

interface ComposeServiceFacts {
  name: string;
  environment: Map<string, ComposeValue>;
  /** Publishes any port on the host. */
  publishes: boolean;
}

export interface AuditCompose {
  deployment: ComposeDeployment;
  services: ComposeServiceFacts[];
  /** GPT-Load's service's labels (Traefik reads its routers there). */
  labels: Map<string, ComposeValue>;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** `labels:` of one service, map or `KEY=value` list, as written (labels are not interpolated here: Traefik's rules hold backticks, not variables). */
function labelsOf(path: string, service: string): Map<string, ComposeValue> {
  const out = new Map<string, ComposeValue>();
  const lineCounter = new LineCounter();
  const doc = parseDocument(readText(path), { lineCounter, strict: false, uniqueKeys: false, prettyErrors: false });
  const node = doc.getIn(['services', service, 'labels'], true);
  const line = (n: Node) => (n.range ? lineCounter.linePos(n.range[0]).line : 0);
  const add = (key: string, value: string, n: Node) => out.set(key, { value, literal: true, file: path, line: line(n) });
  if (isMap(node)) for (const pair of node.items) if (isPair(pair) && isScalar(pair.key)) add(String(pair.key.value), isScalar(pair.value) ? String(pair.value.value ?? '') : '', (pair.value as Node) ?? pair.key);
  if (isSeq(node)) {
    for (const item of node.items) {
      if (!isScalar(item)) continue;
      const text = String(item.value);
      const eq = text.indexOf('=');
      if (eq > 0) add(text.slice(0, eq), text.slice(eq + 1), item);
    }
  }
  return out;
}

export function readAuditCompose(deployment: Deployment): AuditCompose | null {
  const compose = composeOf(deployment);
  if (!compose) return null;
  const lookup = (name: string) => deployment.env.get(name);
  const services = new Map<string, ComposeServiceFacts>();
  const labels = new Map<string, ComposeValue>();
  for (const file of compose.files) {
    for (const s of parseComposeText(readText(file)).services) {
      const facts = services.get(s.name) ?? { name: s.name, environment: new Map(), publishes: false };
      services.set(s.name, facts);
      facts.publishes ||= s.ports.length > 0;
      for (const e of s.environment) {
        if (e.written === null) continue;
        const result = interpolate(e.written, lookup);
        const value = 'error' in result ? '' : result.value;
        facts.environment.set(e.name, { value, literal: !('error' in result) && result.references.length === 0 && !e.written.includes('$'), file, line: e.line });
      }
      if (s.name === compose.service?.name) for (const [k, v] of labelsOf(file, s.name)) labels.set(k, v);
    }
  }
  return { deployment: compose, services: [...services.values()], labels };
}
