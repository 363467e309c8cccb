// The page's sections, each drawn from one API answer (the same JSON as the command line's --json).
'use strict';
(function () {
  const { el, bytes, duration, time, fill, copyable } = window.corralDom;
  const MAX_ROWS = 500;

  function runJob(runId, jobId) {
    if (!runId) return '';
    return jobId && jobId.startsWith(runId + '.') ? runId + '/' + jobId.slice(runId.length + 1) : runId;
  }

  function segment(p, total) {
    const kind = p.reasons.length ? 'stray' : p.runId ? 'run' : 'other';
    const pct = total ? Math.max(0.5, (100 * (p.usedBytes || 0)) / total) : 0;
    const owner = p.runId ? runJob(p.runId, p.jobId) + (p.runLive === false ? ' (ended)' : '') : 'no corral run';
    const title = `pid ${p.pid} ${p.user}: ${bytes(p.usedBytes)}, ${owner}${p.reasons.length ? ', stray: ' + p.reasons.join(',') : ''}\n${p.command}`;
    return el('span', { class: 'segment ' + kind, data: { pid: p.pid }, title, style: { width: pct + '%' } }, pct > 8 ? p.user : '');
  }

  function gpuCard(title, total, used, procs, util) {
    const bar = el('div', { class: 'bar', role: 'img', 'aria-label': `${bytes(used)} of ${bytes(total)} used` }, procs.filter((p) => p.usedBytes).map((p) => segment(p, total)));
    const rows = procs.map((p) => el('tr', { class: p.reasons.length ? 'stray' : '', data: { pid: p.pid } },
      el('td', {}, String(p.pid)), el('td', {}, p.user), el('td', { class: 'num' }, bytes(p.usedBytes)), el('td', {}, p.kind),
      el('td', {}, runJob(p.runId, p.jobId) + (p.runId && p.runLive === false ? ' (ended)' : '')),
      el('td', { class: 'reasons' }, p.reasons.join(',')), el('td', { class: 'cmd' }, p.command)));
    const table = procs.length ? el('table', { class: 'procs' }, el('thead', {}, el('tr', {}, ['PID', 'USER', 'MEMORY', 'KIND', 'RUN/JOB', 'STRAY', 'COMMAND'].map((h) => el('th', {}, h)))), el('tbody', {}, rows)) : el('p', { class: 'muted' }, 'no processes');
    return el('div', { class: 'gpu' }, el('div', { class: 'gpu-head' }, el('strong', {}, title), el('span', { class: 'gpu-mem' }, (total ? `${bytes(used)} / ${bytes(total)}` : '') + (util !== undefined ? ` · ${util}% busy` : ''))), bar, table);
  }

  function renderGpus(view) {
    const target = document.getElementById('gpus');
    if (!view.devices.length && !view.processes.length) {
      const why = view.probes.map((p) => `${p.name}: ${p.ok ? 'ok' : p.error || 'failed'}`).join('; ');
      return fill(target, [el('p', { class: 'muted' }, `no GPU devices found (${why})`)]);
    }
    const cards = view.devices.map((d) => {
      const procs = view.processes.filter((p) => p.device === d.index);
      const used = d.memUsedBytes ?? procs.reduce((s, p) => s + (p.usedBytes || 0), 0);
      return gpuCard(`GPU ${d.index} ${d.name || ''}`, d.memTotalBytes, used, procs, d.utilPercent);
    });
    const unknown = view.processes.filter((p) => p.device < 0 || !view.devices.some((d) => d.index === p.device));
    if (unknown.length) cards.push(gpuCard('device not known (holders found in /proc)', 0, 0, unknown));
    fill(target, cards);
  }

  function renderStrays(view) {
    const list = view.strays;
    document.getElementById('stray-count').textContent = list.length ? `${list.length} among ${view.processes} processes` : `none among ${view.processes} processes`;
    const rows = list.slice(0, MAX_ROWS).map((s) => el('tr', { class: 'sev-' + s.severity, data: { pid: s.pid } },
      el('td', {}, String(s.pid)), el('td', {}, s.user), el('td', {}, s.state), el('td', {}, duration(s.runtimeMs)),
      el('td', { class: 'num' }, s.gpu.length ? (s.gpuBytes ? bytes(s.gpuBytes) : 'device') : ''), el('td', { class: 'severity' }, s.severity),
      el('td', { class: 'reasons' }, s.reasons.map((r) => r.reason).join(',')), el('td', {}, runJob(s.attribution.runId, s.attribution.jobId)),
      el('td', { class: 'cmd' }, s.command + (s.rewritten ? ' [renamed]' : '')),
      el('td', {}, view.reapCommands[String(s.pid)] ? copyable(view.reapCommands[String(s.pid)]) : '')));
    if (list.length > MAX_ROWS) rows.push(el('tr', {}, el('td', { colspan: 10, class: 'muted' }, `${list.length - MAX_ROWS} more: corral strays`)));
    fill(document.querySelector('#strays tbody'), rows);
  }

  function tree(nodes) {
    return el('ul', { class: 'tree' }, nodes.map((n) => el('li', { data: { pid: n.pid } },
      el('span', { class: 'proc' }, `${n.pid}  ${n.state}  ${n.cpuPercent.toFixed(1)}%  ${bytes(n.rssBytes)}  ${duration(n.ageMs)}  `), el('span', { class: 'cmd' }, n.command),
      n.children.length ? tree(n.children) : null)));
  }

  function renderRuns(view) {
    const live = view.live.map((r) => el('div', { class: 'run', data: { runId: r.id } },
      el('div', { class: 'run-head' }, el('strong', {}, r.id), r.name ? ' ' + r.name : '', `  ${r.kind}, ${r.status}, up ${duration(r.upMs)}, supervisor ${r.supervisorPid ?? '?'}`,
        r.strays ? el('span', { class: 'warn' }, `  LOST: ${r.strays} stray(s) left: corral stop ${r.id}`) : '', ' ', el('button', { type: 'button', onclick: () => showLogs(r.id) }, 'log tail')),
      r.jobs.map((j) => el('div', { class: 'job' }, el('div', {}, el('span', { class: 'job-name' }, j.name), ` [${j.role}] ${j.state}${j.attempts > 1 ? ', attempt ' + j.attempts : ''}`), tree(j.processes)))));
    fill(document.getElementById('live-runs'), live.length ? live : [el('p', { class: 'muted' }, 'no live runs')]);
    const rows = view.history.map((r) => el('tr', { class: 'status-' + r.status, data: { runId: r.id } },
      el('td', {}, r.id), el('td', {}, r.name || ''), el('td', {}, r.kind), el('td', {}, time(r.startedAt)),
      el('td', {}, r.status + (r.strays !== null ? ` (${r.strays} strays)` : '')), el('td', {}, r.stopReason || ''), el('td', {}, r.exitCode === null ? '' : String(r.exitCode)),
      el('td', { class: 'cmd' }, r.argv.join(' ')), el('td', {}, el('button', { type: 'button', onclick: () => showLogs(r.id) }, 'logs'))));
    fill(document.querySelector('#history tbody'), rows);
  }

  function renderGuard(actions) {
    const rows = actions.map((a) => el('tr', { class: 'action-' + a.action },
      el('td', {}, time(a.at)), el('td', {}, a.action), el('td', {}, a.outcome), el('td', {}, String(a.pid)), el('td', {}, a.user), el('td', {}, a.reason),
      el('td', { class: 'num' }, a.gpuBeforeMiB !== undefined ? `${a.gpuBeforeMiB} → ${a.gpuAfterMiB ?? '?'}` : ''), el('td', { class: 'cmd' }, a.command || '')));
    fill(document.querySelector('#guard tbody'), rows.length ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no guard actions (corral guard run records them)'))]);
  }

  /** one text node: each line escaped on its own, the line breaks kept */
  function logText(lines) {
    const pre = el('pre');
    pre.textContent = lines.map((l) => window.corralDom.visible(l)).join('\n');
    return pre;
  }

  async function showLogs(runId) {
    const box = document.getElementById('run-logs');
    document.getElementById('run-logs-title').textContent = `log tail of ${runId}`;
    box.hidden = false;
    const res = await fetch('/api/logs?run=' + encodeURIComponent(runId), { credentials: 'same-origin' });
    const body = res.ok ? await res.json() : { jobs: [] };
    const parts = body.jobs.map((j) => el('div', { class: 'log' }, el('div', { class: 'muted' }, `${j.name}: ${j.path}`), logText(j.lines)));
    fill(document.getElementById('run-logs-body'), parts.length ? parts : [el('p', { class: 'muted' }, 'this run kept no logs (start runs with --log)')]);
  }

  window.corralViews = { renderGpus, renderStrays, renderRuns, renderGuard };
})();
