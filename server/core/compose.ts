/**
 * Docker Compose as it sets up GPT-Load's container: which files `docker compose up` reads beside a
 * deployment, which service runs GPT-Load, and the value each variable has inside that container
 * — `environment:` over `env_file:`, `${VAR}` interpolation from the shell and the project `.env`
 * (Compose's own reading of it), override files merged — with the file and line that set it.
 *
 * Pure apart from reading the files it is pointed at; callers can substitute a file's text
 * (`texts`) to ask what the container would get after a change, before writing anything.
 *
 * Entry points: resolveComposeDeployment (→ service, ports, effectiveVariable, hostPath);
 * parseComposeText (one file's services with positions, for editors); interpolate; readEnvAsCompose
 * (a `.env` / env_file as Compose reads it); literalComposeSecrets (lint.ts turns them into findings).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { LineIndex, parseDotenv, type DotenvDocument, type EnvEntry } from './env/read';
import { readTextOrNull } from './fs';
import type { Localized } from './errors';

/** The files `docker compose` looks for, in its order of preference (the first found wins). */
const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;
/** Read after the main file when present (the first found). */
const COMPOSE_OVERRIDE_NAMES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'] as const;

/** `docker-compose.yml`, `compose.prod.yaml`, `docker-compose.override.yml`, …: a Compose file by its name. */
export function isComposeFileName(path: string): boolean {
  return /^(docker-)?compose(\.[\w-]+)?\.ya?ml$/i.test(basename(path));
}

/** A Compose file by its content: a top-level `services:` mapping whose entries are mappings. */
export function looksLikeCompose(text: string): boolean {
  if (!/^services\s*:/m.test(text)) return false;
  const services = parseDocument(text, { strict: false, uniqueKeys: false, prettyErrors: false }).get('services', true);
  return isMap(services) && services.items.every((p) => isPair(p) && (isMap(p.value) || p.value === null));
}

/**
 * The files `docker compose up` run in `dir` reads. COMPOSE_FILE (the shell's, else the one in
 * `dir`'s .env, as Compose reads it) names them, separated by COMPOSE_PATH_SEPARATOR (default `:`),
 * relative to `dir`, and then no override file is added; else the main file and the override file,
 * if any.
 */
export function findComposeFiles(dir: string, exists: (path: string) => boolean = existsSync, composeVariable: (name: string) => string | undefined = () => undefined): string[] {
  const named = composeVariable('COMPOSE_FILE');
  if (named) {
    const separator = composeVariable('COMPOSE_PATH_SEPARATOR') || ':';
    return named.split(separator).filter((f) => f !== '').map((f) => resolve(dir, f));
  }
  const main = COMPOSE_FILE_NAMES.map((name) => join(dir, name)).find(exists);
  if (!main) return [];
  const override = COMPOSE_OVERRIDE_NAMES.map((name) => join(dir, name)).find(exists);
  return override ? [main, override] : [main];
}

/** The variables of `dir`'s .env as Compose reads them (the shell's values expand inside it); null when there is no .env. */
function readProjectEnv(dir: string, processEnv: Record<string, string | undefined>, readText: (path: string) => string | null): Map<string, string> | null {
  const text = readText(join(dir, '.env'));
  if (text === null) return null;
  const values = new Map<string, string>();
  for (const { entry, read } of readEnvAsCompose(text, (n) => processEnv[n])) if (read && 'value' in read) values.set(entry.key, read.value);
  return values;
}

/** A variable as Compose in `dir` sees it before reading any Compose file: the shell's, else `dir`'s .env (read on first use). */
export function composeSettingIn(dir: string, processEnv: Record<string, string | undefined>, readText: (path: string) => string | null): (name: string) => string | undefined {
  let projectEnv: Map<string, string> | null | undefined;
  return (name) => processEnv[name] ?? (projectEnv === undefined ? (projectEnv = readProjectEnv(dir, processEnv, readText)) : projectEnv)?.get(name);
}

// ---------------------------------------------------------------------------------------------
// one file's services, with positions (shared with the editor's Compose diagnostics)

/** Offsets into the file's text, [start, end). */
type Span = [number, number];

