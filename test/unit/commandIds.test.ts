// Command ids have one definition (shared/commands.ts): package.json contributes exactly those
// commands, and its menus and keybindings name no other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
