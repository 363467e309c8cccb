import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** Temp directories for pool files, removed when the test file ends. */
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'corral-config-'));
  dirs.push(dir);
  return dir;
}

/** Writes `pool.yaml` (and any extra files) to a fresh temp dir; returns the pool file's path. */
export function writePool(yaml: string, files: Record<string, string> = {}): string {
  const dir = makeTempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const path = join(dir, 'pool.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Joins lines into a YAML text, so that a case's line numbers can be read off the array. */
export function yamlLines(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
