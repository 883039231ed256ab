import type { Cancellation, Lang } from '../core/errors';

/**
 * The Chinese of each progress phase. A phase is an identifier (the daemon sends it as it is) and
 * reads as English: a verb, then a table where the phase has one. Typed so that a new phase cannot
 * go without its words.
 */
const PHASE_VERBS_ZH = {
  classify: '分类',
  'pre-check': '预检查',
  write: '写入',
  'back up': '备份',
  read: '读取',
  scan: '扫描',
  redact: '脱敏',
} as const;
const PHASES_ZH = {
  'rebuild indexes': '重建索引',
  commit: '提交',
  'check rows': '检查行',
  'restore rows': '恢复行',
  'copy database pages': '复制数据库页',
} as const;
type Phase = `${keyof typeof PHASE_VERBS_ZH} ${string}` | keyof typeof PHASES_ZH;

/** A phase as the operator reads it; the table a phase names stays as it is. */
export function phaseLabel(phase: Phase, lang: Lang): string {
  if (lang !== 'zh-CN') return phase;
  if (phase in PHASES_ZH) return PHASES_ZH[phase as keyof typeof PHASES_ZH];
  const verb = (Object.keys(PHASE_VERBS_ZH) as Array<keyof typeof PHASE_VERBS_ZH>).find((v) => phase.startsWith(`${v} `))!;
  return `${PHASE_VERBS_ZH[verb]} ${phase.slice(verb.length + 1)}`;
}

/** Where an operation stands; the CLI prints it to stderr, the daemon sends it as work-done progress. */
export interface Progress {
  phase: Phase;
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
export function phaseReporter(context: OperationContext, phase: Phase, total: number, intervalMs = 250) {
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
