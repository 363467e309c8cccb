import { UsageError, suggest } from '../config/errors.ts';
import type { Cause } from './causes.ts';
import type { TimelineEntry } from './timeline.ts';
import type { ReasonHit, Severity, StrayReason } from './types.ts';

export type Lang = 'en' | 'zh';
export const LANGS: readonly Lang[] = ['en', 'zh'];

/**
 * Everything the report says in words. Each language implements all of it: headings, labels, reason
 * explanations, causes and timeline lines, so that `--lang zh` is a full translation rather than
 * translated headings over English sentences.
 */
export interface StrayText {
  lang: Lang;
  reason: Record<StrayReason, string>;
  severity: Record<Severity, string>;
  yes: string;
  no: string;
  unknown: string;
  none: string;
  /** punctuation differs too: ': ' and '：', '; ' and '；', ' (x)' and '（x）' */
  colon: string;
  semi: string;
  paren(text: string): string;
  /** "S (sleeping)" */
  state(code: string): string;
  runStatus(status: string): string;
  stopReason(reason: string | null): string;
  explain(hit: ReasonHit): string;
  cause(c: Cause): string;
  event(e: TimelineEntry): string;
  via(how: string): string;
  r: ReportLabels;
}

export interface ReportLabels {
  title: string;
  scanned(host: string, at: string, processes: number, strays: number): string;
  sampled(ms: number): string;
  allowList(source: string): string;
  gpuHeading: string;
  noGpu(probes: string): string;
  gpuDevice(index: number, name: string, used: string, total: string): string;
  summaryHeading: string;
  columns: { pid: string; user: string; state: string; runtime: string; gpu: string; severity: string; reasons: string; run: string; command: string };
  noStrays: string;
  strayHeading(n: number, pid: number, command: string): string;
  factsHeading: string;
  pidPpid: string;
  orphaned: string;
  orphanedInit: string;
  orphanedSubreaper(ppid: number, comm: string): string;
  user: string;
  sudo(user: string, uid: string): string;
  started: string;
  runtime: string;
  command: string;
  rewritten(argv0: string, exe: string): string;
  exe: string;
  gpu: string;
  gpuUse(device: string, bytes: string | null, paths: string): string;
  state: string;
  wchan(w: string): string;
  reasons: string;
  attribution: string;
  attributedTo(runId: string, jobId: string | null, via: string): string;
  notInLedger: string;
  unattributed: string;
  activeAtStart(runs: string): string;
  noRunsActive: string;
  cgroup: string;
  allowListed: string;
  parentHeading: string;
  parentLine(pid: number, comm: string, user: string, state: string): string;
  parentInit: string;
  parentMissing(ppid: number): string;
  timelineHeading: string;
  omitted(n: number): string;
  causesHeading: string;
  noCauses: string;
  verifyHeading: string;
  verifyIntro: string;
  actionHeading: string;
  actionIntro: string;
  actionZombie(parentPid: number): string;
  actionZombieInit: string;
  actionRun(runId: string): string;
  allHeading: string;
  allIntro: string;
  footer(version: string): string;
}

export function parseLang(text: string | undefined): Lang {
  const l = (text ?? 'en').trim().toLowerCase().replace(/[-_].*$/, '');
  if ((LANGS as readonly string[]).includes(l)) return l as Lang;
  const near = suggest(l, LANGS);
  throw new UsageError(`unknown report language '${text}'`, near ? `did you mean ${near}? (en or zh)` : 'languages: en (English), zh (Simplified Chinese)');
}

export async function loadText(lang: Lang): Promise<StrayText> {
  return lang === 'zh' ? (await import('./text-zh.ts')).ZH : (await import('./text-en.ts')).EN;
}
