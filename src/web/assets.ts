import { readFileSync } from 'node:fs';

/** What the page is made of, all served by corral itself: it works on a machine without internet. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/views.js': { file: 'views.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/vendor/uplot.iife.min.js': { file: 'vendor/uplot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/vendor/uplot.min.css': { file: 'vendor/uplot.min.css', type: 'text/css; charset=utf-8' },
};

export interface Asset {
  type: string;
  body: Buffer;
}

/** Read once at start (a fixed list, about 70 KB): a request never names a path on disk. */
export function loadAssets(dir = new URL('./assets/', import.meta.url)): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [route, { file, type }] of Object.entries(FILES)) out.set(route, { type, body: readFileSync(new URL(file, dir)) });
  return out;
}
