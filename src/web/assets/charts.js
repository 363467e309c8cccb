// The timeline charts: uPlot (served by corral itself) over the samples the page has collected.
'use strict';
(function () {
  const COLOURS = ['#2b7bb9', '#d9534f', '#5cb85c', '#f0ad4e', '#8e44ad', '#16a085', '#c0392b', '#7f8c8d', '#2c3e50', '#e67e22'];
  const charts = new Map();

  function options(el, labels) {
    return {
      width: Math.max(300, el.clientWidth || 600),
      height: 220,
      series: [{}, ...labels.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 1.5, points: { show: false } }))],
      axes: [{}, { label: 'MiB', size: 60 }],
      scales: { x: { time: true } },
      legend: { live: true },
    };
  }

  /**
   * Draws one chart: xs are seconds since the epoch, series maps a label to one value per x. The chart is
   * made again only when its set of labels changes (a new user appears); otherwise only its data is set.
   */
  function draw(id, xs, series) {
    const el = document.getElementById(id);
    if (!el || typeof uPlot === 'undefined') return;
    const labels = Object.keys(series).sort();
    const key = labels.join('\u0000');
    const data = [xs, ...labels.map((l) => series[l])];
    let chart = charts.get(id);
    if (chart && chart.key !== key) {
      chart.plot.destroy();
      chart = undefined;
    }
    if (!chart) {
      chart = { key, plot: new uPlot(options(el, labels), data, el) };
      charts.set(id, chart);
    } else {
      chart.plot.setData(data);
    }
    el.dataset.points = String(xs.length);
  }

  window.addEventListener('resize', () => {
    for (const [id, chart] of charts) {
      const el = document.getElementById(id);
      if (el) chart.plot.setSize({ width: Math.max(300, el.clientWidth || 600), height: 220 });
    }
  });

  window.corralCharts = { draw };
})();
