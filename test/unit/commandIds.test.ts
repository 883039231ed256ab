// Command ids have one definition (shared/commands.ts): package.json contributes exactly those
// commands, and its menus and keybindings name no other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandIds } from '../../shared/commands';
import { REPO_ROOT } from '../support/paths';

interface Contributes {
  commands: Array<{ command: string; category?: string }>;
  menus?: Record<string, Array<{ command?: string; submenu?: string }>>;
  keybindings?: Array<{ command: string }>;
}

const contributes: Contributes = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).contributes;
const ids = new Set<string>(Object.values(CommandIds));

test('package.json contributes exactly the command ids of shared/commands.ts, each in the GPT-Load category', () => {
  const contributed = contributes.commands.map((c) => c.command);
  assert.deepEqual([...contributed].sort(), [...ids].sort());
  assert.equal(new Set(contributed).size, contributed.length, 'a command is contributed twice');
  for (const c of contributes.commands) assert.equal(c.category, 'GPT-Load', c.command);
});

test("package.json's menus and keybindings name only those command ids", () => {
  const named = [
    ...Object.entries(contributes.menus ?? {}).flatMap(([menu, items]) => items.filter((m) => m.command !== undefined).map((m) => [menu, m.command!] as const)),
    ...(contributes.keybindings ?? []).map((k) => ['keybindings', k.command] as const),
  ];
  assert.ok(named.length > 0);
  assert.deepEqual(named.filter(([, command]) => !ids.has(command)), []);
});

test('no source but shared/commands.ts spells a command id: the others take it from CommandIds', () => {
  const sources = (dir: string): string[] =>
    readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const spelled = ['client', 'server', 'shared']
    .flatMap(sources)
    .filter((file) => file !== join('shared', 'commands.ts'))
    .flatMap((file) => {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      return [...ids].filter((id) => new RegExp(`['"\`]${id.replace('.', '\\.')}['"\`]`).test(text)).map((id) => `${file}: ${id}`);
    });
  assert.deepEqual(spelled, []);
});
