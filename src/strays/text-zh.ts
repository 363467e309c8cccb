import { formatBytes } from './gpu-view.ts';
import type { StrayText } from './text.ts';

const STATES: Record<string, string> = {
  R: '运行中', S: '睡眠', D: '不可中断睡眠', T: '已停止', t: '被调试器停止', Z: '僵尸', X: '已死亡', I: '空闲', W: '换页中', P: '已驻留',
};
const STATUSES: Record<string, string> = { running: '运行中', succeeded: '成功', failed: '失败', interrupted: '被中断', stopped: '已停止', lost: '已丢失' };
const STOPS: Record<string, string> = {
  exited: '正常退出', timeout: '超时', 'max-runtime': '达到最长运行时间', signal: '收到信号', 'main-ended': '主作业已结束',
  'supervisor-lost': '监督进程丢失', 'spawn-failed': '无法启动', halted: '已中止', 'internal-error': '内部错误',
};
const VIA: Record<string, string> = {
  marker: '环境变量标记 CORRAL_RUN_ID', registry: '该运行的进程登记表', cgroup: '该运行的 cgroup', supervisor: '它是该运行的监督进程',
  sentinel: '它是该运行的哨兵进程', ancestor: '它的某个祖先进程属于该运行',
};

const n = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0));
const str = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
const bytes = (v: unknown) => formatBytes(n(v));

