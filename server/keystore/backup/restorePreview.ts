/**
 * What a restore changes besides the keys, for `restore --dry-run`: groups added, removed or
 * changed (upstreams shown before → after), where proxy keys differ (never their values), and
 * settings added, removed or changed (by name). Both sides are read as the backup stores them —
 * SQLite's quote() of each value, else the database's own text — so equal rows compare equal.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { OutsideKeyChanges } from '../../../shared/types';
import type { Store } from '../../store/connect';
import { bodyLines, type BackupManifest, type TableManifest } from './format';
import { openSqliteFile, quotedColumns, sqlitePages } from './sqlite';
import { openSnapshot, readTableText } from './tables';

export type { OutsideKeyChanges };

type Rows = Map<string, Record<string, string | null>>;
const PREVIEWED = ['groups', 'system_settings'] as const;
type Previewed = (typeof PREVIEWED)[number];
/** Columns that change on every save: not a difference worth showing. */
const IGNORED = new Set(['id', 'created_at', 'updated_at', 'last_validated_at']);
const KEY_COLUMN: Record<Previewed, string> = { groups: 'name', system_settings: 'setting_key' };

function keyed(table: TableManifest, rows: Iterable<(string | null)[]>, unquote: (v: string | null) => string | null): Rows {
  const out: Rows = new Map();
  const names = table.columns.map((c) => c.name);
  for (const row of rows) {
    const record = Object.fromEntries(names.map((n, i) => [n, unquote(row[i])]));
    out.set(String(record[KEY_COLUMN[table.name as Previewed]]), record);
  }
  return out;
}

/** SQLite's quote() text back to the value ('it''s' → it's; numbers and NULL as they are). */
function unquoteSqlite(value: string | null): string | null {
  if (value === null || value === 'NULL') return null;
  return value.startsWith("'") && value.endsWith("'") ? value.slice(1, -1).replace(/''/g, "'") : value;
}

async function collect(pages: AsyncIterable<unknown[][]>): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const page of pages) for (const row of page) rows.push(row.map((v) => (v === null ? null : String(v))));
  return rows;
}

async function sqliteRows(path: string, tables: TableManifest[]): Promise<Map<Previewed, Rows>> {
  const db = openSqliteFile(path, { readonly: true });
  try {
    const out = new Map<Previewed, Rows>();
    for (const table of tables) out.set(table.name as Previewed, keyed(table, await collect(sqlitePages(db, table.name, quotedColumns(table.columns), 1000)), unquoteSqlite));
    return out;
  } finally {
    db.close();
  }
}

async function portableBackupRows(path: string, bodyOffset: number, tables: TableManifest[]): Promise<Map<Previewed, Rows>> {
  const rows = new Map<Previewed, (string | null)[][]>();
  const source = createReadStream(path, { start: bodyOffset });
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  let section: string | null = null;
  try {
    for await (const lines of bodyLines(gunzip as AsyncIterable<Buffer>)) {
      for (const line of lines) {
        if (line.startsWith('[')) {
          if (section !== null && (PREVIEWED as readonly string[]).includes(section)) rows.get(section as Previewed)!.push(JSON.parse(line) as (string | null)[]);
          continue;
        }
        const mark = JSON.parse(line) as { table?: string; end?: boolean };
        if (mark.end) break;
        section = mark.table ?? null;
        if (section !== null && (PREVIEWED as readonly string[]).includes(section)) rows.set(section as Previewed, []);
      }
    }
  } finally {
    gunzip.destroy();
    source.destroy();
  }
  return new Map(tables.map((t) => [t.name as Previewed, keyed(t, rows.get(t.name as Previewed) ?? [], (v) => v)]));
}

async function liveRows(store: Store, tables: TableManifest[]): Promise<Map<Previewed, Rows>> {
  if (store.target.kind === 'sqlite') return sqliteRows(store.target.path, tables);
  const snapshot = await openSnapshot(store);
  try {
    const out = new Map<Previewed, Rows>();
    for (const table of tables) out.set(table.name as Previewed, keyed(table, await collect(readTableText(snapshot, table.name, table.columns, 1000)), (v) => v));
    return out;
  } finally {
    await snapshot.close();
  }
}

function diff(now: Rows, restored: Rows) {
  const added = [...restored.keys()].filter((k) => !now.has(k)).sort();
  const removed = [...now.keys()].filter((k) => !restored.has(k)).sort();
  const changed = [...restored.entries()]
    .filter(([k]) => now.has(k))
    .map(([k, row]) => ({ name: k, fields: Object.keys(row).filter((f) => !IGNORED.has(f) && row[f] !== now.get(k)![f]), before: now.get(k)!, after: row }))
    .filter((c) => c.fields.length > 0);
  return { added, removed, changed };
}

/** The differences `restore` would make to groups and settings (`bodyOffset`: portable layout only). */
export async function previewOutsideKeys(store: Store, backupPath: string, manifest: BackupManifest, bodyOffset?: number): Promise<OutsideKeyChanges> {
  const tables = manifest.tables.filter((t) => t.included && (PREVIEWED as readonly string[]).includes(t.name) && t.columns.some((c) => c.name === KEY_COLUMN[t.name as Previewed]));
  const backup = manifest.layout === 'sqlite' ? await sqliteRows(backupPath, tables) : await portableBackupRows(backupPath, bodyOffset ?? 0, tables);
  const live = await liveRows(store, tables);
  const none: Rows = new Map();
  const groups = diff(live.get('groups') ?? none, backup.get('groups') ?? none);
  const settings = diff(live.get('system_settings') ?? none, backup.get('system_settings') ?? none);
  return {
    groups: { added: groups.added, removed: groups.removed, changed: groups.changed.map(({ name, fields }) => ({ name, fields })) },
    upstreams: groups.changed.filter((c) => c.fields.includes('upstreams')).map((c) => ({ group: c.name, before: c.before.upstreams, after: c.after.upstreams })),
    proxyKeys: {
      groups: groups.changed.filter((c) => c.fields.includes('proxy_keys')).map((c) => c.name),
      global: settings.changed.some((c) => c.name === 'proxy_keys') || settings.added.includes('proxy_keys') || settings.removed.includes('proxy_keys'),
    },
    settings: { added: settings.added, removed: settings.removed, changed: settings.changed.map((c) => c.name) },
  };
}
