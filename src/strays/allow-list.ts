import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import { UsageError } from '../config/errors.ts';
import { corralHome } from '../ledger/location.ts';
import type { ProcInfo } from '../proc/snapshot.ts';
import { readStat } from '../proc/stat.ts';

/**
 * Processes that are legitimately re-parented to init (or a user manager): terminal multiplexers,
 * agents, managed services. They are never orphans, and reap skips them unless named by pid.
 */
export interface AllowList {
  /** comm or argv[0] basename, exact */
  names: string[];
  /** regular expressions on the whole command line */
  commands: RegExp[];
  /** globs (only `*`) on the last component of the cgroup v2 path, e.g. *.service */
  cgroups: string[];
  users: string[];
  /** processes in pid 1's own session: started by init itself, never from a login session */
  initSession: boolean;
  /** session leaders started this soon after boot are the machine's daemons */
  bootGraceMs: number;
  /** where the user's part came from, for messages */
  source?: string;
}

export const DEFAULT_ALLOW_NAMES = [
  'tmux: server', 'tmux', 'screen', 'SCREEN', 'ssh-agent', 'gpg-agent', 'systemd', 'dbus-daemon', 'dbus-broker',
  'dbus-broker-lau', 'sshd', 'cron', 'crond', 'atd', 'anacron', 'rsyslogd', 'syslog-ng', 'agetty', 'containerd',
  'containerd-shim', 'dockerd', 'nvidia-persistenced', 'tini', 'dumb-init', 'supervisord', 'polkitd', 'udisksd',
  'snapd', 'mosh-server', 'gnome-keyring-d', 'pulseaudio', 'pipewire', 'wireplumber', 'at-spi-bus-laun',
];

/**
 * The built-in names only count for the real program: a name is one word a user can give any process
 * (`exec -a sshd`, a copy named sshd). Its executable must be a root-owned file, writable by nobody
 * else, in a system directory, whose name is the one listed (comm is cut to 15 characters, so
 * dbus-broker-lau stands for dbus-broker-launch). System daemons must also run as root or a system
 * account (uid below 1000): a user's own copy of the real sshd binary is that user's stray.
 */
const SYSTEM_DIRS = ['/usr/bin/', '/usr/sbin/', '/bin/', '/sbin/', '/usr/lib/', '/usr/libexec/', '/lib/', '/usr/local/bin/', '/usr/local/sbin/'];
export const SYSTEM_DAEMONS = [
  'sshd', 'cron', 'crond', 'atd', 'anacron', 'rsyslogd', 'syslog-ng', 'agetty', 'containerd', 'containerd-shim', 'dockerd',
  'nvidia-persistenced', 'polkitd', 'udisksd', 'snapd', 'dbus-broker-lau',
];
const SYSTEM_UID_LIMIT = 1000;

/** What the kernel says a process executes: the path, and the file's owner and mode. */
export interface ExeFacts {
  path: string;
  uid: number;
  mode: number;
}

/** The executable of a live process, if it is still the process the snapshot saw (same starttime). */
export function readExeFacts(p: Pick<ProcInfo, 'pid' | 'starttime'>): ExeFacts | undefined {
  try {
    const path = readlinkSync(`/proc/${p.pid}/exe`).replace(/ \(deleted\)$/, '');
    // stat through the link reaches the very file executed, even if renamed, deleted or in another mount namespace
    const st = statSync(`/proc/${p.pid}/exe`);
    if (readStat(p.pid)?.starttime !== p.starttime) return undefined;
    return { path, uid: st.uid, mode: st.mode };
  } catch {
    return undefined; // another user's process without root, a kernel thread, or gone
  }
}

/** Whether a process matched by a built-in name runs the real, root-installed program of that name. */
export function isGenuineDaemon(p: ProcInfo, name: string, exe: ExeFacts | undefined): boolean {
  if (!exe || exe.uid !== 0 || (exe.mode & 0o022) !== 0) return false;
  if (!SYSTEM_DIRS.some((d) => exe.path.startsWith(d))) return false;
  const stem = name.replace(/: server$/, '').toLowerCase();
  if (!basename(exe.path).toLowerCase().startsWith(stem)) return false;
  return !SYSTEM_DAEMONS.includes(name) || p.uid < SYSTEM_UID_LIMIT;
}

export function defaultAllowList(): AllowList {
  return { names: [...DEFAULT_ALLOW_NAMES], commands: [], cgroups: ['*.service'], users: [], initSession: true, bootGraceMs: 300_000 };
}

/**
 * The YAML parser, loaded only when there is an allow-list file to read: most machines have none, and
 * loading the package was a tenth of `corral strays`. Synchronously, as loadAllowList is; `require` where
 * it exists (the single-file build, whose bundler sees the literal and bundles the package), else one
 * made for this module.
 */
function parseYaml(text: string): unknown {
  const yaml = (typeof require === 'function' ? require('yaml') : createRequire(import.meta.url)('yaml')) as typeof import('yaml');
  return yaml.parse(text);
}