export const ZH: StrayText = {
  lang: 'zh',
  reason: { 'run-ended': '运行已结束', orphan: '孤儿进程', stopped: '已停止', zombie: '僵尸进程', unkillable: '无法终止', 'gpu-holder': '占用 GPU', 'idle-gpu-holder': '空闲占用 GPU', 'escaped-tmux': '经 tmux 逃逸' },
  severity: { info: '提示', warning: '警告', critical: '严重' },
  yes: '是',
  no: '否',
  unknown: '未知',
  none: '无',
  colon: '：',
  semi: '；',
  paren: (x) => `（${x}）`,
  state: (c) => `${c}（${STATES[c] ?? '未知状态'}）`,
  runStatus: (s) => STATUSES[s] ?? s,
  stopReason: (r) => (r ? (STOPS[r] ?? r) : '未记录'),
  via: (how) => VIA[how] ?? how,
  explain(h) {
    const d = h.data;
    switch (h.reason) {
      case 'run-ended':
        if (!d.known) return `带有运行 ${str(d.runId)} 的标记，但本账本中没有该运行，且它上方已没有监督进程`;
        if (d.status === 'running') return `运行 ${str(d.runId)} 仍标记为运行中，但它的监督进程和哨兵进程都已不存在`;
        return `运行 ${str(d.runId)} 已结束（${ZH.runStatus(str(d.status))}，${ZH.stopReason(d.stopReason as string | null)}），本进程却仍然存活`;
      case 'orphan':
        return d.adoptedBy === 'init'
          ? '父进程已退出，它被 init（PID 1）收养'
          : `被 PID ${str(d.ppid)}（${str(d.parentComm)}）收养，这是一个并未启动它的 subreaper`;
      case 'stopped':
        return d.traced ? '被调试器停止（状态 t）' : '已停止（状态 T）：它不做任何事，只有收到 SIGCONT 后才会响应 SIGTERM';
      case 'zombie':
        return `僵尸进程：父进程 PID ${str(d.parentPid)}（${str(d.parentComm)}）没有回收它`;
      case 'unkillable':
        return `处于不可中断睡眠（D），阻塞在内核函数 ${str(d.wchan)} 中；该调用返回之前任何信号都不起作用`;
      case 'gpu-holder':
        return n(d.bytes) > 0
          ? `在 GPU ${str(d.devices)} 上占用 ${bytes(d.bytes)} 显存，且没有存活的 corral 运行拥有它`
          : `打开了 GPU 设备 ${str(d.devices)}（显存用量未报告），且没有存活的 corral 运行拥有它`;
      case 'idle-gpu-holder':
        return `在 GPU ${str(d.devices)} 上占用${n(d.bytes) > 0 ? ` ${bytes(d.bytes)} 显存` : '一个 GPU 设备'}，并且在 ${str(d.sampleMs)} 毫秒内没有使用任何 CPU`;
      case 'escaped-tmux':
        return `疑似：tmux 服务器 PID ${str(d.tmuxServerPid)} 的一个窗口，在运行 ${str(d.runId)} 进行期间启动，工作目录与该运行相同（${str(d.cwd)}）；该运行已结束（${ZH.runStatus(str(d.runStatus))}）`;
    }
  },
  cause(c) {
    const d = c.data;
    switch (c.id) {
      case 'supervisor-lost':
        return d.sentinelRan
          ? `运行 ${str(d.runId)} 以“监督进程丢失”结束：监督进程在执行自身清理之前就已死亡（SIGKILL、OOM killer 或崩溃）。哨兵进程执行了清理，但本进程逃过了这次清理。`
          : `运行 ${str(d.runId)} 的监督进程和哨兵进程都已丢失，没有任何进程负责停止它的子进程：运行器在执行 \`finally:\` 清理之前就已死亡。`;
      case 'survived-teardown':
        return `运行 ${str(d.runId)} 已结束（${ZH.runStatus(str(d.status))}，${ZH.stopReason(d.stopReason as string | null)}），但本进程逃过了清理：它无法被发送信号，或者没有被找到（参见其他原因）。`;
      case 'escaped-group':
        return `它离开了所属作业的进程组和会话（它的 pgid 为 ${str(d.pgid)}、sid 为 ${str(d.sid)}；作业主进程的 pgid 为 ${str(d.leaderPgid)}、sid 为 ${str(d.leaderSid)}），因此按进程组杀死作业时漏掉了它。`;
      case 'other-user':
        return d.viaSudo
          ? `它以 ${str(d.owner)} 身份运行，因为它是由 ${str(d.cleaner)} 通过 sudo 启动的：以 ${str(d.cleaner)} 身份运行的清理程序向它发送信号时会得到 EPERM。`
          : `它以 ${str(d.owner)} 身份运行，而不是运行该作业的 ${str(d.cleaner)}：以 ${str(d.cleaner)} 身份运行的清理程序向它发送信号时会得到 EPERM。`;
      case 'needs-sigcont':
        return '它处于停止状态（T）：在收到 SIGCONT 之前，SIGTERM 会一直挂起，所以只发送 SIGTERM 的清理程序会把它留下。`corral reap` 会在发送停止信号的同时发送 SIGCONT。';
      case 'no-max-runtime':
        return `作业 ${str(d.job)} 设置了自动重启（--restart ${str(d.restart)}）却没有 --max-runtime：没有上限的重启循环会不断地重新启动它。`;
      case 'restart-loop':
        return `它的父进程 PID ${str(d.parentPid)} 是一个没有最长运行时间限制的 shell 重启循环（\`${str(d.parentCommand)}\`）：程序每次结束都会被重新启动。`;
      case 'parent-exited':
        return '它的父进程退出时没有停止它：可能是 `finally:` 代码块没有执行、父进程被 SIGKILL 杀死，或者是有意使用 nohup 或守护进程方式启动的。';
      case 'zombie-parent':
        return d.parentIsInit
          ? '它的父进程是 init（PID 1），而本机的 init 不回收僵尸进程；任何信号都无法移除它，只有 init 可以。'
          : `它的父进程 PID ${str(d.parentPid)}（${str(d.parentComm)}）从不调用 wait()：停止这个父进程即可消除该僵尸进程。`;
      case 'kernel-wait':
        return `它阻塞在内核中（wchan ${str(d.wchan)}），通常是 NFS 挂载、磁盘或 GPU 驱动调用卡住了；只有该调用返回后 SIGKILL 才会生效。`;
      case 'gpu-unowned':
        return d.memoryKnown
          ? '显存被一个不属于任何存活运行的进程占用：调度器和其他用户都会认为这块 GPU 正忙。'
          : '一个不属于任何存活运行的进程打开了 GPU 设备；它可能持有 CUDA 上下文和显存，而这里的探测手段无法报告其用量。';
      case 'idle-gpu':
        return '它占用显存却不使用任何 CPU：这是一个已经结束或卡住的工作进程，而不是正在工作的进程。';
      case 'escaped-tmux':
        return `运行 ${str(d.runId)} 的某个作业很可能在你的 tmux 里执行了 \`tmux new-window\`（或 split-window）：命令交给了你自己的 tmux 服务器（PID ${str(d.tmuxServerPid)}），由它在该运行的 cgroup、会话和进程树之外启动，且不带运行标记，因此任何清理都找不到它。证据是它在运行期间、在该运行的目录 ${str(d.cwd)} 中启动；按 PID 清理之前，请确认这不是你自己打开的窗口。`;
      case 'renamed':
        return `它改写了自己的进程名（argv[0] 为 \`${str(d.argv0)}\`，实际可执行文件为 \`${str(d.exe)}\`）：按原始命令行执行 \`ps aux | grep\` 或 \`pkill -f\` 都找不到它，请按 PID 选择它。`;
    }
  },
  event(e) {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const job = e.jobId ? e.jobId.slice(e.jobId.lastIndexOf('.') + 1) : '';
    if (e.kind === 'process-start') return '**本进程启动**';
    if (e.kind === 'run-start') return `运行 ${e.runId} 启动${e.run?.name ? `（名称 ${e.run.name}）` : ''}${e.run?.user ? `，用户 ${e.run.user}` : ''}`;
    if (e.kind === 'run-end') return `运行 ${e.runId} 结束：${ZH.runStatus(e.run?.status ?? '?')}，${ZH.stopReason(e.run?.stopReason ?? null)}`;
    switch (e.event) {
      case 'attempt-start':
        return `作业 ${job} 第 ${str(d.n)} 次尝试启动（主进程 PID ${str(d.pid)}）`;
      case 'attempt-end':
        return `作业 ${job} 第 ${str(d.n)} 次尝试结束：${ZH.stopReason(d.reason as string)}${d.exitCode !== null && d.exitCode !== undefined ? `，退出码 ${str(d.exitCode)}` : ''}${d.signal ? `，信号 ${str(d.signal)}` : ''}；停止了 ${str(d.members)} 个进程，剩余 ${str(d.leftovers)} 个`;
      case 'supervisor-lost':
        return `监督进程丢失：哨兵进程停止了 ${str(d.members)} 个进程，剩余 ${Array.isArray(d.leftovers) ? d.leftovers.length : str(d.leftovers)} 个`;
      case 'reap':
        return `corral reap：停止了 ${str(d.killed)} 个进程，剩余 ${str(d.remaining)} 个`;
      default:
        return `${job ? `作业 ${job}：` : ''}${e.event}`;
    }
  },
  r: {
    title: 'corral 残留进程分析报告',
    scanned: (host, at, p, s) => `主机 **${host}**，扫描时间 ${at}：共 ${p} 个进程，**发现 ${s} 个残留进程**。`,
    sampled: (ms) => `已在 ${ms} 毫秒内采样 GPU 占用进程的 CPU 使用情况。`,
    allowList: (src) => `白名单：内置条目，以及 ${src} 中的条目。`,
    gpuHeading: 'GPU',
    noGpu: (probes) => `本机未发现 GPU（探测结果：${probes}）。`,
    gpuDevice: (i, name, used, total) => `GPU ${i} ${name}：已用 ${used}，共 ${total}`,
    summaryHeading: '概览',
    columns: { pid: 'PID', user: '用户', state: '状态', runtime: '运行时长', gpu: '显存', severity: '严重程度', reasons: '原因', run: '运行 / 作业', command: '命令行' },
    noStrays: '未发现残留进程。',
    strayHeading: (i, pid, cmd) => `${i}. 进程 ${pid}：\`${cmd}\``,
    factsHeading: '基本信息',
    pidPpid: 'PID / 父进程 PID',
    orphaned: '是否为孤儿进程',
    orphanedInit: '是：已被 init（PID 1）收养',
    orphanedSubreaper: (ppid, comm) => `是：已被 PID ${ppid}（${comm}）收养，这是一个并未启动它的 subreaper`,
    user: '用户',
    sudo: (user, uid) => `由 ${user}（uid ${uid}）通过 sudo 启动`,
    started: '启动时间',
    runtime: '已运行',
    command: '命令行',
    rewritten: (a0, exe) => `命令行已被进程自行改写：argv[0] 为 \`${a0}\`，实际可执行文件为 \`${exe}\``,
    exe: '可执行文件',
    gpu: '显存',
    gpuUse: (dev, b, paths) => (b !== null ? `GPU ${dev}：${b}` : `GPU ${dev}：已打开设备，显存用量未报告`) + (paths ? `（${paths}）` : ''),
    state: '状态',
    wchan: (w) => `阻塞于内核函数 ${w}`,
    reasons: '判定原因',
    attribution: '归属',
    attributedTo: (run, job, via) => `运行 ${run}${job ? `，作业 ${job}` : ''}（依据：${via}）`,
    notInLedger: '不在本账本中',
    unattributed: '不属于任何 corral 运行',
    activeAtStart: (runs) => `它启动时正在进行的运行：${runs}`,
    noRunsActive: '它启动时没有正在进行的 corral 运行',
    cgroup: 'cgroup',
    allowListed: '白名单',
    parentHeading: '父进程',
    parentLine: (pid, comm, user, state) => `PID ${pid} \`${comm}\`（用户 ${user}，状态 ${state}）`,
    parentInit: 'init（PID 1）：启动它的进程已经不存在。',
    parentMissing: (ppid) => `PID ${ppid} 不可见。`,
    timelineHeading: '时间线',
    omitted: (k) => `…… 省略了 ${k} 条事件`,
    causesHeading: '可能原因',
    noCauses: '现有证据不指向任何特定原因。',
    verifyHeading: '验证命令',
    verifyIntro: '采取行动之前，可以用以下命令自行核实：',
    actionHeading: '处理方法',
    actionIntro: '先预览，再清理。整个子进程树都会经过 corral 唯一的停止流程（停止信号与 SIGCONT、宽限期、SIGKILL、确认已退出）：',
    actionZombie: (ppid) => `僵尸进程已经死亡，无法被杀死；它会在父进程回收它或父进程退出时消失。如果父进程（PID ${ppid}）本身也是残留进程，请清理父进程：`,
    actionZombieInit: '僵尸进程已经死亡，无法被杀死，而它的父进程是 init：除报告之外无事可做。',
    actionRun: (run) => `或者清理运行 ${run} 留下的全部进程：`,
    allHeading: '一次清理本报告中的全部进程',
    allIntro: '请先预览；在没有终端可供确认时，用 --yes 表示确认：',
    footer: (v) => `由 corral ${v} 生成。`,
  },
};
