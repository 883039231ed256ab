/**
 * Files as the keystore writes them: read so that every byte can be written back (a `.env` or a
 * record we change in part), replaced atomically keeping mode, owner and group, and I/O errors that
 * name the file. Used for `.env`, the journal and the rotation record.
 */
import { closeSync, fsyncSync, fstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, chmodSync, fchownSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeystoreError, type Localized } from './errors';

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function ioError(path: string, action: Localized, err: unknown): KeystoreError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new KeystoreError('io', { en: `cannot ${action.en} ${path} (${code})`, zh: `无法${action.zh} ${path}（${code}）` });
}

/**
 * A file's text in a form that maps back to its exact bytes: UTF-8 when the file is valid UTF-8,
 * else latin1 (one character per byte). For an ASCII syntax such as godotenv's, parsing and editing
 * work the same on either; a value that is not UTF-8 (a legacy-encoded comment or note) survives an edit.
 */
export interface FileText {
  text: string;
  encoding: 'utf8' | 'latin1';
}

/** The file's text (null when it does not exist). */
export function readFileText(path: string): FileText | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if (isMissing(err)) return null;
    throw ioError(path, { en: 'read', zh: '读取' }, err);
  }
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { text, encoding: 'utf8' } : { text: bytes.toString('latin1'), encoding: 'latin1' };
}

/**
 * Replaces `path` atomically: a temp file beside it, fsync, rename, fsync of the directory. An
 * existing file keeps its mode, owner and group — when the temp file cannot be given them (a
 * non-root run on a file owned by someone else, or a group we are not in), nothing is written
 * and the error says why: the rename would otherwise hand the file to us. A new one gets 0600.
 * A symlink is followed, so the link stays and its target is replaced.
 */
export function writeFileAtomic(path: string, text: string, encoding: FileText['encoding'] = 'utf8'): void {
  let target = path;
  let mode = 0o600;
  let owner: { uid: number; gid: number } | undefined;
  try {
    target = realpathSync(path);
    const st = statSync(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (err) {
    if (!isMissing(err)) throw ioError(path, { en: 'inspect', zh: '检查' }, err);
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', mode);
    writeSync(fd, Buffer.from(text, encoding));
    if (owner) keepOwner(fd, path, owner);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(temp, mode); // the umask may have narrowed it at creation
    renameSync(temp, target);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw err instanceof KeystoreError ? err : ioError(path, { en: 'write', zh: '写入' }, err);
  }
  try {
    const dir = openSync(dirname(target), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Directories cannot be fsynced on every platform (Windows); the rename itself is atomic.
  }
}

/** Gives the temp file the original's owner and group, or refuses (KeystoreError 'io') when we may not. */
function keepOwner(fd: number, path: string, owner: { uid: number; gid: number }): void {
  const made = fstatSync(fd);
  if (made.uid === owner.uid && made.gid === owner.gid) return;
  try {
    fchownSync(fd, owner.uid, owner.gid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KeystoreError(
      'io',
      {
        en: `${path} is owned by uid ${owner.uid}, gid ${owner.gid}; rewriting it as uid ${made.uid} cannot keep that owner and group (${code}), so it was left unchanged. Run as its owner (or root), or edit it by hand.`,
        zh: `${path} 的所有者为 uid ${owner.uid}、gid ${owner.gid}；以 uid ${made.uid} 改写会无法保留该所有者和组（${code}），因此未做修改。请以文件所有者（或 root）运行，或手动编辑。`,
      },
      { path, uid: owner.uid, gid: owner.gid },
    );
  }
}

/** The file's UTF-8 text, or null when it cannot be read (missing, a folder, no permission). */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
