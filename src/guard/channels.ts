import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, writeSync } from 'node:fs';
import { noticeText, type StrayNotice } from './message.ts';
import type { Policy } from './policy.ts';

/** The outcome of a notice when the policy names no channel (recorded, not counted as sent). */
export const NO_CHANNEL = 'no channel configured';
/** A hook's stdout/stderr are drained but only this much is kept for the record. */
const MAX_HOOK_OUTPUT = 4096;
/** At most this many terminals of one user get the message (write(1) picks one; a few is plenty). */
const MAX_TTYS = 8;

/** POSTs the notice: `text` for Slack and Mattermost, the facts beside it. Never waits past the deadline. */
export async function sendWebhook(url: string, n: StrayNotice, timeoutMs: number): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: noticeText(n), ...n }),
      signal: AbortSignal.timeout(timeoutMs), redirect: 'error',
    });
    await res.body?.cancel();
    return res.ok ? `webhook ${res.status}` : `webhook failed: HTTP ${res.status}`;
  } catch (e) {
    const err = e as Error;
    return `webhook failed: ${err.name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : (err.cause as Error | undefined)?.message ?? err.message}`;
  }
}

/**
 * Runs the hook with the notice as JSON on stdin, in its own process group, killed with the whole group
 * at the deadline: a hook that hangs costs the guard one deadline, never a scan loop.
 */
export function runCommandHook(command: string, n: StrayNotice, timeoutMs: number): Promise<string> {
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    const keep = (b: Buffer) => (out = (out + b.toString('utf8')).slice(0, MAX_HOOK_OUTPUT));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.stdin.on('error', () => {}); // a hook that does not read its stdin
    child.stdin.end(JSON.stringify({ text: noticeText(n), ...n }) + '\n');
    // the group leader is our unreaped child until 'exit', so its pid (and group) cannot be reused before
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      done(`command failed: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const tail = out.trim().split('\n').pop() ?? '';
      if (signal === 'SIGKILL') done(`command killed after ${timeoutMs}ms`);
      else done(code === 0 ? 'command ok' : `command failed: exit ${code ?? signal}${tail ? ` (${tail.slice(0, 200)})` : ''}`);
    });
  });
}

/**
 * As write(1) does: only terminals the owner owns and has left writable (mesg y: group write), opened
 * without following a link and without becoming our controlling terminal, and checked again once open.
 */
export function writeToTerminals(uid: number, n: StrayNotice): string {
  const ttys: string[] = [];
  for (const dir of ['/dev/pts', '/dev']) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (dir === '/dev/pts' ? /^\d+$/.test(name) : /^tty\d+$/.test(name)) ttys.push(`${dir}/${name}`);
  }
  const text = `\r\n\x07Message from corral guard:\r\n${noticeText(n).replace(/\n/g, '\r\n')}\r\n`;
  let written = 0;
  for (const path of ttys) {
    if (written >= MAX_TTYS) break;
    try {
      const st = lstatSync(path);
      if (!st.isCharacterDevice() || st.uid !== uid || !(st.mode & 0o020)) continue;
      const fd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const again = fstatSync(fd);
        if (again.rdev !== st.rdev || again.uid !== uid || !(again.mode & 0o020)) continue;
        writeSync(fd, text);
        written++;
      } finally {
        closeSync(fd);
      }
    } catch {
      /* a terminal that closed or filled meanwhile */
    }
  }
  return `terminal ${written} tty`;
}

/**
 * Sends one notice on every channel the policy names, all at once, each with its own deadline, and
 * returns what happened on each ("webhook 200; command ok; terminal 1 tty"). A failed channel is recorded,
 * never retried in a loop: the stray is notified again only after notify.repeat.
 */
export async function sendNotice(cfg: Policy['notify'], uid: number, n: StrayNotice): Promise<string> {
  const sends: Promise<string>[] = [];
  if (cfg.webhook) sends.push(sendWebhook(cfg.webhook, n, cfg.timeoutMs));
  if (cfg.command) sends.push(runCommandHook(cfg.command, n, cfg.timeoutMs));
  if (cfg.terminal) sends.push(Promise.resolve(writeToTerminals(uid, n)));
  if (!sends.length) return NO_CHANNEL;
  return (await Promise.all(sends)).join('; ');
}