interface ComposeEnvironmentEntry {
  name: string;
  /** The value as written, before interpolation; null = no value (`- NAME`, `NAME:`): taken from the shell / project `.env`. */
  written: string | null;
  form: 'map' | 'list';
  /** The whole `NAME=value` list item, or the map value (the key when there is no value). */
  span: Span;
  line: number;
}

interface ComposeEnvFileEntry {
  /** As written (before interpolation). */
  path: string;
  required: boolean;
  line: number;
}

interface ComposeServiceModel {
  name: string;
  line: number;
  image: { written: string; line: number } | null;
  /** `network_mode:` as written ("host": the container shares the host's interfaces, ports are not used). */
  networkMode: { written: string; line: number } | null;
  environment: ComposeEnvironmentEntry[];
  envFiles: ComposeEnvFileEntry[];
  ports: Array<{ written: string | Record<string, string>; line: number }>;
  volumes: Array<{ written: string | Record<string, string>; line: number }>;
}

export interface ComposeFileModel {
  services: ComposeServiceModel[];
  /** YAML errors (1-based line); what parses is still read. */
  errors: Array<{ line: number; message: string }>;
}

function scalarText(node: unknown): string | null {
  if (!isScalar(node)) return null;
  if (node.value === null || node.value === undefined) return null;
  // Numbers and booleans as written (`PORT: 3001`, `Z: 1.0`), not as JavaScript prints them.
  return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
}

/** A mapping's pairs with YAML merge keys (`<<: *common`) expanded; the mapping's own keys win. */
function mapPairs(doc: Document, node: unknown): Array<{ key: string; value: unknown; keyNode: Node }> {
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (!isMap(target)) return [];
  const own: Array<{ key: string; value: unknown; keyNode: Node }> = [];
  const merged: Array<{ key: string; value: unknown; keyNode: Node }> = [];
  for (const pair of target.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const key = pair.key.value;
    if (key === '<<' || typeof key === 'symbol') {
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) merged.push(...mapPairs(doc, source));
      continue;
    }
    own.push({ key: String(key), value: isAlias(pair.value) ? pair.value.resolve(doc) : pair.value, keyNode: pair.key });
  }
  const names = new Set(own.map((p) => p.key));
  return [...merged.filter((p) => !names.has(p.key)), ...own];
}

function seqItems(doc: Document, node: unknown): unknown[] {
  const target = isAlias(node) ? node.resolve(doc) : node;
  return isSeq(target) ? target.items.map((item) => (isAlias(item) ? item.resolve(doc) : item)) : [];
}

