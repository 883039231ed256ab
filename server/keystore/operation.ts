import type { Cancellation } from '../core/errors';

/** Where an operation stands; the CLI prints it to stderr, the daemon sends it as work-done progress. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  /** Rows per second over the phase so far. */
  rate?: number;
}

/** What every long operation accepts from either front. */
export interface OperationContext {
  progress?: (progress: Progress) => void;
  cancellation?: Cancellation;
}

/** Reports a phase's progress at most every `intervalMs`, with its rate. */
export function phaseReporter(context: OperationContext, phase: string, total: number, intervalMs = 250) {
  const started = Date.now();
  let last = 0;
  let lastDone = -1;
  return (done: number, force = false) => {
    const now = Date.now();
    if (!context.progress || done === lastDone || (!force && now - last < intervalMs && done < total)) return;
    last = now;
    lastDone = done;
    const seconds = (now - started) / 1000;
    context.progress({ phase, done, total, rate: seconds > 0 ? Math.round(done / seconds) : undefined });
  };
}
