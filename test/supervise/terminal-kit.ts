import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { waitFor } from '../helpers/procs.ts';

/**
 * An interactive bash in a private tmux server (its own socket), so that corral runs in the foreground
 * of a real terminal. close() kills only that server, by its socket.
 */
export class Pane {
  readonly dir = mkdtempSync(join(tmpdir(), 'corral-term-'));
  readonly sock = join(this.dir, 'tmux.sock');
  constructor(home: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, CORRAL_HOME: home, NO_COLOR: '1', HISTFILE: '/dev/null', PS1: '$ ' };
    delete env.CORRAL_CGROUP; // a cell sets it on its own command line
    this.tmux(['new-session', '-d', '-x', '100', '-y', '40', 'bash --norc --noprofile -i'], env);
  }
  tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync('tmux', ['-S', this.sock, ...args], { env, encoding: 'utf8' });
  }
  keys(...keys: string[]): void {
    this.tmux(['send-keys', ...keys]);
  }
  /** types a command line and runs it */
  type(line: string): void {
    this.keys('-l', line);
    this.keys('Enter');
  }
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-200']);
  }
  async see(re: RegExp, what: string, ms = 20_000): Promise<string> {
    return waitFor(() => (re.test(this.screen()) ? this.screen() : null), `${what} (screen: ${this.screen().trim().split('\n').slice(-6).join(' | ')})`, ms);
  }
  close(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      /* already gone */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
