import { codecFor } from '../core/crypto';
import { KeystoreError } from '../core/errors';
import { listKeyPage, type KeyStatus } from '../keystore/keys';
import type { CliCommand } from './command';
import { DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, flag, positiveInt, str, withStore, writeJson } from './options';

export const keysListCommand: CliCommand = {
  name: 'keys list',
  summary: 'list stored keys (masked), by group and status, a page at a time',
  help: `Usage: gpt-load-keystore keys list [--group NAME] [--status active|invalid] [--limit N] [--after ID] [--json]

Lists keys as GPT-Load's UI shows them: id, group, status, masked key (never the whole secret),
notes, request and failure counts, last use. Pages are keyset-paged by id: the last line names the
--after ID for the next page, so a group of a million keys pages as fast as a small one.

Options:
  --group NAME          only this group
  --status STATUS       active or invalid
  --limit N             rows per page (default 50)
  --after ID            start after this key id
  --json                machine-readable page ({items, nextAfterId})
${DEPLOYMENT_HELP}

Examples:
  gpt-load-keystore keys list --group openai --status invalid
  gpt-load-keystore keys list --after 1050 --limit 100 --json`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    group: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const status = str(args, 'status');
    if (status !== undefined && status !== 'active' && status !== 'invalid') {
      throw new KeystoreError('usage', { en: '--status takes active or invalid', zh: '--status 取值为 active 或 invalid' });
    }
    const page = await withStore(args, io, (store, deployment) =>
      listKeyPage(store, codecFor(deployment.encryptionKey), {
        groupName: str(args, 'group'),
        status: status as KeyStatus | undefined,
        limit: positiveInt(args, 'limit', 50),
        afterId: str(args, 'after') !== undefined ? positiveInt(args, 'after', 0, 0) : undefined,
      }),
    );
    if (flag(args, 'json')) {
      writeJson(io, page);
      return 0;
    }
    const rows = page.items.map((k) => [
      String(k.id),
      k.groupName,
      k.status,
      k.notes || k.masked,
      String(k.requestCount),
      String(k.failureCount),
      k.lastUsedAt ?? '-',
    ]);
    const header = ['ID', 'GROUP', 'STATUS', 'KEY', 'REQUESTS', 'FAILURES', 'LAST USED'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows]) io.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
    io.stdout.write(page.nextAfterId !== null ? `-- more: --after ${page.nextAfterId}\n` : `-- end (${rows.length} shown)\n`);
    return 0;
  },
};
