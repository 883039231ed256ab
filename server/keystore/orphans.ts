/**
 * Files a process names with its own pid while it writes them (atomic-write temporaries, backup
 * partials): one left behind by a killed process can hold keys, and only the pid tells it apart from
 * one still being written.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Whether `pid` names a live process (EPERM: alive, just not ours to signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the files of `dir` whose name matches `ownerPattern` (group 1: the writer's pid) and whose writer is gone; returns how many. */
export function removeOrphanedFiles(dir: string, ownerPattern: RegExp): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const owner = ownerPattern.exec(name);
    if (!owner || processAlive(Number(owner[1]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
