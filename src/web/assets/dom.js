// Building the page from data that users control (process names, commands, run names, log lines):
// every string becomes a text node, never markup, and control or invisible characters are shown as
// visible escapes, as the command line shows them (src/cli/output.ts visible()).
'use strict';
(function () {
  // C0/C1 controls, DEL, bidi embeddings/overrides/isolates, marks, zero-width and line separators
  const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  const NAMED = { '\x1b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x07': '\\a', '\b': '\\b' };

  function visible(text) {
    return String(text ?? '').replace(UNSAFE, (c) => {
      if (NAMED[c]) return NAMED[c];
      const code = c.charCodeAt(0);
      return code < 0x100 ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16).padStart(4, '0');
    });
  }

  /** el('td', { class: 'x', data: { pid: 1 }, title: 't' }, 'text', otherNode) */
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
      else if (k === 'title') e.title = visible(v);
      else if (k === 'onclick') e.addEventListener('click', v);
      else if (k === 'style') Object.assign(e.style, v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(visible(c)));
    }
    return e;
  }

  function bytes(n) {
    if (n === null || n === undefined) return '?';
    if (n >= 2 ** 30) return (n / 2 ** 30).toFixed(1) + ' GiB';
    return Math.round(n / 2 ** 20) + ' MiB';
  }

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
    return Math.floor(s / 86400) + 'd' + Math.floor((s % 86400) / 3600) + 'h';
  }

  function time(value) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
  }

  /** Replaces a container's children; a table body given as rows. */
  function fill(target, nodes) {
    target.replaceChildren(...nodes);
  }

  /** A command a person copies: selectable text and a button that puts it on the clipboard. */
  function copyable(text) {
    const code = el('code', { class: 'copy-text' }, text);
    const button = el('button', { type: 'button', class: 'copy', title: 'copy to the clipboard', onclick: () => navigator.clipboard?.writeText(text).then(() => (button.textContent = 'copied'), () => undefined) }, 'copy');
    return el('span', { class: 'copyable' }, code, ' ', button);
  }

  window.corralDom = { visible, el, bytes, duration, time, fill, copyable };
})();