/** Services of one Compose file as written: the parts that decide GPT-Load's environment and ports. */
export function parseComposeText(text: string): ComposeFileModel {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, strict: false, uniqueKeys: false, prettyErrors: false });
  const lineOf = (node: unknown): number => {
    const range = (node as Node | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : 0;
  };
  const services: ComposeServiceModel[] = [];
  for (const service of mapPairs(doc, doc.get('services', true))) {
    const fields = new Map(mapPairs(doc, service.value).map((p) => [p.key, p] as const));
    const model: ComposeServiceModel = { name: service.key, line: lineOf(service.keyNode), image: null, networkMode: null, environment: [], envFiles: [], ports: [], volumes: [] };
    for (const key of ['image', 'network_mode'] as const) {
      const field = fields.get(key);
      const written = field ? scalarText(field.value) : null;
      if (field && written !== null) model[key === 'image' ? 'image' : 'networkMode'] = { written, line: lineOf(field.value) };
    }

    const environment = fields.get('environment')?.value;
    if (isMap(environment) || (isAlias(environment) && isMap(environment.resolve(doc)))) {
      for (const p of mapPairs(doc, environment)) {
        const node = (p.value ?? p.keyNode) as Node;
        const range = node.range ?? p.keyNode.range;
        if (!range) continue;
        model.environment.push({ name: p.key, written: scalarText(p.value), form: 'map', span: [range[0], range[1]], line: lineOf(p.keyNode) });
      }
    } else {
      for (const item of seqItems(doc, environment)) {
        const entry = scalarText(item);
        const range = (item as Node).range;
        if (entry === null || !range) continue;
        const eq = entry.indexOf('=');
        const name = (eq < 0 ? entry : entry.slice(0, eq)).trim();
        model.environment.push({ name, written: eq < 0 ? null : entry.slice(eq + 1), form: 'list', span: [range[0], range[1]], line: lineOf(item) });
      }
    }

    const envFile = fields.get('env_file')?.value;
    const envFileItems = isSeq(envFile) || isAlias(envFile) ? seqItems(doc, envFile) : envFile !== undefined ? [envFile] : [];
    for (const item of envFileItems) {
      const path = scalarText(item);
      if (path !== null) {
        model.envFiles.push({ path, required: true, line: lineOf(item) });
        continue;
      }
      const long = new Map(mapPairs(doc, item).map((p) => [p.key, scalarText(p.value)] as const));
      const longPath = long.get('path');
      if (longPath) model.envFiles.push({ path: longPath, required: long.get('required') !== 'false', line: lineOf(item) });
    }

    for (const key of ['ports', 'volumes'] as const) {
      for (const item of seqItems(doc, fields.get(key)?.value)) {
        const short = scalarText(item);
        const written = short ?? Object.fromEntries(mapPairs(doc, item).map((p) => [p.key, scalarText(p.value) ?? ''] as const));
        model[key].push({ written, line: lineOf(item) });
      }
    }
    services.push(model);
  }
  return { services, errors: doc.errors.map((e) => ({ line: e.linePos?.[0]?.line ?? 0, message: e.message })) };
}

// ---------------------------------------------------------------------------------------------
// interpolation

export type Lookup = (name: string) => string | undefined;

export type Interpolated = { value: string; references: string[] } | { error: string };

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** The index of the `}` closing a `${` whose body starts at `from` (nested `${…}` skipped), or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/**
 * Compose's interpolation of one value: `$$` → `$`, `$NAME`, `${NAME}`, `${NAME:-default}`
 * (unset or empty), `${NAME-default}` (unset), `${NAME:+alt}`, `${NAME+alt}`, `${NAME:?msg}`,
 * `${NAME?msg}`; defaults are interpolated in turn. A `$` before anything else stays.
 */
export function interpolate(text: string, lookup: Lookup): Interpolated {
  const references: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const j = text.indexOf('$', i);
    if (j < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, j);
    const next = text[j + 1];
    if (next === '$') {
      out += '$';
      i = j + 2;
      continue;
    }
    if (next !== '{') {
      const name = NAME.exec(text.slice(j + 1))?.[0];
      if (name === undefined) {
        out += '$';
        i = j + 1;
        continue;
      }
      references.push(name);
      out += lookup(name) ?? '';
      i = j + 1 + name.length;
      continue;
    }
    const close = closingBrace(text, j + 2);
    if (close < 0) return { error: 'invalid interpolation format' };
    const body = text.slice(j + 2, close);
    const name = NAME.exec(body)?.[0];
    if (name === undefined) return { error: 'invalid interpolation format' };
    references.push(name);
    const rest = body.slice(name.length);
    const op = /^(:?[-+?])/.exec(rest)?.[1];
    if (rest !== '' && op === undefined) return { error: 'invalid interpolation format' };
    const value = lookup(name);
    const unsetOrEmpty = value === undefined || value === '';
    const unset = value === undefined;
    if (op === undefined) out += value ?? '';
    else {
      const word = interpolate(rest.slice(op.length), lookup);
      if ('error' in word) return word;
      references.push(...word.references);
      if (op === ':-') out += unsetOrEmpty ? word.value : value;
      else if (op === '-') out += unset ? word.value : value;
      else if (op === ':+') out += unsetOrEmpty ? '' : word.value;
      else if (op === '+') out += unset ? '' : word.value;
      else if (op === ':?' ? unsetOrEmpty : unset) return { error: `required variable ${name} is missing a value` };
      else out += value!;
    }
    i = close + 1;
  }
  return { value: out, references };
}

