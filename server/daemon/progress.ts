/**
 * Work-done progress for long requests, as LSP defines it: on the client's `workDoneToken` when the
 * request carries one, else on a token the daemon creates (`window/workDoneProgress/create`) when
 * the client supports that. Reports carry the operation's raw figures (phase, done, total, rate)
 * beside the standard message and percentage. Cancellation from `$/cancelRequest` and from the
 * progress' cancel button both reach the operation as the core's `Cancellation`.
 */
import { randomUUID } from 'node:crypto';
import {
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type CancellationToken,
  type Connection,
  type ProgressToken,
} from 'vscode-languageserver/node';
import type { Cancellation, Lang } from '../core/errors';
import { phaseLabel, type OperationContext, type Progress } from '../keystore/operation';
import { formatNumber } from '../../shared/format';
import type { KeystoreProgressReport } from '../../shared/protocol';
import { log } from './log';

const CREATE_TIMEOUT_MS = 2000;
const cancelHandlers = new Map<ProgressToken, () => void>();

/** Once per connection: the client's cancel button on a daemon-created progress. */
export function listenForProgressCancel(connection: Connection): void {
  connection.onNotification(WorkDoneProgressCancelNotification.type, ({ token }) => cancelHandlers.get(token)?.());
}

function formatProgress(p: Progress, lang: Lang): string {
  const n = (v: number) => formatNumber(v, lang);
  const rate = p.rate !== undefined ? (lang === 'zh-CN' ? `，${n(p.rate)} 行/秒` : `, ${n(p.rate)} rows/s`) : '';
  return `${phaseLabel(p.phase, lang)}: ${n(p.done)}/${n(p.total)}${rate}`;
}

export class WorkDone {
  private cancelledByUser = false;
  private ended = false;

  private constructor(
    private readonly connection: Connection,
    private readonly token: ProgressToken | undefined,
    private readonly requestToken: CancellationToken,
    private readonly lang: Lang,
  ) {}

  /** Starts progress titled `title`; without a usable token it only tracks cancellation. */
  static async begin(
    connection: Connection,
    options: { clientToken?: ProgressToken; canCreate: boolean; title: string; lang: Lang; requestToken: CancellationToken },
  ): Promise<WorkDone> {
    let token = options.clientToken;
    if (token === undefined && options.canCreate) {
      const created = randomUUID();
      try {
        // A client that never answers must not hold the operation up.
        const answered = await Promise.race([
          connection.sendRequest(WorkDoneProgressCreateRequest.type, { token: created }).then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), CREATE_TIMEOUT_MS).unref()),
        ]);
        if (answered) token = created;
      } catch (err) {
        log.debug(`workDoneProgress/create refused: ${(err as Error).message}`);
      }
    }
    const work = new WorkDone(connection, token, options.requestToken, options.lang);
    if (token !== undefined) {
      cancelHandlers.set(token, () => (work.cancelledByUser = true));
      void connection.sendProgress(WorkDoneProgress.type, token, { kind: 'begin', title: options.title, cancellable: true, percentage: 0 });
    }
    return work;
  }

  get cancellation(): Cancellation {
    const cancelled = () => this.cancelledByUser || this.requestToken.isCancellationRequested;
    return {
      get cancelled() {
        return cancelled();
      },
    };
  }

  get context(): OperationContext {
    return { progress: (p) => this.report(p), cancellation: this.cancellation };
  }

  report(p: Progress): void {
    if (this.token === undefined || this.ended) return;
    const value: KeystoreProgressReport = {
      kind: 'report',
      message: formatProgress(p, this.lang),
      percentage: p.total > 0 ? Math.min(100, Math.floor((100 * p.done) / p.total)) : undefined,
      cancellable: true,
      phase: p.phase,
      done: p.done,
      total: p.total,
      rate: p.rate,
    };
    void this.connection.sendProgress(WorkDoneProgress.type, this.token, value);
  }

  done(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.token === undefined) return;
    cancelHandlers.delete(this.token);
    void this.connection.sendProgress(WorkDoneProgress.type, this.token, { kind: 'end' });
  }
}
