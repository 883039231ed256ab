/**
 * Backup files rewritten as an attacker with only the backups folder (or damage) would: the
 * manifest edited, the portable body replaced, digests recomputed, the unkeyed seal and the SQLite
 * sidecar recomputed. The keyed seal is the one thing they cannot recompute.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { readPortableManifest } from '../../server/keystore/backup/check';
import { canonicalJson, digestLine, digestSidecar, encodeManifestMember, MANIFEST_TABLE, type BackupManifest } from '../../server/keystore/backup/format';

/** The seal as the unkeyed format computed it: what anyone with the folder can recompute. */
export function unkeyedSeal(manifest: Record<string, unknown>): Record<string, unknown> {
  const { seal: _seal, ...rest } = manifest;
  return { ...rest, seal: createHash('sha256').update(canonicalJson(rest)).digest('hex') };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Rewrites a backup's manifest (and, portable, its body), recomputing the seal and the SQLite sidecar. */
export function rewriteBackup(file: string, edit: (manifest: Record<string, unknown>) => Record<string, unknown>, body?: Buffer): void {
  if (file.endsWith('.db')) {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(file);
    const { manifest } = db.prepare(`SELECT manifest FROM ${MANIFEST_TABLE}`).get() as { manifest: string };
    db.prepare(`UPDATE ${MANIFEST_TABLE} SET manifest = ?`).run(JSON.stringify(edit(JSON.parse(manifest))));
    db.close();
    writeFileSync(digestSidecar(file), digestLine(sha256(readFileSync(file)), file));
    return;
  }
  const head = readPortableManifest(file);
  assert.ok(!('failure' in head));
  const oldBody = readFileSync(file).subarray(head.bodyOffset);
  const newBody = body ?? oldBody;
  const manifest = edit({ ...head.manifest, body: { bytes: newBody.length, sha256: sha256(newBody) } });
  writeFileSync(file, Buffer.concat([encodeManifestMember(manifest as unknown as BackupManifest), newBody]));
}