// ---------------------------------------------------------------------------------------------
// Docker Compose's reading of a `.env` / env_file (compose-go's dotenv parser, the common cases)

/** undefined: a reading not modelled. */
export type ComposeRead = { value: string } | { error: string } | undefined;

const TRAILING_WHITE_SPACE = /\p{White_Space}+$/u;

const COMPOSE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };

/** compose-go's expandEscapes for double-quoted values. */
function composeEscapes(text: string): string {
  return text.replace(/\\(?:[abcfnrtv$"\\]|0\d{0,3})/g, (m) => {
    if (m === '\\$') return '$$';
    if (m.startsWith('\\0')) return /^\\0[0-7]{3}$/.test(m) && parseInt(m.slice(2), 8) <= 255 ? String.fromCharCode(parseInt(m.slice(2), 8)) : m;
    return COMPOSE_ESCAPES[m[1]] ?? m;
  });
}

function substituted(text: string, lookup: Lookup): ComposeRead {
  const r = interpolate(text, lookup);
  return 'error' in r ? r : { value: r.value };
}

/** What Compose gives for one assignment godotenv found. */
function composeRead(text: string, lines: LineIndex, entry: EnvEntry, lookup: Lookup): ComposeRead {
  if (entry.key.includes(' ')) return { error: 'key cannot contain a space' };
  const begin = lines.offsetAt(entry.valueRange.start);
  if (entry.quote === null) {
    const nl = text.indexOf('\n', begin);
    let line = text.slice(begin, nl < 0 ? text.length : nl);
    const comment = line.indexOf(' #');
    if (comment >= 0) line = line.slice(0, comment);
    return substituted(line.replace(TRAILING_WHITE_SPACE, ''), lookup);
  }
  // A backslash takes the next character with it; before the quote it is dropped (composeEscapes does the rest).
  const quote = entry.quote;
  let chars = '';
  let copied = begin + 1;
  for (let i = begin + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      if (text[i + 1] === quote) {
        chars += text.slice(copied, i) + quote;
        copied = i + 2;
      }
      i++;
    } else if (c === quote) {
      chars += text.slice(copied, i);
      return quote === "'" ? { value: chars } : substituted(composeEscapes(chars), lookup);
    }
  }
  return { error: 'unterminated quoted value' };
}

/**
 * Each assignment of a `.env` (or env_file) as Docker Compose reads it, on godotenv's entries: a
 * `$NAME` resolves from earlier assignments of the file, else from `lookup` (the shell, for
 * env_file also the project `.env`).
 */
export function readEnvAsCompose(
  text: string,
  lookup: Lookup = () => undefined,
  doc: DotenvDocument = parseDotenv(text),
): Array<{ entry: EnvEntry; read: ComposeRead }> {
  const lines = new LineIndex(text);
  const composeVars = new Map<string, string>();
  const vars = (name: string) => composeVars.get(name) ?? lookup(name);
  return doc.entries.map((entry) => {
    const read = composeRead(text, lines, entry, vars);
    if (read !== undefined && 'value' in read) composeVars.set(entry.key, read.value);
    return { entry, read };
  });
}

// ---------------------------------------------------------------------------------------------
// the deployment

/** Where a variable of GPT-Load's container is set. Lines are 1-based. */
interface ComposeSetting {
  file: string;
  line: number;
  /** `environment:` of the service; an `env_file:`; a `.env` mounted as /app/.env (GPT-Load's godotenv reads it). */
  kind: 'environment' | 'env_file' | 'mounted-env';
}

export interface EffectiveVariable {
  name: string;
  /** Its value inside the container after `docker compose up`; undefined = not set by Compose. */
  value: string | undefined;
  source: ComposeSetting | null;
  /** For `environment:`: the value as written (may hold a literal secret: never print it). */
  written?: string | null;
  /** Variables interpolated into an `environment:` value, and where each came from. */
  references: Array<{ name: string; from: 'process' | 'project-env' | 'unset' }>;
  /** Compose would fail on it (a bad `${…}`, `${X:?}` unset, a missing env_file); nothing else is reliable then. */
  error?: Localized;
}

