import { sendWebhook, runCommandHook, writeToTerminals } from './channels.ts';
import type { StrayNotice } from './message.ts';
import type { Policy } from './policy.ts';

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
  if (!sends.length) return 'no channel configured';
  return (await Promise.all(sends)).join('; ');
}
