/**
 * nginx configuration, read far enough for the audit: directives and blocks with their file and
 * line, `include` followed (globs, relative to the main file's folder as nginx resolves them).
 * A tokenizer rather than an npm parser: the maintained ones (nginx-conf, @webantic/nginx-config-parser)
 * report no source lines, and each finding must point at its line.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { globFiles } from './globFiles';

export interface NginxDirective {
  name: string;
  args: string[];
  file: string;
  line: number;
  /** A block's directives (`server { … }`); undefined for a simple directive. */
  block?: NginxDirective[];
}

/** Words, quoted strings, `;`, `{`, `}` with their lines; `#` comments dropped. */
function tokenize(text: string): Array<{ word: string; quoted: boolean; line: number }> {
  const tokens: Array<{ word: string; quoted: boolean; line: number }> = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      tokens.push({ word: c, quoted: false, line });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let word = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        if (text[i] === '\n') line++;
        word += text[i++];
      }
      i++;
      tokens.push({ word, quoted: true, line: start });
    } else {
      let word = '';
      // `${var}` keeps its braces inside a word; a `{` elsewhere opens a block.
      while (i < text.length && !/[\s;#"']/.test(text[i]) && !(text[i] === '{' && text[i - 1] !== '$') && text[i] !== '}') word += text[i++];
      if (text[i] === '}' && word.includes('${') && !word.includes('}')) word += text[i++];
      tokens.push({ word, quoted: false, line });
    }
  }
  return tokens;
}

export interface NginxConfig {
  /** The top-level directives, includes spliced in. */
  directives: NginxDirective[];
  /** Every file read (the main one first). */
  files: string[];
  /** Includes that named nothing readable, and syntax trouble, with their places. */
  problems: Array<{ file: string; line: number; text: string }>;
}

/**
 * Reads `file` and what it includes. Relative include paths resolve against `prefix` (nginx's
 * conf folder: the main file's folder by default).
 */
export function readNginxConfig(file: string, prefix = dirname(resolve(file))): NginxConfig {
  const files: string[] = [];
  const problems: NginxConfig['problems'] = [];
  const parseFile = (path: string, depth: number): NginxDirective[] => {
    if (files.includes(path) || depth > 16) return [];
    files.push(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ file: path, line: 0, text: `cannot read (${(err as NodeJS.ErrnoException).code})` });
      return [];
    }
    const tokens = tokenize(text);
    let at = 0;
    const parseBlock = (): NginxDirective[] => {
      const out: NginxDirective[] = [];
      while (at < tokens.length) {
        const token = tokens[at];
        if (token.word === '}' && !token.quoted) {
          at++;
          return out;
        }
        const name = token.word;
        const line = token.line;
        const args: string[] = [];
        at++;
        while (at < tokens.length && !(!tokens[at].quoted && [';', '{', '}'].includes(tokens[at].word))) args.push(tokens[at++].word);
        const end = tokens[at];
        if (end?.word === '{') {
          at++;
          out.push({ name, args, file: path, line, block: parseBlock() });
        } else {
          if (end?.word === ';') at++;
          else problems.push({ file: path, line, text: `"${name}" is not closed by ";"` });
          if (name === 'include' && args[0]) {
            const pattern = isAbsolute(args[0]) ? args[0] : join(prefix, args[0]);
            const included = globFiles(pattern);
            if (included.length === 0 && !/[*?]/.test(basename(pattern))) problems.push({ file: path, line, text: `include ${args[0]}: not found` });
            for (const f of included) out.push(...parseFile(f, depth + 1));
          } else out.push({ name, args, file: path, line });
        }
      }
      return out;
    };
    return parseBlock();
  };
  const directives = parseFile(resolve(file), 0);
  return { directives, files, problems };
}

/** Every `server` block, wherever it sits (top level of a conf.d file, or inside `http`). */
export function nginxServers(directives: readonly NginxDirective[]): Array<{ server: NginxDirective; inherited: NginxDirective[] }> {
  const out: Array<{ server: NginxDirective; inherited: NginxDirective[] }> = [];
  const walk = (list: readonly NginxDirective[], inherited: NginxDirective[]) => {
    const here = [...inherited, ...list.filter((d) => !d.block)];
    for (const d of list) {
      if (d.name === 'server' && d.block) out.push({ server: d, inherited: here });
      else if (d.name === 'http' && d.block) walk(d.block, here);
    }
  };
  walk(directives, []);
  return out;
}

/** `upstream NAME { server host:port; … }` → the addresses of each. */
export function nginxUpstreams(directives: readonly NginxDirective[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (list: readonly NginxDirective[]) => {
    for (const d of list) {
      if (d.name === 'upstream' && d.block && d.args[0]) out.set(d.args[0], d.block.filter((s) => s.name === 'server' && s.args[0]).map((s) => s.args[0]));
      else if (d.block) walk(d.block);
    }
  };
  walk(directives);
  return out;
}