interface PublishedPort {
  /** '' = every interface. */
  hostIp: string;
  /** null = a random host port. */
  published: string | null;
  target: string;
  protocol: string;
  file: string;
  line: number;
}

export interface ComposeDeployment {
  /** Where relative paths resolve: the folder of the first file. */
  projectDir: string;
  files: string[];
  /** The `.env` Compose interpolates from (the project folder's), or null when there is none. */
  projectEnvFile: string | null;
  /** GPT-Load's service, or null when none of the services runs it. */
  service: { name: string; image: string | null; networkMode: { value: string; file: string; line: number } | null; file: string; line: number } | null;
  /** Every service name, in file order. */
  services: string[];
  /** GPT-Load's published ports (interpolated). */
  ports: PublishedPort[];
  /** YAML errors by file. */
  errors: Array<{ file: string; line: number; message: string }>;
  /** The value of `name` inside GPT-Load's container (undefined value when there is no such service). */
  effectiveVariable(name: string): EffectiveVariable;
  /** Where a path inside GPT-Load's container lies on the host (bind mounts only), or null. */
  hostPath(containerPath: string): string | null;
}

export interface ComposeOptions {
  /** `--compose FILE` (one or more, as `docker compose -f`); default: found in the folder. */
  composeFiles?: string[];
  /** The shell environment `docker compose up` runs in (wins over the project `.env`). */
  processEnv?: NodeJS.ProcessEnv;
  /** Text to use instead of a file's content (null = the file does not exist), by absolute path. */
  texts?: Record<string, string | null>;
}

/** GPT-Load's image, as its docs publish it. */
const GPT_LOAD_IMAGE = /^(?:[\w.-]+(?::\d+)?\/)?tbphp\/gpt-load(?:[:@].*)?$/i;

export function isGptLoadImage(image: string): boolean {
  return GPT_LOAD_IMAGE.test(image.trim());
}

interface LoadedFile {
  path: string;
  model: ComposeFileModel;
}

interface MergedService {
  name: string;
  file: string;
  line: number;
  image: { written: string; file: string; line: number } | null;
  networkMode: { written: string; file: string; line: number } | null;
  environment: Map<string, { written: string | null; file: string; line: number }>;
  envFiles: Array<{ path: string; required: boolean; file: string; line: number }>;
  ports: Array<{ written: string | Record<string, string>; file: string; line: number }>;
  volumes: Array<{ written: string | Record<string, string>; file: string; line: number }>;
}

/** Override files merge into the main one: scalars replaced, `environment` merged by name, lists appended. */
function mergeServices(files: LoadedFile[]): MergedService[] {
  const merged = new Map<string, MergedService>();
  for (const { path, model } of files) {
    for (const s of model.services) {
      let m = merged.get(s.name);
      if (!m) {
        m = { name: s.name, file: path, line: s.line, image: null, networkMode: null, environment: new Map(), envFiles: [], ports: [], volumes: [] };
        merged.set(s.name, m);
      }
      if (s.image) m.image = { ...s.image, file: path };
      if (s.networkMode) m.networkMode = { ...s.networkMode, file: path };
      for (const e of s.environment) m.environment.set(e.name, { written: e.written, file: path, line: e.line });
      m.envFiles.push(...s.envFiles.map((e) => ({ ...e, file: path })));
      m.ports.push(...s.ports.map((p) => ({ ...p, file: path })));
      m.volumes.push(...s.volumes.map((v) => ({ ...v, file: path })));
    }
  }
  return [...merged.values()];
}

/** `[HOST_IP:][HOST:]CONTAINER[/PROTO]` (IPv6 host addresses in brackets) or the long form. */
function parsePort(written: string | Record<string, string>): Omit<PublishedPort, 'file' | 'line'> | null {
  if (typeof written !== 'string') {
    if (!written.target) return null;
    return { hostIp: written.host_ip ?? '', published: written.published || null, target: written.target, protocol: written.protocol || 'tcp' };
  }
  const [spec, protocol = 'tcp'] = written.split('/');
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(spec);
  const parts = v6 ? [v6[1], ...v6[2].split(':')] : spec.split(':');
  if (parts.length === 1) return { hostIp: '', published: null, target: parts[0], protocol };
  if (parts.length === 2) return { hostIp: '', published: parts[0] || null, target: parts[1], protocol };
  if (parts.length === 3) return { hostIp: parts[0], published: parts[1] || null, target: parts[2], protocol };
  return null;
}

