/** The verdict a backup's row in the extension shows, and whether the extension offers to restore it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupContextValue, restorableHere, worseVerdict } from '../../client/src/backupVerdicts';
import type { BackupVerdict } from '../../shared/types';

test('an unverified backup shows as unverified, not corrupt, and stays out of the extension restore', () => {
  assert.equal(worseVerdict('unverified', 'ok'), 'unverified');
  assert.equal(worseVerdict('stale', 'unverified'), 'unverified');
  assert.equal(worseVerdict('unverified', 'corrupt'), 'corrupt', 'damage found later still wins');
  assert.equal(worseVerdict('ok', 'no-such-verdict' as BackupVerdict), 'corrupt', 'an unknown verdict counts as corrupt');
  assert.equal(backupContextValue('unverified'), 'gptLoad.backup.unverified');
  assert.deepEqual(
    (['ok', 'stale', 'differs', 'needs-key', 'unverified', 'corrupt', undefined] as const).map(restorableHere),
    [true, true, true, true, false, false, true],
  );
});
