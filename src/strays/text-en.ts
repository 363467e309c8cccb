import { formatDuration } from '../config/duration.ts';
import { formatBytes } from './gpu-view.ts';
import type { StrayText } from './text.ts';

const STATES: Record<string, string> = {
  R: 'running', S: 'sleeping', D: 'uninterruptible sleep', T: 'stopped', t: 'stopped by a debugger', Z: 'zombie', X: 'dead', I: 'idle', W: 'paging', P: 'parked',
};
const STATUSES: Record<string, string> = { running: 'running', succeeded: 'succeeded', failed: 'failed', interrupted: 'interrupted', stopped: 'stopped', lost: 'lost' };
const STOPS: Record<string, string> = {
  exited: 'exited', timeout: 'timeout', 'max-runtime': 'max runtime reached', signal: 'signal', 'main-ended': 'main job ended',
  'supervisor-lost': 'supervisor lost', 'spawn-failed': 'could not start', halted: 'halted', 'internal-error': 'internal error',
};
const VIA: Record<string, string> = {
  marker: 'its CORRAL_RUN_ID marker', registry: "the run's process registry", cgroup: "the run's cgroup", supervisor: "it is the run's supervisor",
  sentinel: "it is the run's sentinel", ancestor: 'an ancestor that belongs to the run',
};

const n = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0));
const str = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
const bytes = (v: unknown) => formatBytes(n(v));