/** A bind mount's host source and container target (`./data:/app/data`, long form `type: bind`). */
function parseVolume(written: string | Record<string, string>, projectDir: string): { source: string; target: string } | null {
  let source: string | undefined;
  let target: string | undefined;
  if (typeof written === 'string') [source, target] = written.split(':');
  else if ((written.type ?? 'bind') === 'bind') ({ source, target } = written);
  if (!source || !target || !/^[./~]/.test(source)) return null;
  return { source: isAbsolute(source) ? source : resolve(projectDir, source), target: target.replace(/\/+$/, '') };
}

/**
 * The Compose deployment in `dir` (or `options.composeFiles`), as `docker compose up` would set up
 * GPT-Load's container; null when there is no Compose file.
 */
export function resolveComposeDeployment(dir: string, options: ComposeOptions = {}): ComposeDeployment | null {
  const texts = options.texts ?? {};
  const readText = (path: string): string | null => (Object.prototype.hasOwnProperty.call(texts, path) ? texts[path] : readTextOrNull(path));
  const processEnv = options.processEnv ?? {};
  const files = options.composeFiles?.map((f) => resolve(dir, f)) ?? findComposeFiles(dir, (p) => readText(p) !== null, composeSettingIn(dir, processEnv, readText));
  if (files.length === 0) return null;
  const projectDir = dirname(files[0]);
  const errors: ComposeDeployment['errors'] = [];
  const loaded: LoadedFile[] = files.map((path) => {
    const text = readText(path);
    if (text === null) {
      errors.push({ file: path, line: 0, message: 'file not found' });
      return { path, model: { services: [], errors: [] } };
    }
    const model = parseComposeText(text);
    errors.push(...model.errors.map((e) => ({ file: path, ...e })));
    return { path, model };
  });

  // The project .env as Compose reads it; the shell wins over it.
  const projectEnvPath = join(projectDir, '.env');
  const projectEnvRead = readProjectEnv(projectDir, processEnv, readText);
  const projectEnv = projectEnvRead ?? new Map<string, string>();
  const lookup: Lookup = (name) => processEnv[name] ?? projectEnv.get(name);
  const origin = (name: string): 'process' | 'project-env' | 'unset' => (processEnv[name] !== undefined ? 'process' : projectEnv.has(name) ? 'project-env' : 'unset');
  const plain = (text: string): string => {
    const r = interpolate(text, lookup);
    return 'error' in r ? text : r.value;
  };

  const services = mergeServices(loaded);
  const gptLoad =
    services.find((s) => s.image !== null && isGptLoadImage(plain(s.image.written))) ?? services.find((s) => s.name === 'gpt-load') ?? null;
  const ports: PublishedPort[] = [];
  for (const p of gptLoad?.ports ?? []) {
    const parsed = parsePort(typeof p.written === 'string' ? plain(p.written) : Object.fromEntries(Object.entries(p.written).map(([k, v]) => [k, plain(v)])));
    if (parsed) ports.push({ ...parsed, file: p.file, line: p.line });
  }
  const mounts = (gptLoad?.volumes ?? [])
    .map((v) => parseVolume(typeof v.written === 'string' ? plain(v.written) : v.written, projectDir))
    .filter((m): m is { source: string; target: string } => m !== null);
  const hostPath = (containerPath: string): string | null => {
    const mount = mounts
      .filter((m) => containerPath === m.target || containerPath.startsWith(`${m.target}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    return mount ? join(mount.source, containerPath.slice(mount.target.length)) : null;
  };

  const effectiveVariable = (name: string): EffectiveVariable => {
    const none: EffectiveVariable = { name, value: undefined, source: null, references: [] };
    if (!gptLoad) return none;
    const env = gptLoad.environment.get(name);
    if (env) {
      const source: ComposeSetting = { file: env.file, line: env.line, kind: 'environment' };
      if (env.written === null) return { name, value: lookup(name), source, written: null, references: [{ name, from: origin(name) }] };
      const r = interpolate(env.written, lookup);
      if ('error' in r) return { ...none, source, written: env.written, error: { en: r.error, zh: r.error } };
      return { name, value: r.value, source, written: env.written, references: [...new Set(r.references)].map((n) => ({ name: n, from: origin(n) })) };
    }
    // env_file: in order, a later file overriding an earlier one.
    let found: EffectiveVariable = none;
    for (const ef of gptLoad.envFiles) {
      const written = interpolate(ef.path, lookup);
      const path = resolve(dirname(ef.file), 'error' in written ? ef.path : written.value);
      const text = readText(path);
      if (text === null) {
        if (!ef.required) continue;
        return {
          ...none,
          source: { file: ef.file, line: ef.line, kind: 'env_file' },
          error: { en: `env_file ${path} does not exist: docker compose up fails`, zh: `env_file ${path} 不存在：docker compose up 会失败` },
        };
      }
      for (const { entry, read } of readEnvAsCompose(text, lookup)) {
        if (entry.key !== name || !read) continue;
        found =
          'error' in read
            ? { ...none, source: { file: path, line: entry.range.start.line + 1, kind: 'env_file' }, error: { en: read.error, zh: read.error } }
            : { name, value: read.value, source: { file: path, line: entry.range.start.line + 1, kind: 'env_file' }, references: [] };
      }
    }
    if (found.source) return found;
    // GPT-Load's godotenv reads /app/.env when one is mounted there (its working directory is /app).
    const mounted = hostPath('/app/.env');
    const mountedText = mounted ? readText(mounted) : null;
    if (mounted && mountedText !== null) {
      const doc = parseDotenv(mountedText);
      const entry = doc.values ? [...doc.entries].reverse().find((e) => e.key === name) : undefined;
      if (entry) return { name, value: doc.values![name], source: { file: mounted, line: entry.range.start.line + 1, kind: 'mounted-env' }, references: [] };
    }
    return none;
  };

  return {
    projectDir,
    files,
    projectEnvFile: projectEnvRead === null ? null : projectEnvPath,
    service: gptLoad
      ? {
          name: gptLoad.name,
          image: gptLoad.image ? plain(gptLoad.image.written) : null,
          networkMode: gptLoad.networkMode ? { value: plain(gptLoad.networkMode.written), file: gptLoad.networkMode.file, line: gptLoad.networkMode.line } : null,
          file: gptLoad.file,
          line: gptLoad.line,
        }
      : null,
    services: services.map((s) => s.name),
    ports,
    errors,
    effectiveVariable,
    hostPath,
  };
}

// ---------------------------------------------------------------------------------------------
// lint: the Compose findings the editor and `lint` report

/** Secrets that must not be written literally in a Compose file (it is usually committed). */
const COMPOSE_SECRETS = ['AUTH_KEY', 'ENCRYPTION_KEY'] as const;

export interface LiteralComposeSecret {
  service: string;
  name: string;
  /** The literal value (a secret: never print it). */
  value: string;
  form: 'map' | 'list';
  /** The map value, or the whole `NAME=value` list item. */
  span: Span;
}

/** `${NAME}`, `${NAME:-default}`, `$NAME`: a reference, not a literal. */
const REFERENCE = /^\$(\{[A-Za-z_][A-Za-z0-9_]*([:]?[-?+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$/;

/** AUTH_KEY / ENCRYPTION_KEY written literally under a service's `environment:` (map or list form). */
export function literalComposeSecrets(text: string): LiteralComposeSecret[] {
  if (!/AUTH_KEY|ENCRYPTION_KEY/.test(text)) return [];
  const found: LiteralComposeSecret[] = [];
  for (const service of parseComposeText(text).services) {
    for (const { name, written, form, span } of service.environment) {
      if (!(COMPOSE_SECRETS as readonly string[]).includes(name) || !written || REFERENCE.test(written)) continue;
      found.push({ service: service.name, name, value: written, form, span });
    }
  }
  return found;
}
