import { readFileSync } from 'node:fs';
import sea from 'node:sea';

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

/** The asset files, for the single-file build to embed (as SEA assets named `web/FILE`). */
export const ASSET_FILES: readonly string[] = Object.values(FILES).map((f) => f.file);

/**
 * Read once at start (a fixed list, about 70 KB): a request never names a path on disk. The single-file
 * binary has no files beside it (nor import.meta.url): there they are its embedded assets `web/FILE`.
 */
export function loadAssets(): Map<string, Asset> {
  const read = sea.isSea() ? (file: string) => Buffer.from(sea.getAsset(`web/${file}`)) : (file: string) => readFileSync(new URL(`./assets/${file}`, import.meta.url));
  const out = new Map<string, Asset>();
  for (const [route, { file, type }] of Object.entries(FILES)) out.set(route, { type, body: read(file) });
  return out;
}
