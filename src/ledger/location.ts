import { homedir } from 'node:os';
import { join } from 'node:path';

/** $CORRAL_HOME, else $XDG_STATE_HOME/corral, else ~/.local/state/corral. */
export function corralHome(env = process.env): string {
  if (env.CORRAL_HOME) return env.CORRAL_HOME;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'corral');
  return join(env.HOME || homedir(), '.local', 'state', 'corral');
}

export function ledgerPath(env = process.env): string {
  return join(corralHome(env), 'ledger.sqlite');
}

export function logsDir(env = process.env): string {
  return join(corralHome(env), 'logs');
}
