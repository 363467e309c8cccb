// The page's loop: poll the API (the server scans at most once per interval, however many pages ask),
// redraw only the sections whose data changed, and extend the timeline with the samples not seen yet.
'use strict';
(function () {
  const views = window.corralViews;
  const status = document.getElementById('status');
  const last = {};
  const timeline = { seq: 0, capacity: 4800, samples: [] };
  let intervalMs = 3000;

  async function get(path) {
    const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.text();
  }

  /** Draws a section only when its JSON differs from the last drawn: thousands of rows are not redone for nothing. */
  function update(name, text, draw) {
    if (last[name] === text) return;
    last[name] = text;
    draw(JSON.parse(text));
  }

  function series(key) {
    const labels = new Set();
    for (const s of timeline.samples) for (const k of Object.keys(s[key])) labels.add(k);
    const out = {};
    for (const l of labels) out[key === 'devices' ? 'GPU ' + l : l] = timeline.samples.map((s) => s[key][l] ?? null);
    return out;
  }

  function drawTimeline(body) {
    intervalMs = Math.max(1000, body.intervalMs || intervalMs);
    timeline.capacity = body.capacity || timeline.capacity;
    if (!body.samples.length) return;
    timeline.samples.push(...body.samples);
    timeline.seq = body.samples[body.samples.length - 1].seq;
    if (timeline.samples.length > timeline.capacity) timeline.samples.splice(0, timeline.samples.length - timeline.capacity);
    const xs = timeline.samples.map((s) => s.at / 1000);
    window.corralCharts.draw('timeline-devices', xs, series('devices'));
    window.corralCharts.draw('timeline-users', xs, series('users'));
  }

  async function poll() {
    try {
      const [gpus, strays, runs, guard, tl] = await Promise.all(['/api/gpus', '/api/strays', '/api/runs', '/api/guard', '/api/timeline?after=' + timeline.seq].map(get));
      update('gpus', gpus, views.renderGpus);
      update('strays', strays, (v) => {
        document.getElementById('host').textContent = window.corralDom.visible(v.host);
        views.renderStrays(v);
      });
      update('runs', runs, views.renderRuns);
      update('guard', guard, views.renderGuard);
      drawTimeline(JSON.parse(tl));
      const scan = JSON.parse(strays);
      status.textContent = `updated ${new Date().toLocaleTimeString()}, scan of ${scan.processes} processes took ${scan.scanMs} ms`;
      status.className = '';
      document.body.dataset.loaded = 'true';
    } catch (e) {
      status.textContent = `cannot reach corral ui: ${e.message}; retrying`;
      status.className = 'error';
    }
    setTimeout(poll, intervalMs);
  }

  poll();
})();