export const EN: StrayText = {
  lang: 'en',
  reason: { 'run-ended': 'run ended', orphan: 'orphan', stopped: 'stopped', zombie: 'zombie', unkillable: 'unkillable', 'gpu-holder': 'GPU holder', 'idle-gpu-holder': 'idle GPU holder', 'escaped-tmux': 'escaped through tmux' },
  severity: { info: 'info', warning: 'warning', critical: 'critical' },
  yes: 'yes',
  no: 'no',
  unknown: 'unknown',
  none: 'none',
  colon: ': ',
  semi: '; ',
  paren: (x) => ` (${x})`,
  state: (c) => `${c} (${STATES[c] ?? 'unknown state'})`,
  runStatus: (s) => STATUSES[s] ?? s,
  stopReason: (r) => (r ? (STOPS[r] ?? r) : 'none recorded'),
  via: (how) => VIA[how] ?? how,
  explain(h) {
    const d = h.data;
    switch (h.reason) {
      case 'run-ended':
        if (!d.known) return `carries the marker of run ${str(d.runId)}, which is not in this ledger, and no supervisor is above it any more`;
        if (d.status === 'running') return `run ${str(d.runId)} is still marked running, but its supervisor and its sentinel are both gone`;
        return `run ${str(d.runId)} ended (${EN.runStatus(str(d.status))}, ${EN.stopReason(d.stopReason as string | null)}) and this process outlived it`;
      case 'orphan':
        return d.adoptedBy === 'init'
          ? 'its parent exited and it was re-parented to init (pid 1)'
          : `re-parented to pid ${str(d.ppid)} (${str(d.parentComm)}), a subreaper that did not start it`;
      case 'stopped':
        return d.traced ? 'stopped by a debugger (state t)' : 'stopped (state T): it does nothing, and acts on SIGTERM only after SIGCONT';
      case 'zombie':
        return `a zombie: its parent pid ${str(d.parentPid)} (${str(d.parentComm)}) has not reaped it`;
      case 'unkillable':
        return `in uninterruptible sleep (D) in the kernel function ${str(d.wchan)}; no signal acts until that call returns`;
      case 'gpu-holder':
        return n(d.bytes) > 0
          ? `holds ${bytes(d.bytes)} of GPU memory on GPU ${str(d.devices)} and no live corral run owns it`
          : `holds GPU device ${str(d.devices)} open (memory not reported) and no live corral run owns it`;
      case 'idle-gpu-holder':
        return `holds ${n(d.bytes) > 0 ? bytes(d.bytes) + ' of GPU memory' : 'a GPU device'} on GPU ${str(d.devices)} and used no CPU in ${formatDuration(n(d.sampleMs))}`;
      case 'escaped-tmux':
        return `candidate: a window of the tmux server pid ${str(d.tmuxServerPid)} that started while run ${str(d.runId)} was active, in that run's working directory ${str(d.cwd)}; the run has ended (${EN.runStatus(str(d.runStatus))})`;
    }
  },
  cause(c) {
    const d = c.data;
    switch (c.id) {
      case 'supervisor-lost':
        return d.sentinelRan
          ? `Run ${str(d.runId)} ended as supervisor-lost: its supervisor died without running its own teardown (SIGKILL, the OOM killer, a crash). The sentinel's teardown ran, and this process survived it.`
          : `Run ${str(d.runId)} lost both its supervisor and its sentinel, so nothing was left to stop its processes: the runner died without running its \`finally:\` cleanup.`;
      case 'survived-teardown':
        return `Run ${str(d.runId)} ended (${EN.runStatus(str(d.status))}, ${EN.stopReason(d.stopReason as string | null)}), but this process survived its teardown: it could not be signalled or was not found (see the other causes).`;
      case 'escaped-group':
        return `It left its job's process group and session (it has pgid ${str(d.pgid)} and sid ${str(d.sid)}; the job's leader had pgid ${str(d.leaderPgid)}, sid ${str(d.leaderSid)}), so killing the job's process group missed it.`;
      case 'other-user':
        return d.viaSudo
          ? `It runs as ${str(d.owner)} because it was launched via sudo by ${str(d.cleaner)}: a cleaner running as ${str(d.cleaner)} gets EPERM when it signals it.`
          : `It runs as ${str(d.owner)}, not as ${str(d.cleaner)} who ran the job: a cleaner running as ${str(d.cleaner)} gets EPERM when it signals it.`;
      case 'needs-sigcont':
        return 'It is stopped (T): a SIGTERM stays pending until SIGCONT arrives, so a cleaner that only sends SIGTERM leaves it behind. `corral reap` sends SIGCONT with the stop signal.';
      case 'no-max-runtime':
        return `Job ${str(d.job)} restarts (--restart ${str(d.restart)}) with no --max-runtime: a restart loop with no upper bound keeps starting it again.`;
      case 'restart-loop':
        return `Its parent pid ${str(d.parentPid)} is a shell restart loop (\`${str(d.parentCommand)}\`) with no maximum runtime: it starts the program again whenever it ends.`;
      case 'parent-exited':
        return 'Its parent exited without stopping it: a `finally:` block that never ran, a parent killed with SIGKILL, or a deliberate nohup or daemon.';
      case 'zombie-parent':
        return d.parentIsInit
          ? 'Its parent is init (pid 1), which does not reap zombies on this machine; no signal removes it, only init can.'
          : `Its parent pid ${str(d.parentPid)} (${str(d.parentComm)}) never calls wait(): stopping that parent removes the zombie.`;
      case 'kernel-wait':
        return `It is blocked inside the kernel (wchan ${str(d.wchan)}), typically a hung NFS mount, disk or GPU driver call; SIGKILL takes effect only when that call returns.`;
      case 'gpu-unowned':
        return d.memoryKnown
          ? 'GPU memory is held by a process that no live run owns: schedulers and other users see that GPU as busy.'
          : 'A GPU device is held open by a process that no live run owns; it may hold a CUDA context and memory that no probe here could report.';
      case 'idle-gpu':
        return 'It holds GPU memory and uses no CPU: a finished or hung worker rather than one at work.';
      case 'escaped-tmux':
        return `A job of run ${str(d.runId)} most likely ran \`tmux new-window\` (or split-window) inside your tmux: the command went to your own tmux server (pid ${str(d.tmuxServerPid)}), which started it outside the run's cgroup, session and process tree and without its markers, so no teardown could find it. The evidence is its start during the run in the run's directory ${str(d.cwd)}; check it is not a window you opened yourself before reaping it by pid.`;
      case 'renamed':
        return `It renamed itself (argv[0] is \`${str(d.argv0)}\`, the executable is \`${str(d.exe)}\`): \`ps aux | grep\` or \`pkill -f\` by the original command line misses it; select it by pid.`;
    }
  },
  event(e) {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const job = e.jobId ? e.jobId.slice(e.jobId.lastIndexOf('.') + 1) : '';
    if (e.kind === 'process-start') return '**this process started**';
    if (e.kind === 'run-start') return `run ${e.runId} started${e.run?.name ? ` (${e.run.name})` : ''}${e.run?.user ? ` by ${e.run.user}` : ''}`;
    if (e.kind === 'run-end') return `run ${e.runId} ended: ${EN.runStatus(e.run?.status ?? '?')}, ${EN.stopReason(e.run?.stopReason ?? null)}`;
    switch (e.event) {
      case 'attempt-start':
        return `job ${job} attempt ${str(d.n)} started (leader pid ${str(d.pid)})`;
      case 'attempt-end':
        return `job ${job} attempt ${str(d.n)} ended: ${EN.stopReason(d.reason as string)}${d.exitCode !== null && d.exitCode !== undefined ? `, exit code ${str(d.exitCode)}` : ''}${d.signal ? `, signal ${str(d.signal)}` : ''}; ${str(d.members)} process(es) stopped, ${str(d.leftovers)} left`;
      case 'supervisor-lost':
        return `supervisor lost: the sentinel stopped ${str(d.members)} process(es), ${Array.isArray(d.leftovers) ? d.leftovers.length : str(d.leftovers)} left`;
      case 'reap':
        return `corral reap: ${str(d.killed)} process(es) stopped, ${str(d.remaining)} left`;
      default:
        return `${job ? `job ${job}: ` : ''}${e.event}`;
    }
  },
  r: {
    title: 'corral stray report',
    scanned: (host, at, p, s) => `Host **${host}**, scanned ${at}: ${p} processes, **${s} stray${s === 1 ? '' : 's'}**.`,
    sampled: (ms) => `CPU use of GPU holders was sampled over ${formatDuration(ms)}.`,
    allowList: (src) => `Allow-list: built-in entries plus ${src}.`,
    gpuHeading: 'GPUs',
    noGpu: (probes) => `No GPU found on this machine (probes: ${probes}).`,
    gpuDevice: (i, name, used, total) => `GPU ${i} ${name}: ${used} used of ${total}`,
    summaryHeading: 'Summary',
    columns: { pid: 'PID', user: 'User', state: 'State', runtime: 'Runtime', gpu: 'GPU memory', severity: 'Severity', reasons: 'Reasons', run: 'Run / job', command: 'Command' },
    noStrays: 'No strays found.',
    strayHeading: (i, pid, cmd) => `${i}. PID ${pid}: \`${cmd}\``,
    factsHeading: 'Facts',
    pidPpid: 'PID / PPID',
    orphaned: 'Orphaned',
    orphanedInit: 'yes: re-parented to init (pid 1)',
    orphanedSubreaper: (ppid, comm) => `yes: re-parented to pid ${ppid} (${comm}), a subreaper that did not start it`,
    user: 'User',
    sudo: (user, uid) => `launched via sudo by ${user} (uid ${uid})`,
    started: 'Started',
    runtime: 'Runtime',
    command: 'Command line',
    rewritten: (a0, exe) => `rewritten by the process itself: argv[0] is \`${a0}\`, the executable is \`${exe}\``,
    exe: 'Executable',
    gpu: 'GPU memory',
    gpuUse: (dev, b, paths) => (b !== null ? `GPU ${dev}: ${b}` : `GPU ${dev}: device open, memory not reported`) + (paths ? ` (${paths})` : ''),
    state: 'State',
    wchan: (w) => `waiting in kernel function ${w}`,
    reasons: 'Stray reasons',
    attribution: 'Attributed to',
    attributedTo: (run, job, via) => `run ${run}${job ? `, job ${job}` : ''} (from ${via})`,
    notInLedger: 'not in this ledger',
    unattributed: 'no corral run',
    activeAtStart: (runs) => `runs active when it started: ${runs}`,
    noRunsActive: 'no corral run was active when it started',
    cgroup: 'cgroup',
    allowListed: 'Allow-listed',
    parentHeading: 'Parent',
    parentLine: (pid, comm, user, state) => `PID ${pid} \`${comm}\` (user ${user}, state ${state})`,
    parentInit: 'init (pid 1): the process that started it is gone.',
    parentMissing: (ppid) => `PID ${ppid} is not visible.`,
    timelineHeading: 'Timeline',
    omitted: (k) => `… ${k} more events left out`,
    causesHeading: 'Likely causes',
    noCauses: 'The evidence points to no particular cause.',
    verifyHeading: 'Verify',
    verifyIntro: 'Check the facts yourself before acting:',
    actionHeading: 'Action',
    actionIntro: "Preview, then reap. The whole subtree goes through corral's one teardown routine (stop signal and SIGCONT, grace period, SIGKILL, verified gone):",
    actionZombie: (ppid) => `A zombie is already dead and cannot be killed; it disappears when its parent reaps it or exits. Reap the parent (pid ${ppid}) if it is itself left over:`,
    actionZombieInit: 'A zombie is already dead and cannot be killed, and its parent is init: nothing to do but report it.',
    actionRun: (run) => `Or reap everything left of run ${run}:`,
    allHeading: 'Reap everything in this report',
    allIntro: 'Preview first; --yes confirms when there is no terminal to ask on:',
    footer: (v) => `Generated by corral ${v}.`,
  },
};
