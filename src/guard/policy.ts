/**
 * The guard's policy (docs/guard.md). Every key:
 *
 *   users: [alice, bob]        only these users' strays (names or uids); default: every human user
 *                              (uid >= 1000) and root's strays of corral runs
 *   exclude_users: [carol]     never these users (with users: taken out of that list)
 *   min_age: 1m                nothing younger (by its own start time) is ever notified or reaped
 *   rules:                     which strays, and after how long (since the guard first saw them) to act
 *     - reason: run-ended      a strays reason, a list of them, or `any`; and/or
 *       severity: critical     info | warning | critical (a list too)
 *       notify: 0s             after how long a stray of this kind is notified (omit: never)
 *       reap: 10m              after how long it is reaped (omit: never)
 *   notify:
 *     webhook: http://...      JSON POST: Slack/Mattermost `text` plus the facts as fields
 *     command: /path/hook      runs with the same JSON on stdin
 *     terminal: true           writes to the owner's terminals (as write(1))
 *     repeat: 24h              a stray is notified again after this long (default 24h)
 *     timeout: 5s              deadline of each webhook and command (default 5s, at most 60s)
 *   quiet_hours: 22:00-07:00   local time; notifications wait until it ends (reaps do not)
 *   allow_list: FILE           the strays allow-list file (default: as corral strays)
 *
 * The built-in default notifies warning and critical strays after a minute and never reaps.
 */
import { parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import type { YamlSource, YamlValue } from '../config/yaml-reader.ts';
import { STRAY_REASONS, type Severity, type StrayReason } from '../strays/types.ts';

export const POLICY_KEYS = ['users', 'exclude_users', 'min_age', 'rules', 'notify', 'quiet_hours', 'allow_list'];
export const RULE_KEYS = ['reason', 'severity', 'notify', 'reap'];
export const NOTIFY_KEYS = ['webhook', 'command', 'terminal', 'repeat', 'timeout'];
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export interface PolicyRule {
  reasons?: StrayReason[];
  severities?: Severity[];
  notifyMs?: number;
  reapMs?: number;
}

export interface Policy {
  source: string;
  users?: string[];
  excludeUsers: string[];
  minAgeMs: number;
  rules: PolicyRule[];
  notify: { webhook?: string; command?: string; terminal: boolean; repeatMs: number; timeoutMs: number };
  /** minutes since local midnight; start > end wraps past midnight */
  quietHours?: { start: number; end: number };
  allowList?: string;
}

export function defaultPolicy(): Policy {
  return {
    source: 'built-in default (notify, never reap)', excludeUsers: [], minAgeMs: 60_000,
    rules: [{ severities: ['warning', 'critical'], notifyMs: 0 }],
    notify: { terminal: true, repeatMs: 86_400_000, timeoutMs: 5000 },
  };
}

function names(v: YamlValue, what: string): string[] {
  const list = v.isList() ? v.list(`a list of ${what}`) : [v];
  const out = list.map((x) => x.string(`a ${what.replace(/s$/, '')}`));
  if (!out.length) v.fail(`expected at least one ${what.replace(/s$/, '')}, found an empty list`);
  return out;
}

function oneOf<T extends string>(v: YamlValue, allowed: readonly T[], what: string): T[] {
  return (v.isList() ? v.list(`a list of ${what}s`) : [v]).map((x) => {
    const s = x.string(`a ${what}`);
    if ((allowed as readonly string[]).includes(s)) return s as T;
    return x.attempt(() => {
      throw new UsageError(`unknown ${what} '${s}'`, `${what}s: ${allowed.join(', ')}`);
    });
  });
}

const duration = (v: YamlValue, key: string) => v.parse('a duration like 30s, 10m or 2h', (raw) => parseDuration(String(raw), key));

function readRule(v: YamlValue): PolicyRule {
  const keys = v.entries('a rule: {reason or severity, notify, reap}', RULE_KEYS);
  const rule: PolicyRule = {};
  const reason = keys.get('reason');
  if (reason && !(!reason.isList() && reason.string() === 'any')) rule.reasons = oneOf(reason, STRAY_REASONS, 'stray reason');
  const severity = keys.get('severity');
  if (severity) rule.severities = oneOf(severity, SEVERITIES, 'severity');
  if (!reason && !severity) v.missing('reason', 'a reason (or `any`) or a severity', 'e.g. reason: run-ended, or severity: critical');
  const notify = keys.get('notify');
  if (notify && !notify.isNull()) rule.notifyMs = duration(notify, 'notify');
  const reap = keys.get('reap');
  if (reap && !reap.isNull()) rule.reapMs = duration(reap, 'reap');
  if (rule.notifyMs === undefined && rule.reapMs === undefined) v.missing('notify', 'notify or reap (after how long)', 'e.g. notify: 0s, reap: 10m');
  return rule;
}

function readQuietHours(v: YamlValue): { start: number; end: number } {
  const text = v.string('a time range like 22:00-07:00');
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(text.trim());
  const mins = m ? [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])] : [];
  if (!m || Number(m[2]) > 59 || Number(m[4]) > 59 || mins.some((x) => x > 24 * 60)) v.expect('a time range like 22:00-07:00');
  return { start: mins[0]!, end: mins[1]! };
}

function readNotify(v: YamlValue, into: Policy['notify']): void {
  const keys = v.entries('a mapping of notification channels', NOTIFY_KEYS);
  const hook = keys.get('webhook');
  if (hook) {
    const url = hook.string('a URL');
    if (!/^https?:\/\/[^\s]+$/.test(url)) hook.expect('an http:// or https:// URL');
    into.webhook = url;
  }
  const command = keys.get('command');
  if (command) into.command = command.string('a command');
  const terminal = keys.get('terminal');
  if (terminal) {
    const t = terminal.scalar('true or false');
    if (t !== 'true' && t !== 'false') terminal.expect('true or false');
    into.terminal = t === 'true';
  }
  const repeat = keys.get('repeat');
  if (repeat) into.repeatMs = duration(repeat, 'repeat');
  const timeout = keys.get('timeout');
  if (timeout) into.timeoutMs = duration(timeout, 'timeout');
  if (into.timeoutMs > 60_000 || into.timeoutMs < 1) (timeout ?? v).fail('expected a timeout from 1ms to 60s', 'a hook that takes longer holds up the guard');
}

/** Reads a policy document; every mistake is a UsageError at file:line:col. */
export function readPolicy(src: YamlSource): Policy {
  const p = defaultPolicy();
  p.source = src.file;
  const root = src.root();
  if (root.isNull()) return p;
  const keys = root.entries('a mapping of policy keys', POLICY_KEYS);
  const users = keys.get('users');
  const exclude = keys.get('exclude_users');
  if (users) p.users = names(users, 'users');
  if (exclude) p.excludeUsers = names(exclude, 'users');
  const minAge = keys.get('min_age');
  if (minAge) p.minAgeMs = duration(minAge, 'min_age');
  const rules = keys.get('rules');
  if (rules) p.rules = rules.list('a list of rules').map(readRule);
  const notify = keys.get('notify');
  if (notify) readNotify(notify, p.notify);
  const quiet = keys.get('quiet_hours');
  if (quiet) p.quietHours = readQuietHours(quiet);
  const allow = keys.get('allow_list');
  if (allow) p.allowList = allow.string('a file path');
  return p;
}