export const ALLOW_FILE_NAMES = ['strays-allow.yaml', 'strays-allow.yml', 'strays-allow.json'];

/** The allow-list: the built-in one, extended (or replaced, with `defaults: false`) by a file. */
export function loadAllowList(file?: string, env = process.env): AllowList {
  const path = file ?? ALLOW_FILE_NAMES.map((n) => join(corralHome(env), n)).find((p) => existsSync(p));
  const list = defaultAllowList();
  if (!path) return list;
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read allow-list ${path}: ${(e as Error).message}`, 'it is YAML or JSON: names, commands, cgroups, users, defaults');
  }
  if (doc === null || doc === undefined) return { ...list, source: path };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`allow-list ${path}: expected a mapping of names, commands, cgroups, users`);
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!['names', 'commands', 'cgroups', 'users', 'defaults', 'initSession', 'bootGraceSeconds'].includes(key)) {
      throw new UsageError(`allow-list ${path}: unknown key '${key}'`, 'keys: names, commands, cgroups, users, defaults, initSession, bootGraceSeconds');
    }
  }
  const strings = (key: string): string[] => {
    const v = d[key] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new UsageError(`allow-list ${path}: '${key}' must be a list of strings`);
    return v as string[];
  };
  const base = d.defaults === false ? { ...defaultAllowList(), names: [], cgroups: [] } : list;
  const commands = strings('commands').map((c) => {
    try {
      return new RegExp(c);
    } catch {
      throw new UsageError(`allow-list ${path}: invalid regular expression '${c}' in commands`);
    }
  });
  return {
    names: [...base.names, ...strings('names')],
    commands: [...base.commands, ...commands],
    cgroups: [...base.cgroups, ...strings('cgroups')],
    users: [...base.users, ...strings('users')],
    initSession: typeof d.initSession === 'boolean' ? d.initSession : base.initSession,
    bootGraceMs: typeof d.bootGraceSeconds === 'number' ? d.bootGraceSeconds * 1000 : base.bootGraceMs,
    source: path,
  };
}

/** Compiled once per glob: a scan matches every process against every glob. */
const globs = new Map<string, RegExp>();

function globMatch(glob: string, text: string): boolean {
  let re = globs.get(glob);
  if (!re) globs.set(glob, (re = new RegExp('^' + glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')));
  return re.test(text);
}

/** path.basename for the common case (no trailing slash) without its argument checks: it runs once per process. */
function lastComponent(path: string): string {
  return path.endsWith('/') ? basename(path) : path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The session whose orphans count as init's own services: pid 1's, unless corral itself runs in it. In a
 * container whose entrypoint never calls setsid, every shell and every leftover shares init's session, so
 * the rule could not tell a service from a user's orphan and would hide all of them.
 */
export function initServiceSession(snap: ReadonlyMap<number, ProcInfo>, selfPid = process.pid): number | undefined {
  const initSid = snap.get(1)?.sid;
  // a recorded snapshot without corral in it is judged as seen from outside init's session
  const selfSid = snap.get(selfPid)?.sid;
  return initSid === undefined || initSid === selfSid ? undefined : initSid;
}

export interface AllowContext {
  /** the session of init's own services (initServiceSession), or undefined when it cannot be told apart */
  initSid: number | undefined;
  /** starttime (ticks) before which a session leader counts as a boot-time daemon */
  bootDaemonTicks: number;
  userOf: (uid: number) => string;
  /** the executable of a process (default: read from /proc, checked against its starttime) */
  exeOf?: (p: ProcInfo) => ExeFacts | undefined;
}

/** The allow-list entry a process matches, as a short label, or undefined. */
export function matchAllowList(p: ProcInfo, list: AllowList, ctx: AllowContext): string | undefined {
  const argv0 = lastComponent(p.cmdline[0] ?? '');
  for (const n of list.names) {
    if (p.comm !== n && argv0 !== n) continue;
    // names the user's own file adds are trusted as written; the built-in ones must be the real program
    if (!DEFAULT_ALLOW_NAMES.includes(n) || isGenuineDaemon(p, n, (ctx.exeOf ?? readExeFacts)(p))) return `name ${n}`;
  }
  const leaf = p.cgroup ? p.cgroup.slice(p.cgroup.lastIndexOf('/') + 1) : '';
  if (leaf) for (const g of list.cgroups) if (globMatch(g, leaf)) return `cgroup ${leaf}`;
  if (list.commands.length) {
    const cmd = p.cmdline.join(' ');
    for (const re of list.commands) if (re.test(cmd)) return `command /${re.source}/`;
  }
  if (list.users.length && list.users.includes(ctx.userOf(p.uid))) return `user ${ctx.userOf(p.uid)}`;
  if (list.initSession && ctx.initSid !== undefined && p.sid === ctx.initSid && p.ppid === 1) return "init's own session";
  if (p.sid === p.pid && p.starttime <= ctx.bootDaemonTicks) return 'daemon started at boot';
  return undefined;
}
