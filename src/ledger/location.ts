import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * $CORRAL_HOME, else $XDG_STATE_HOME/corral, else ~/.local/state/corral. Root under sudo keeps the
 * invoking user's HOME and XDG variables (sudo -E, or a sudoers env_keep): those point at state that
 * user can write, so root's default home comes from root's own passwd entry instead.
 */
export function corralHome(env = process.env): string {
  if (env.CORRAL_HOME) return env.CORRAL_HOME;
  if (env.SUDO_USER !== undefined && process.geteuid?.() === 0) return join(ownHomeDir(), '.local', 'state', 'corral');
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'corral');
  return join(env.HOME || homedir(), '.local', 'state', 'corral');
}

function ownHomeDir(): string {
  try {
    return userInfo().homedir || '/root';
  } catch {
    return '/root';
  }
}

export function ledgerPath(env = process.env): string {
  return join(corralHome(env), 'ledger.sqlite');
}

export function logsDir(env = process.env): string {
  return join(corralHome(env), 'logs');
}
