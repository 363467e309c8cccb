import { closeSync, existsSync, realpathSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../config/errors.ts';
import { openForCreate } from '../os/safe-open.ts';

export const UNIT_NAME = 'corral-guard.service';
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;

/** The corral executable the unit starts: the one running now, else this checkout's bin/corral.js. */
export function corralExecutable(argv1 = process.argv[1]): string {
  if (argv1 && /corral(\.js)?$/.test(argv1) && existsSync(argv1)) return realpathSync(argv1);
  return fileURLToPath(new URL('../../bin/corral.js', import.meta.url));
}

// systemd expands % specifiers and $ variables in ExecStart: a path holding them is quoted and escaped
const quote = (s: string) => (/^[\w@+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$%])/g, (c) => (c === '%' ? '%%' : c === '$' ? '$$' : `\\${c}`))}"`);

/**
 * The guard as a system service. KillMode=control-group: a stop ends every process the guard started
 * (a hook still running). A bad policy (exit 2) is not restarted in a loop: the journal says why.
 * Hardening keeps what the guard needs: /proc of every user (SYS_PTRACE, DAC_READ_SEARCH), signals
 * (KILL), the owners' terminals (DAC_OVERRIDE), cgroup.kill; nothing more.
 */
export function guardUnit(exe = corralExecutable(), policy?: string): string {
  const args = [exe, 'guard', 'run', ...(policy ? ['--policy', policy] : [])].map(quote).join(' ');
  return `[Unit]
Description=corral guard: finds stray processes on this GPU server, tells their owners, reaps by policy
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${args}
ExecReload=/bin/kill -HUP $MAINPID
KillMode=control-group
Restart=on-failure
RestartSec=5s
RestartPreventExitStatus=2
StateDirectory=corral-guard
StateDirectoryMode=0700
Environment=CORRAL_HOME=%S/corral-guard
Environment=NO_COLOR=1
CapabilityBoundingSet=CAP_KILL CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
MemoryMax=1G
TasksMax=256

[Install]
WantedBy=multi-user.target
`;
}

export function enableCommands(path: string): string[] {
  const lines = ['systemctl daemon-reload', `systemctl enable --now ${UNIT_NAME}`, `systemctl status ${UNIT_NAME}`, `journalctl -u ${UNIT_NAME} -f`];
  return path === UNIT_PATH ? lines : [`cp ${path} ${UNIT_PATH}`, ...lines];
}

/** Writes the unit (never through a link, never over a file without --force) and returns the enable commands. */
export function installUnit(f: { policy?: string; output?: string; force?: boolean }): { path: string; commands: string[] } {
  const root = process.geteuid?.() === 0;
  if (!f.output && !root) throw new UsageError(`writing ${UNIT_PATH} needs root`, 'run sudo corral guard install, or write the unit elsewhere with --output FILE');
  const path = f.output ? resolve(f.output) : UNIT_PATH;
  const fd = openForCreate(path, { force: Boolean(f.force), mode: 0o644 });
  try {
    writeSync(fd, guardUnit(undefined, f.policy ? resolve(f.policy) : undefined));
  } finally {
    closeSync(fd);
  }
  return { path, commands: enableCommands(path) };
}
